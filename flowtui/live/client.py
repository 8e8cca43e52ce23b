"""The inspector side of the live socket: a local mirror of a proxy's flows.

Why plain asyncio: the UI runs this in a worker and must never block on the socket,
and tests drive it without a UI. Changes reach the caller as small `LiveEvent`s,
through a callback or a bounded `asyncio.Queue`; when the queue is full the pending
events collapse into one ``reset`` of the whole mirror, so the reader can fall behind
without the client growing. A lost connection is retried with back-off, and the
proxy's ``flows/reset`` on reconnect is merged into the mirror: flows the proxy no
longer has are kept (marked not live), so nothing already shown disappears. The
mirror holds at most `max_memory` bytes of message content whatever the proxy sends:
past it the oldest flows are cut from their end and say so (see `flowtui.live.budget`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flowtui.core import Flow, HTTPFlow
from flowtui.core.messages import MessageFlow, StreamMessage
from flowtui.core.websocket import WebSocketMessage
from flowtui.live.budget import CUT_KEY, MESSAGE_COST, content_cost, cut_from_end, format_size
from flowtui.live.chunks import ChunkStream, open_chunk_connection
from flowtui.live.endpoints import parse_endpoint
from flowtui.live.held import apply_held
from flowtui.live.notes import DETACHED_KEY, INCOMPLETE_KEY
from flowtui.live.protocol import (
    WEBSOCKET_APPENDS,
    FrameDecoder,
    ProtocolError,
    check_hello,
    encode,
    hello,
    without_websocket_messages,
)

__all__ = ["MAX_MEMORY", "CommandError", "LiveClient", "LiveEvent"]

log = logging.getLogger("flowtui.live")

EventKind = Literal["reset", "add", "update", "remove", "status"]

YIELD_EVERY = 0.005
"""Seconds of reading and decoding after which the client lets the event loop run."""

MAX_MEMORY = 512 * 1024 * 1024
"""Default budget of message content the mirror holds (``flowtui attach --max-memory``)."""


@dataclass(frozen=True)
class LiveEvent:
    """One change of the mirror (or of the connection, for ``status``)."""

    kind: EventKind
    flows: tuple[Flow, ...] = ()
    """The affected flows (all of them for ``reset``)."""
    flow_id: str = ""
    """The removed flow's id (``remove``)."""
    status: str = ""
    """``connecting``, ``connected``, ``lost: reason``, ``refused: reason``; while waiting
    to reconnect the last one again with ``; retrying in Ns`` (``status``)."""


class CommandError(Exception):
    """The proxy refused a command, or the connection dropped before it answered."""


@dataclass
class _Held:
    """What one mirrored flow holds against the budget."""

    cost: int = 0
    """Its content plus `MESSAGE_COST` per message (what counts against the budget)."""
    received: int = 0
    """Content bytes the proxy sent for it (the current state's, for HTTP)."""
    kept: int = 0
    """Content bytes of it still held."""
    sealed: bool = False
    """A message flow was cut: its later messages are counted, not kept, so what is
    held is always its first messages, without holes."""


def _messages_from(cls: type[StreamMessage], states: list[Any]) -> list[Any]:
    """Messages from their states: the common well-formed state is checked with exact
    type tests (a flood brings hundreds of thousands a second); anything else goes
    through `from_state`, which raises `ValueError` with the reason."""
    out: list[Any] = []
    append = out.append
    for state in states:
        if type(state) is list and len(state) == 3:
            from_client, content, timestamp = state
            if (
                type(from_client) is bool
                and type(content) is bytes
                and (type(timestamp) is float or type(timestamp) is int)
            ):
                append(cls(from_client, content, timestamp))
                continue
        append(cls.from_state(state))
    return out


@dataclass
class _Pending:
    futures: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    next_rid: int = 1


class LiveClient:
    """Connects to a proxy's live socket and mirrors its flows."""

    def __init__(
        self,
        address: str,
        *,
        token: str | None = None,
        on_event: Callable[[LiveEvent], None] | None = None,
        queue_size: int = 1000,
        retry: bool = True,
        backoff: tuple[float, float] = (0.2, 5.0),
        timeout: float = 5.0,
        max_memory: int = MAX_MEMORY,
    ) -> None:
        self.endpoint = parse_endpoint(address)
        self.token = token
        self.on_event = on_event
        """Called for each event, if given (else read `events`)."""
        self.events: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=queue_size)
        """Bounded: when full, the pending events collapse into one ``reset``."""
        self.retry = retry
        self.backoff = backoff
        """(first, longest) seconds to wait before reconnecting, doubled per failure in a
        row; read at each retry, so a change applies to the next one."""
        self.timeout = timeout
        self.flows: dict[str, Flow] = {}
        """The mirror: every flow seen, by id, in arrival order."""
        self.status = "idle"
        self.intercept_filter: tuple[str, str] | None = None
        """The intercept filter this inspector last set on the proxy, with its
        direction (None: none set, or cleared)."""
        """The connection's last status (see `LiveEvent.status`)."""
        self.connected = asyncio.Event()
        """Set while attached (past the hello)."""
        self.retry_in: float | None = None
        """Seconds until the next attempt while waiting to reconnect, else None."""
        self.max_memory = max_memory
        """Most message content (bytes, see `flowtui.live.budget`) the mirror holds; past
        it the oldest flows holding content are cut from their end, and say so."""
        self.held = 0
        """What the mirror holds against `max_memory` now."""
        self._held: dict[str, _Held] = {}
        """Per flow id (flows with content, or cut)."""
        self._holding: dict[str, None] = {}
        """Ids of the flows holding content, oldest first: the order they are cut in."""
        self.proxy_session: str | None = None
        """The proxy's run as told in its hello (a change means it restarted)."""
        self.record: str | None = None
        """Where the proxy records every flow (its ``-w``), if it says."""
        self.on_detach: str | None = None
        """What the proxy does with intercepted flows when its last inspector detaches
        (``keep``, ``resume`` or ``kill``), if its hello says (optional field)."""
        self._restarted = False
        self.software = ""
        """The proxy's software as its hello says: ``flowtui`` (the relay) or ``mitmproxy``."""
        self.commands: frozenset[str] | None = None
        """The commands the proxy says it understands (None: it did not say, an older
        proxy: send it only the first protocol's commands)."""
        self._writer: ChunkStream | None = None
        self._pending = _Pending()
        self._stopped = False

    # -- public ---------------------------------------------------------------------

    async def run(self) -> None:
        """Stay attached until `stop()`: connect, mirror, reconnect with back-off."""
        failures = 0  # in a row; the delay is read from `backoff` each time
        while not self._stopped:
            try:
                await self._session()
            except ProtocolError as e:
                self._set_status(f"refused: {e}")
                if str(e).startswith(("refused by peer", "incompatible")) or not self.retry:
                    self._drop_connection()
                    return
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
                self._set_status(f"lost: {e or type(e).__name__}")
            if self.connected.is_set():
                failures = 0  # it was attached: start the back-off afresh
            self._drop_connection()
            if self._stopped or not self.retry:
                return
            delay = min(self.backoff[0] * 2**failures, self.backoff[1])
            failures += 1
            self.retry_in = delay
            self._set_status(f"{self.status}; retrying in {delay:g}s")
            await asyncio.sleep(delay)
            self.retry_in = None

    def stop(self) -> None:
        """End `run()` and close the socket."""
        self._stopped = True
        if self._writer is not None:
            self._writer.abort()

    async def command(self, kind: str, **args: Any) -> None:
        """Send a command (``intercept``, ``kill``, ``mark``, ...) and wait for its reply."""
        if self._writer is None or not self.connected.is_set():
            raise CommandError("not connected to the proxy")
        rid = self._pending.next_rid
        self._pending.next_rid += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.futures[rid] = future
        try:
            self._writer.write(encode({"type": kind, "rid": rid, **args}))
            await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except TimeoutError:
            raise CommandError(f"{kind}: no answer from the proxy") from None
        finally:
            self._pending.futures.pop(rid, None)

    async def intercept(self, flow_id: str) -> None:
        await self.command("intercept", id=flow_id)

    async def resume(self, flow_id: str) -> None:
        await self.command("resume", id=flow_id)

    async def resume_all(self) -> None:
        await self.command("resume_all")

    async def kill(self, flow_id: str) -> None:
        await self.command("kill", id=flow_id)

    async def mark(self, flow_id: str, marked: str = ":default:") -> None:
        await self.command("mark", id=flow_id, marked=marked)

    async def comment(self, flow_id: str, comment: str) -> None:
        await self.command("comment", id=flow_id, comment=comment)

    async def set_intercept(self, spec: str | None, direction: str = "both") -> None:
        """Set the proxy's intercept filter (None or ``""``: off); ``direction`` limits
        it to ``client`` (client to server) or ``server`` (server to client) messages.
        On success `intercept_filter` says what is set."""
        args: dict[str, Any] = {"filter": spec}
        if direction != "both":  # older proxies read only the filter
            args["direction"] = direction
        await self.command("set_intercept", **args)
        self.intercept_filter = (spec, direction) if spec else None

    async def inject(
        self, flow_id: str, to_client: bool, content: bytes, is_text: bool | None = None
    ) -> None:
        """Send a new message on a live connection: to its client (``to_client``) or to
        its server. ``is_text`` is for a WebSocket message (None: text when it is UTF-8).
        A proxy that does not know the command is not sent it (it would close the
        connection): `CommandError` says so instead."""
        self._require("inject", "inject messages")
        args: dict[str, Any] = {"id": flow_id, "to_client": to_client, "content": content}
        if is_text is not None:
            args["is_text"] = is_text
        await self.command("inject", **args)

    async def replay(self, flow_id: str) -> None:
        """Replay an HTTP flow through the proxy's own client replay (mitmproxy's): the
        replay arrives as a new flow. `CommandError` when the proxy cannot."""
        self._require("replay", "replay flows")
        await self.command("replay", id=flow_id)

    def can(self, command: str) -> bool:
        """Whether the proxy said it understands ``command`` (an older proxy lists
        nothing: only the commands of the first protocol are sent to it)."""
        return self.commands is not None and command in self.commands

    def _require(self, command: str, what: str) -> None:
        if self.connected.is_set() and not self.can(command):
            raise CommandError(
                f"this proxy cannot {what} (it is older than this flowtui: update the proxy "
                "side, flowtui proxy or the addon in mitmproxy)"
            )

    def _note_capabilities(self, hello_message: dict[str, Any]) -> None:
        """What the proxy's hello says about it: its software and its commands."""
        software = hello_message.get("software")
        self.software = software if isinstance(software, str) else ""
        commands = hello_message.get("commands")
        self.commands = (
            frozenset(c for c in commands if isinstance(c, str))
            if isinstance(commands, list)
            else None
        )

    async def edit_message(self, flow_id: str, index: int, content: bytes) -> None:
        """Replace the bytes held message ``index`` of a flow will be sent as (a dropped
        one is sent again, with these bytes)."""
        self._require("edit_message", "edit held messages")
        await self.command("edit_message", id=flow_id, index=index, content=content)

    async def drop_message(self, flow_id: str, index: int) -> None:
        """Drop held message ``index`` of a flow: it never reaches the peer."""
        self._require("drop_message", "drop held messages")
        await self.command("drop_message", id=flow_id, index=index)

    def adopt(self, flow: Flow, room: int | None = None) -> int:
        """Put ``flow``, a whole copy of a mirrored flow (from the proxy's recording, see
        `live.recording`), in place of the mirror's copy, counted against the budget like
        any flow: the oldest other flows are cut to make room if needed (each says so).
        ``room`` (default: the whole budget) is what it may cost at most; `ValueError`
        when it costs more (nothing changes), `KeyError` when the id is not mirrored.
        Returns how many other flows were cut for it."""
        if flow.id not in self.flows:
            raise KeyError(flow.id)
        cost, _content = content_cost(flow)
        limit = self.max_memory if room is None else min(room, self.max_memory)
        if cost > limit:
            budget = f"this inspector's --max-memory ({format_size(self.max_memory)})"
            if limit < self.max_memory:
                budget = f"the {format_size(limit)} left of {budget}"
            raise ValueError(f"the whole flow holds {format_size(cost)}, more than {budget}")
        before = {i: h.kept for i, h in self._held.items() if i != flow.id}
        flow.live = False
        self.flows[flow.id] = flow  # same key: its place in the order is kept
        self._measure(flow)  # last in the cutting order: the others are cut first
        cut = sum(1 for i, h in self._held.items() if i in before and h.kept < before[i])
        self._emit(LiveEvent("update", (flow,)))
        return cut

    # -- internals ------------------------------------------------------------------

    async def _session(self) -> None:
        self._set_status("connecting")
        ep = self.endpoint
        if ep.kind == "unix":
            opening = open_chunk_connection(path=ep.path)
        else:
            opening = open_chunk_connection(ep.host, ep.port)
        stream = await asyncio.wait_for(opening, self.timeout)
        self._writer = stream
        extra = {"token": self.token} if self.token is not None else {}
        features = [WEBSOCKET_APPENDS]
        stream.write(encode(hello("inspector", "flowtui", features=features, **extra)))
        decoder = FrameDecoder()
        greeted = False
        loop = asyncio.get_running_loop()
        slice_end = loop.time() + YIELD_EVERY
        while True:
            if loop.time() >= slice_end:
                # A read of buffered data returns without suspending: under a flood this
                # loop would keep the event loop (and the UI sharing it) to itself.
                await asyncio.sleep(0)
                slice_end = loop.time() + YIELD_EVERY
            # Each read is what the socket returned, as it was (no second buffer).
            data = await (asyncio.wait_for(stream.read(), self.timeout) if not greeted
                          else stream.read())  # fmt: skip
            if not data:
                raise OSError("the proxy closed the connection")
            for message in decoder.feed(data):
                if not greeted:
                    check_hello(message, "proxy")
                    greeted = True
                    session = message.get("session")
                    session = session if isinstance(session, str) else None
                    self._restarted = self.proxy_session is not None and (
                        session != self.proxy_session
                    )
                    self.proxy_session = session
                    record = message.get("record")
                    self.record = record if isinstance(record, str) and record else None
                    self._note_capabilities(message)
                    policy = message.get("on_detach")
                    self.on_detach = policy if policy in ("keep", "resume", "kill") else None
                    self.connected.set()
                    self._set_status("connected")
                    continue
                self._handle(message)

    def _drop_connection(self) -> None:
        self.connected.clear()
        if self._writer is not None:
            self._writer.abort()
            self._writer.close()
            self._writer = None
        for future in self._pending.futures.values():
            if not future.done():
                future.set_exception(CommandError("connection to the proxy lost"))
        self._pending.futures.clear()

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "reply":
            future = self._pending.futures.get(message["rid"])
            if future is not None and not future.done():
                if message["ok"]:
                    future.set_result(None)
                else:
                    future.set_exception(CommandError(str(message.get("error", "refused"))))
        elif kind == "error":
            raise ProtocolError(f"refused by peer: {message['message']}")
        elif kind == "flows/reset":
            forgotten = message.get("forgotten")
            self._reset(message["flows"], forgotten if isinstance(forgotten, list) else [])
        elif kind == "flows/add":
            flow = self._flow(message["flow"])
            self.flows[flow.id] = flow
            self._measure(flow)
            self._emit(LiveEvent("add", (flow,)))
        elif kind == "flows/update":
            self._update(message["id"], message["changes"])
        elif kind == "flows/append":
            flow_ = self.flows.get(message["id"])
            if isinstance(flow_, MessageFlow):
                try:
                    messages = _messages_from(flow_.message_class, message["messages"])
                except ValueError as e:
                    raise ProtocolError(f"invalid message for flow {flow_.id}: {e}") from None
                self._append(flow_, messages, flow_.messages)
                self._emit(LiveEvent("update", (flow_,)))
            elif isinstance(flow_, HTTPFlow) and flow_.websocket is not None:
                try:
                    ws = [WebSocketMessage.from_state(m) for m in message["messages"]]
                except (ValueError, TypeError) as e:
                    raise ProtocolError(f"invalid message for flow {flow_.id}: {e}") from None
                self._append(flow_, ws, flow_.websocket.messages)
                self._emit(LiveEvent("update", (flow_,)))
        elif kind == "flows/remove":
            if self.flows.pop(message["id"], None) is not None:
                self._release(message["id"])
                self._emit(LiveEvent("remove", flow_id=message["id"]))
        else:
            raise ProtocolError(f"unexpected message type {kind!r} from the proxy")

    @staticmethod
    def _flow(state: dict[str, Any]) -> Flow:
        live = state.pop("live", False)
        try:
            flow = Flow.from_state(state)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ProtocolError(f"invalid flow state: {e}") from None
        flow.live = live is True
        return flow

    def _reset(self, states: list[Any], forgotten: Sequence[Any] = ()) -> None:
        fresh = [self._flow(s) for s in states if isinstance(s, dict)]
        seen = {f.id for f in fresh}
        dropped: dict[str, tuple[int, int]] = {}
        for entry in forgotten:
            if (
                isinstance(entry, list)
                and len(entry) == 3
                and isinstance(entry[0], str)
                and isinstance(entry[1], int)
                and isinstance(entry[2], int)
            ):
                dropped[entry[0]] = (entry[1], entry[2])
        detached = incomplete = 0
        for old in self.flows.values():
            if old.id in seen:
                continue
            # The proxy no longer has it: keep what was shown, say what is missing.
            lost = dropped.get(old.id)
            if lost is not None and self._mark_incomplete(old, *lost):
                incomplete += 1
            if old.live or old.intercepted:
                if lost is None and not self._restarted:
                    why = "the proxy no longer has this flow"
                else:
                    why = "the proxy restarted" if self._restarted else "the proxy forgot it"
                old.metadata[DETACHED_KEY] = (
                    f"detached: {why} while it was live; it can no longer be resumed, "
                    "killed or changed"
                )
                old.live = False
                old.intercepted = False
                detached += 1
        for flow in fresh:
            self.flows[flow.id] = flow
            self._measure(flow)
        self._emit(LiveEvent("reset", tuple(self.flows.values())), force=True)
        notes = []
        if self._restarted:
            notes.append("the proxy restarted")
        if detached:
            notes.append(f"{detached} live flow{'s' if detached != 1 else ''} detached")
        if incomplete:
            notes.append(
                f"{incomplete} flow{'s' if incomplete != 1 else ''} incomplete "
                "(dropped by the proxy before they were received)"
            )
        self._restarted = False
        if notes:
            self._set_status("connected: " + "; ".join(notes))

    def _mark_incomplete(self, flow: Flow, messages: int, size: int) -> bool:
        """Note what of ``flow`` the proxy dropped before it reached this mirror."""
        if isinstance(flow, MessageFlow):
            held = self._held.get(flow.id)
            received = held.received if held is not None else 0  # kept or counted
            missing_bytes = size - received
            # a flow cut here counts its later messages without keeping them
            missing = 0 if held is not None and held.sealed else messages - len(flow.messages)
            if missing <= 0 and missing_bytes <= 0:
                return False
        elif not flow.live:
            return False  # an HTTP or DNS state arrives whole: finished means complete
        else:
            missing, missing_bytes = 0, 0  # its end never arrived
        flow.metadata[INCOMPLETE_KEY] = {
            "messages": max(0, missing),
            "bytes": max(0, missing_bytes),
            "record": self.record,
        }
        return True

    def _update(self, flow_id: str, changes: dict[str, Any]) -> None:
        flow = self.flows.get(flow_id)
        if flow is None:
            return
        # A message flow's messages arrive as appends, so its base state is enough (and
        # cheap); any other flow (HTTP, DNS) keeps its protocol parts in its full state,
        # but its WebSocket messages arrive as appends too: they stay the list they are
        # (left out of the state while it is computed) unless the proxy sent them whole.
        ws = flow.websocket if isinstance(flow, HTTPFlow) else None
        ws_messages = ws.messages if ws is not None else None
        if isinstance(flow, MessageFlow):
            state = Flow.get_state(flow)
        else:
            state = without_websocket_messages(flow, flow.get_state)
        sent_whole = bool((changes.get("websocket") or {}).get("messages"))
        live = changes.pop("live", flow.live)
        state.update(changes)
        if isinstance(flow, MessageFlow):
            state["messages"] = []
            messages = flow.messages
        try:
            flow.set_state(state)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ProtocolError(f"invalid update for flow {flow_id}: {e}") from None
        if isinstance(flow, MessageFlow):
            flow.messages = messages
            self._stamp(flow, self._held.get(flow_id))  # the proxy's metadata replaced ours
            apply_held(flow, messages)  # a held message edited (by any inspector)
        else:
            if (
                ws_messages is not None
                and not sent_whole
                and isinstance(flow, HTTPFlow)
                and flow.websocket is not None
            ):
                flow.websocket.messages = ws_messages
            if isinstance(flow, HTTPFlow) and flow.websocket is not None:
                apply_held(flow, flow.websocket.messages)  # a held message edited, dropped
            self._measure(flow)  # its new state may hold more (a body, WebSocket messages)
        flow.live = live is True
        self._emit(LiveEvent("update", (flow,)))

    # -- the memory budget ------------------------------------------------------------

    def _release(self, flow_id: str) -> None:
        """Forget what a flow held (it is gone or replaced)."""
        held = self._held.pop(flow_id, None)
        if held is not None:
            self.held -= held.cost
            self._holding.pop(flow_id, None)

    def _measure(self, flow: Flow) -> None:
        """Count a new (or newly replaced) flow's content, then keep to the budget."""
        self._release(flow.id)
        cost, content = content_cost(flow)
        if not cost:
            return
        self._held[flow.id] = _Held(cost, content, content)
        self._holding[flow.id] = None
        self.held += cost
        self._keep_to_budget()

    def _append(self, flow: Flow, messages: list[Any], into: list[Any]) -> None:
        """Add messages to a flow's list ``into`` (its TCP/UDP or WebSocket messages),
        unless it was cut (then they are only counted)."""
        held = self._held.get(flow.id)
        if held is None:
            held = self._held[flow.id] = _Held()
        size = sum([len(m.content) for m in messages])
        held.received += size
        if not held.sealed:
            into.extend(messages)
            cost = size + MESSAGE_COST * len(messages)
            held.kept += size
            held.cost += cost
            self.held += cost
        if held.cost:
            self._holding.setdefault(flow.id, None)
        self._keep_to_budget()
        self._stamp(flow, held)
        if flow.intercepted:  # the held messages' update may have come first
            apply_held(flow, into)

    def _keep_to_budget(self) -> None:
        """Cut the oldest flows holding content, from their end, until within budget."""
        while self.held > self.max_memory and self._holding:
            flow_id = next(iter(self._holding))
            held = self._held[flow_id]
            flow = self.flows.get(flow_id)
            if flow is None:  # cannot happen (removed flows are released): stay safe
                self._release(flow_id)
                continue
            target = max(0, held.cost - (self.held - self.max_memory))
            cost, content = cut_from_end(flow, held.cost, target)
            if not cost:  # nothing left that can be cut: stop counting it
                cost = held.cost
            held.cost -= cost
            held.kept -= content
            held.sealed = True
            self.held -= cost
            if held.cost <= 0:
                self._holding.pop(flow_id, None)
            self._stamp(flow, held)
            self._emit(LiveEvent("update", (flow,)))

    @staticmethod
    def _stamp(flow: Flow, held: _Held | None) -> None:
        """Record in the flow's metadata how much of its content was not kept."""
        if held is not None and held.received > held.kept:
            flow.metadata[CUT_KEY] = {"received": held.received, "kept": held.kept}

    def _set_status(self, status: str) -> None:
        self.status = status
        self._emit(LiveEvent("status", status=status), force=True)

    def _emit(self, event: LiveEvent, force: bool = False) -> None:
        if self.on_event is not None:
            self.on_event(event)
            return
        if self.events.full():
            while not self.events.empty():
                self.events.get_nowait()
            if event.kind != "reset":
                with contextlib.suppress(asyncio.QueueFull):
                    self.events.put_nowait(LiveEvent("reset", tuple(self.flows.values())))
        with contextlib.suppress(asyncio.QueueFull):
            self.events.put_nowait(event)
