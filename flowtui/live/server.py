"""The inspector-facing socket server both proxy sides share (relay and mitmproxy addon).

Why this shape: the proxy side only says "this flow changed" (`LiveServer.publish`);
the server works out what each inspector needs (an add, the changed fields, the new
messages) and queues it per inspector. A queue is bounded in bytes: an inspector that
falls behind loses its queue and gets a fresh `flows/reset` instead, so a slow reader
never slows the proxied traffic and never makes the proxy's memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from flowtui.live.endpoints import Endpoint, check_token, prepare_socket_path
from flowtui.live.held import HELD_KEY
from flowtui.live.protocol import (
    COMMANDS,
    MAX_FRAME,
    WEBSOCKET_APPENDS,
    Frame,
    FrameDecoder,
    ProtocolError,
    check_hello,
    encode,
    encode_append,
    frame_size,
    hello,
    without_websocket_messages,
)

__all__ = [
    "INTERCEPT_DIRECTIONS",
    "DetachPolicy",
    "FlowControl",
    "HeldControl",
    "InterceptDirection",
    "LiveServer",
]

log = logging.getLogger("flowtui.live")

DetachPolicy = Literal["keep", "resume", "kill"]
InterceptDirection = Literal["both", "client", "server"]
"""Which messages an intercept filter holds: every one, only the client's (client to
server) or only the server's (server to client)."""
INTERCEPT_DIRECTIONS: tuple[InterceptDirection, ...] = ("both", "client", "server")
HELLO_TIMEOUT = 5.0
"""Seconds a new connection has to send its hello before it is closed."""
HELLO_MAX_FRAME = 64 * 1024
"""The largest frame a peer may send before its hello is accepted: a hello is a few
hundred bytes, so nobody unauthenticated makes the proxy buffer more than this."""
MAX_UNAUTHENTICATED = 64
"""Connections still waiting for their hello at once; more are closed on arrival."""
FORGOTTEN_MAX = 10_000
"""Forgotten flows remembered (id, messages, bytes) so a resync can say what it lacks."""
APPEND_BATCH = 1024 * 1024
"""Message content bytes per `flows/append` frame when catching up (reset, late add)."""
APPEND_MESSAGES = 2000
"""Messages per `flows/append` frame at most: an inspector decodes a frame at once, and
a megabyte of small messages (16,000 of 64 bytes) would hold its UI for 100 ms."""


class FlowControl(Protocol):
    """What a proxy side does for the server: state, kill, filter, change hooks."""

    def base_state(self, flow: Any) -> dict[str, Any]:
        """The flow's state without its ``messages`` (cheap for a long connection)."""

    def kill(self, flow: Any) -> None:
        """Kill the flow and close its real connection, both ends, now."""

    def set_intercept(self, spec: str | None, direction: InterceptDirection = "both") -> None:
        """Set the intercept filter (None or ``""`` turns interception off), holding
        only the messages of ``direction``."""

    def changed(self, flow: Any) -> None:
        """Called after a command changed ``flow`` (e.g. to tell other addons)."""


class HeldControl(Protocol):
    """What a proxy side adds to `FlowControl` for held messages (optional: a side
    without it holds flows whole, and refuses to change their messages)."""

    def held_messages(self, flow: Any) -> list[tuple[int, bytes]]:
        """The messages of ``flow`` held now (recorded, not yet forwarded), in order, as
        ``(index, content to be sent)``; empty unless the flow is intercepted."""

    def change_message(self, flow: Any, index: int, content: bytes | None) -> None:
        """Replace the bytes held message ``index`` will be sent as (None: drop it)."""


def _held_control(control: object) -> HeldControl | None:
    if hasattr(control, "held_messages") and hasattr(control, "change_message"):
        return cast(HeldControl, control)
    return None


@dataclass
class _Sent:
    state: dict[str, Any] | None
    """The state last sent; None while no inspector was attached to be sent it (then
    it is computed when one attaches, not on every change)."""
    count: int


def _messages(flow: Any) -> Sequence[Any] | None:
    """The messages of a flow that grow while it lives, sent as `flows/append`: a TCP or
    UDP flow's, or an HTTP flow's WebSocket messages."""
    kind = getattr(flow, "type", None)
    if kind in ("tcp", "udp"):
        return getattr(flow, "messages", None)
    if kind == "http":
        ws = getattr(flow, "websocket", None)
        return ws.messages if ws is not None else None
    return None


def _is_stream(flow: Any) -> bool:
    return getattr(flow, "type", None) in ("tcp", "udp")


def _websocket_state(flow: Any) -> dict[str, Any]:
    """An HTTP flow's whole WebSocket state, messages included (for inspectors that do
    not take WebSocket messages as appends)."""
    state: dict[str, Any] = flow.websocket.get_state()
    return state


FLOW_OVERHEAD = 1024
"""What a retained flow is counted as holding besides its content (its state, the
connections' details), so flows without content are bounded by `retain_bytes` too."""


def _held_size(flow: Any, messages: Sequence[Any] | None) -> int:
    """The bytes a completed flow is counted as holding against `retain_bytes`."""
    size = FLOW_OVERHEAD
    if messages and _is_stream(flow):
        size += sum(len(m.content) for m in messages)
    for part in ("request", "response"):
        msg = getattr(flow, part, None)
        raw = getattr(msg, "raw_content", None) if msg is not None else None
        if isinstance(raw, bytes | bytearray):
            size += len(raw)
    ws = getattr(flow, "websocket", None)
    for m in getattr(ws, "messages", None) or ():
        size += len(m.content)
    return size


def _append_frames(flow_id: str, messages: Iterable[Any]) -> Iterator[Frame]:
    batch: list[Any] = []
    size = 0
    for m in messages:
        state = m.get_state()
        batch.append(state)
        size += len(m.content) + 32
        if size >= APPEND_BATCH or len(batch) >= APPEND_MESSAGES:
            yield encode_append(flow_id, batch)
            batch, size = [], 0
    if batch:
        yield encode_append(flow_id, batch)


@dataclass(eq=False)
class _Range:
    """New messages of one flow not yet sent to one inspector (``messages[start:end]``),
    encoded only as the inspector takes them."""

    flow_id: str
    messages: Sequence[Any]
    start: int
    end: int
    flow: Any = None
    """Set for a WebSocket range to an inspector that does not take WebSocket appends:
    it is sent the flow's whole WebSocket state instead, as of when it is written."""


RANGE_COST = 256
"""What a queued `_Range` counts against `queue_limit`: the messages it refers to are
the flow's own (held by the proxy in any case), so a flood of content never overflows an
inspector's queue, only a flood of events does."""


@dataclass(eq=False)
class _Session:
    server: LiveServer
    writer: asyncio.StreamWriter
    name: str
    queue: deque[tuple[Frame | _Range, int]] = field(default_factory=deque)
    replies: deque[bytes] = field(default_factory=deque)
    queued: int = 0
    reset_pending: bool = True
    resets: int = 0
    resetting: Iterator[Frame] | None = None
    sending: Iterator[Frame] | None = None
    """The frames of the range being written."""
    growing: dict[str, _Range] = field(default_factory=dict)
    """Per flow, its range at the queue's tail that new messages still extend (no event
    of that flow was queued after it)."""
    owed: Counter[str] = field(default_factory=Counter)
    """Ranges queued per flow: the flows whose messages this inspector still needs."""
    overflows: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    websocket_appends: bool = False
    """The inspector takes an HTTP flow's new WebSocket messages as `flows/append` (it
    said so in its hello); older ones are sent the whole WebSocket state instead."""

    def send(self, frame: Frame, flow_id: str | None = None) -> None:
        """Queue an event (of ``flow_id``: later messages of that flow follow it)."""
        if self.reset_pending:
            return  # the coming reset is built later and will include this
        if flow_id is not None:
            self.growing.pop(flow_id, None)
        self._enqueue(frame, frame_size(frame))

    def send_messages(self, flow: Any, messages: Sequence[Any], start: int, end: int) -> None:
        """Queue ``messages[start:end]`` of a flow, joined to its growing range if any."""
        if self.reset_pending:
            return
        flow_id: str = flow.id
        growing = self.growing.get(flow_id)
        if growing is not None and growing.end == start:
            growing.end = end
            return
        legacy = None if self.websocket_appends or _is_stream(flow) else flow
        self.growing[flow_id] = entry = _Range(flow_id, messages, start, end, legacy)
        self.owed[flow_id] += 1
        self._enqueue(entry, RANGE_COST)

    def _enqueue(self, entry: Frame | _Range, size: int) -> None:
        self.queue.append((entry, size))
        self.queued += size
        if self.queued > self.server.queue_limit:
            log.warning("inspector %s is too slow: dropping its queue, resynchronising", self.name)
            self.overflows += 1
            self.resync()
        self.wake.set()

    def resync(self) -> None:
        """Drop what is queued: the inspector is sent a fresh `flows/reset` instead."""
        self.queue.clear()
        self.queued = 0
        self.growing.clear()
        self.owed.clear()
        self.sending = None
        self.reset_pending = True
        self.wake.set()

    def reply(self, frame: bytes) -> None:
        self.replies.append(frame)
        self.wake.set()

    async def write_loop(self) -> None:
        try:
            await self._write_loop()
        except OSError:
            pass
        except Exception:  # a bug must not leave the inspector waiting forever
            log.exception("inspector %s: sending failed; closing its connection", self.name)
            self.writer.transport.abort()

    def _next(self) -> tuple[Frame | None, bool]:
        """The next frame to write and whether it may wait behind the proxy's traffic."""
        if self.reset_pending:  # (again): drop a reset in progress, start afresh
            self.reset_pending = False
            self.resets += 1
            self.resetting = self.server.reset_frames(self.websocket_appends)
        if self.replies:
            return self.replies.popleft(), False
        for attr in ("resetting", "sending"):
            frames: Iterator[Frame] | None = getattr(self, attr)
            if frames is not None:
                frame = next(frames, None)
                if frame is not None:
                    return frame, True
                setattr(self, attr, None)
        while self.queue:
            entry, counted = self.queue.popleft()
            self.queued -= counted
            if not isinstance(entry, _Range):
                return entry, False
            if self.growing.get(entry.flow_id) is entry:
                del self.growing[entry.flow_id]
            self.owed[entry.flow_id] -= 1
            if self.owed[entry.flow_id] <= 0:
                del self.owed[entry.flow_id]
            if entry.flow is not None:
                changes = {"websocket": _websocket_state(entry.flow)}
                update = {"type": "flows/update", "id": entry.flow_id, "changes": changes}
                return encode(update), True
            self.sending = _append_frames(entry.flow_id, entry.messages[entry.start : entry.end])
            frame = next(self.sending, None)
            if frame is not None:
                return frame, True
        return None, False

    async def _write_loop(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while True:
                frame, yielding = self._next()
                if frame is None:
                    break
                if isinstance(frame, bytes):
                    self.writer.write(frame)
                else:
                    for part in frame:
                        self.writer.write(part)
                await self.writer.drain()
                if yielding:
                    # Frames encoded as they are taken (a resync, a flow's new messages):
                    # let the proxy's own traffic run between them even when this
                    # inspector reads as fast as we write.
                    await asyncio.sleep(0)


class LiveServer:
    """Serves the live flows of one proxy to any number of inspectors."""

    def __init__(
        self,
        control: FlowControl,
        *,
        token: str | None = None,
        on_detach: DetachPolicy = "resume",
        queue_limit: int = 8 * 1024 * 1024,
        retain_bytes: int = 256 * 1024 * 1024,
        max_frame: int = MAX_FRAME,
        software: str = "flowtui",
        record: str | None = None,
        hello_timeout: float = HELLO_TIMEOUT,
        hello_max_frame: int = HELLO_MAX_FRAME,
        max_unauthenticated: int = MAX_UNAUTHENTICATED,
    ) -> None:
        self.control = control
        self.token = token
        """The token inspectors must send in their hello; required for TCP."""
        self.on_detach: DetachPolicy = on_detach
        """What happens to intercepted flows when the last inspector detaches."""
        self.inspector_filter = False
        """An inspector set the intercept filter (cleared with the flows it held when
        the last inspector detaches, unless `on_detach` keeps them)."""
        self.queue_limit = queue_limit
        """Bytes of queued events per inspector before it is resynchronised instead."""
        self.retain_bytes = retain_bytes
        """Message bytes of completed flows kept for inspectors that attach or resync
        later; beyond it the oldest completed flows are forgotten (inspectors already
        showing them keep them, and `-w` keeps everything on disk)."""
        self.max_frame = max_frame
        """The largest frame accepted from an inspector past its hello."""
        self.software = software
        self.record = record
        """Where the proxy records every flow (``-w``), told to inspectors in the hello
        so they can say where the full flow is when part of one was dropped."""
        self.session = secrets.token_hex(8)
        """This server's run: a new value tells an inspector the proxy restarted."""
        self.forgotten: dict[str, tuple[int, int]] = {}
        """Flows forgotten beyond `retain_bytes` (the newest `FORGOTTEN_MAX`), with
        their messages and bytes: a resync lists them so an inspector that got only part
        of one marks it incomplete."""
        self.hello_timeout = hello_timeout
        """Seconds a connection has to authenticate (read per connection)."""
        self.hello_max_frame = hello_max_frame
        """The largest frame accepted before the hello and its token are checked."""
        self.max_unauthenticated = max_unauthenticated
        """Connections allowed to wait for their hello at once (the rest are closed):
        together with the two limits above, this bounds what strangers cost."""
        self.unauthenticated = 0
        """Connections now waiting for their hello."""
        self.refused_unauthenticated = 0
        """Connections closed on arrival because `max_unauthenticated` were waiting."""
        self._refusal_logged = -1e9
        self.flows: dict[str, Any] = {}
        """The live proxy's flows by id, in arrival order."""
        self._completed: dict[str, int] = {}
        """Completed flows still held, oldest first, with their message bytes."""
        self._completed_bytes = 0
        self._grown: dict[str, Any] = {}
        """Flows with messages not yet sent (see `publish_messages`)."""
        self._flush_scheduled = False
        self._live: dict[str, None] = {}
        """Ids of the flows last published as live (see `republish_finished`)."""
        self._sent: dict[str, _Sent] = {}
        self._sessions: set[_Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._unix_path: str | None = None
        self.endpoint: Endpoint | None = None
        """Where the server listens (with the real port once started)."""

    # -- listening ------------------------------------------------------------------

    async def start(self, endpoint: Endpoint) -> Endpoint:
        """Listen on ``endpoint``; returns it with the real port for ``tcp://host:0``."""
        if endpoint.kind == "unix":
            prepare_socket_path(endpoint.path)
            old = os.umask(0o177)
            try:
                self._server = await asyncio.start_unix_server(self._serve, path=endpoint.path)
            finally:
                os.umask(old)
            Path(endpoint.path).chmod(0o600)
            self._unix_path = endpoint.path
            self.endpoint = endpoint
        else:
            if self.token is None:
                raise ValueError("a TCP live socket needs a token (--token-file)")
            self._server = await asyncio.start_server(self._serve, endpoint.host, endpoint.port)
            port = self._server.sockets[0].getsockname()[1]
            self.endpoint = Endpoint("tcp", host=endpoint.host, port=port)
        log.info("live socket listening on %s", self.endpoint)
        return self.endpoint

    async def close(self) -> None:
        """Stop listening and drop every inspector."""
        if self._server is not None:
            self._server.close()
        for session in list(self._sessions):
            session.writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        if self._unix_path:
            with contextlib.suppress(OSError):
                Path(self._unix_path).unlink()
            self._unix_path = None

    @property
    def inspectors(self) -> int:
        """How many inspectors are attached (past their hello)."""
        return len(self._sessions)

    # -- publishing -----------------------------------------------------------------

    def publish_messages(self, flow: Any) -> None:
        """``flow`` (TCP/UDP, already published) gained messages and nothing else: send
        them soon, coalesced with any others it gains before the loop turns (one
        `flows/append` per flow per loop iteration under a flood, and no state diff)."""
        if flow.id not in self._sent:
            self.publish(flow)
            return
        self._grown[flow.id] = flow
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_appends)

    def _flush_appends(self) -> None:
        self._flush_scheduled = False
        grown, self._grown = self._grown, {}
        for flow_id, flow in grown.items():
            sent = self._sent.get(flow_id)
            messages = _messages(flow)
            if sent is None or messages is None or len(messages) <= sent.count:
                continue  # published whole since (or forgotten)
            count = len(messages)
            for session in self._sessions:
                session.send_messages(flow, messages, sent.count, count)
            sent.count = count

    def _state(self, flow: Any) -> dict[str, Any]:
        """A flow's state without its growing messages (those go as appends): a
        WebSocket's are left out while it is computed, so a long one costs O(1)."""
        state = without_websocket_messages(flow, lambda: self.control.base_state(flow))
        state.pop("messages", None)
        state["live"] = bool(flow.live)
        if flow.intercepted:
            self._add_held(flow, state)
        return state

    def _add_held(self, flow: Any, state: dict[str, Any]) -> None:
        """Tell which messages are held: the wire-only ``flowtui.held`` metadata (an
        older inspector shows it as any metadata key)."""
        held_control = _held_control(self.control)
        held = held_control.held_messages(flow) if held_control is not None else []
        if held and isinstance(state.get("metadata"), dict):
            messages = _messages(flow)
            entries: list[list[Any]] = []
            for index, content in held:
                entry: list[Any] = [index, content]
                shown = messages[index] if messages is not None and index < len(messages) else None
                if getattr(shown, "dropped", False):  # a WebSocket message dropped
                    entry.append(True)
                entries.append(entry)
            state["metadata"] = {**state["metadata"], HELD_KEY: entries}

    def publish(self, flow: Any) -> None:
        """Tell every inspector what changed in ``flow`` since it was last published.

        With no inspector attached nothing is computed or encoded (the proxy's traffic
        pays only for bookkeeping); an inspector attaching gets the current state."""
        messages = _messages(flow)
        count = len(messages) if messages is not None else 0
        flow_id: str = flow.id
        sent = self._sent.get(flow_id)
        if not self._sessions:
            if sent is None:
                self.flows[flow_id] = flow
                self._sent[flow_id] = _Sent(None, count)
            else:
                sent.state, sent.count = None, count
        else:
            state = self._state(flow)
            frame: bytes | None = None
            legacy: bytes | None = None
            """The frame for inspectors that take no WebSocket appends."""
            start = 0
            websocket = messages is not None and not _is_stream(flow)
            if sent is None:
                self.flows[flow_id] = flow
                full = {**state, "messages": []} if _is_stream(flow) else state
                frame = legacy = encode({"type": "flows/add", "flow": full})
                if websocket and messages:
                    whole = {**full, "websocket": _websocket_state(flow)}
                    legacy = encode({"type": "flows/add", "flow": whole})
                self._sent[flow_id] = _Sent(state, count)
            else:
                old = sent.state or {}
                changes = {k: v for k, v in state.items() if old.get(k) != v}
                if changes:
                    frame = legacy = encode(
                        {"type": "flows/update", "id": flow_id, "changes": changes}
                    )
                    if websocket and "websocket" in changes:
                        changes["websocket"] = _websocket_state(flow)
                        legacy = encode({"type": "flows/update", "id": flow_id, "changes": changes})
                start = sent.count
                sent.state, sent.count = state, count
            for session in self._sessions:
                sending = frame if session.websocket_appends else legacy
                if sending is not None:
                    session.send(sending, flow_id)
                if messages is not None and count > start:
                    session.send_messages(flow, messages, start, count)
        if flow.live:
            self._live[flow_id] = None
        else:
            self._live.pop(flow_id, None)
        if not flow.live and not flow.intercepted and flow_id not in self._completed:
            self._retire(flow_id, flow, messages)

    def live_flows(self) -> list[Any]:
        """The flows last published as live."""
        return [f for fid in self._live if (f := self.flows.get(fid)) is not None]

    def republish_finished(self) -> int:
        """Publish again every flow last published live that is no longer live.

        mitmproxy clears ``flow.live`` only after the last hook of a flow returns (HTTP:
        after ``response``/``error``; TCP and UDP: after ``*_end``), so a proxy side that
        publishes from hooks calls this periodically; it costs one attribute read per
        live flow. Returns how many flows were republished."""
        done = [fid for fid in self._live if (f := self.flows.get(fid)) is None or not f.live]
        for fid in done:
            self._live.pop(fid, None)
            flow = self.flows.get(fid)
            if flow is not None:
                self.publish(flow)
        return len(done)

    def _retire(self, flow_id: str, flow: Any, messages: Sequence[Any] | None) -> None:
        """Count a completed flow against `retain_bytes`; forget the oldest beyond it."""
        size = _held_size(flow, messages)
        self._completed[flow_id] = size
        self._completed_bytes += size
        while self._completed_bytes > self.retain_bytes and len(self._completed) > 1:
            oldest = next(iter(self._completed))
            self._completed_bytes -= self._completed.pop(oldest)
            gone = self.flows.pop(oldest, None)
            sent = self._sent.get(oldest)
            gone_messages = _messages(gone) if gone is not None else None
            self.forgotten[oldest] = (
                sent.count if sent is not None else 0,
                sum(len(m.content) for m in gone_messages) if gone_messages else 0,
            )
            if len(self.forgotten) > FORGOTTEN_MAX:
                del self.forgotten[next(iter(self.forgotten))]
            self._sent.pop(oldest, None)
            self._live.pop(oldest, None)
            for session in self._sessions:
                if session.owed.get(oldest):
                    # It still owed this inspector messages of a flow now forgotten: a
                    # resync lists the flow as forgotten, so the inspector marks it
                    # incomplete instead of missing them silently.
                    log.info("inspector %s is behind a forgotten flow: resynchronising",
                             session.name)  # fmt: skip
                    session.resync()

    def remove(self, flow_id: str) -> None:
        """Forget a flow and tell the inspectors."""
        if self.flows.pop(flow_id, None) is None:
            return
        del self._sent[flow_id]
        self._live.pop(flow_id, None)
        self._completed_bytes -= self._completed.pop(flow_id, 0)
        frame = encode({"type": "flows/remove", "id": flow_id})
        for session in self._sessions:
            session.send(frame, flow_id)

    def reset_frames(self, websocket_appends: bool = True) -> Iterator[Frame]:
        """A `flows/reset` of every flow as last published, then their messages.

        The flows are listed now (cheap: references), but the frames are encoded only
        as they are taken, so a large resync never holds the event loop or a second
        copy of every message. Messages are append-only, so `messages[:count]` stays
        what was published; later changes reach the inspector as queued updates. An
        inspector without ``websocket_appends`` gets WebSocket messages in the states.
        """
        held = [
            (flow_id, sent, sent.count, _messages(self.flows[flow_id]))
            for flow_id, sent in self._sent.items()
        ]
        forgotten = [[i, n, b] for i, (n, b) in self.forgotten.items()]
        first = True
        batch: list[dict[str, Any]] = []
        size = 0
        for flow_id, sent, _, messages in held:  # split so no frame nears the limit
            state = sent.state
            if state is None:  # changed while nobody was attached: its state now
                flow = self.flows.get(flow_id)
                if flow is None:
                    continue  # forgotten meanwhile
                state = sent.state = self._state(flow)
            flow = self.flows.get(flow_id)
            if flow is not None and _is_stream(flow):
                state = {**state, "messages": []}
            elif messages is not None and not websocket_appends and flow is not None:
                state = {**state, "websocket": _websocket_state(flow)}
            batch.append(state)
            size += 4096
            if size >= APPEND_BATCH:
                yield self._flows_frame(first, batch, forgotten)
                first, batch, size = False, [], 0
        if batch or first:
            yield self._flows_frame(first, batch, forgotten)
        for flow_id, _, count, messages in held:
            flow = self.flows.get(flow_id)
            if messages and (websocket_appends or (flow is not None and _is_stream(flow))):
                yield from _append_frames(flow_id, messages[:count])

    @staticmethod
    def _flows_frame(first: bool, batch: list[dict[str, Any]], forgotten: list[Any]) -> bytes:
        """The first batch is the `flows/reset` (with the forgotten flows); later parts
        are adds."""
        if first:
            return encode({"type": "flows/reset", "flows": batch, "forgotten": forgotten})
        return b"".join(encode({"type": "flows/add", "flow": s}) for s in batch)

    # -- inspectors -----------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or "unix socket"
        name = f"{peer}"
        if self.unauthenticated >= self.max_unauthenticated:
            now = time.monotonic()
            if now - self._refusal_logged >= 10:  # one line per burst, not per peer
                self._refusal_logged = now
                log.warning(
                    "%d connections are waiting for their hello: closing new ones (%s; "
                    "%d closed so far)",
                    self.unauthenticated,
                    name,
                    self.refused_unauthenticated,
                )
            self.refused_unauthenticated += 1
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session = _Session(self, writer, name)
        decoder = FrameDecoder(self.hello_max_frame)
        writer_task: asyncio.Task[None] | None = None
        waiting = True
        self.unauthenticated += 1
        try:
            greeting, *early = await asyncio.wait_for(
                self._read_hello(reader, decoder), self.hello_timeout
            )
            check_hello(greeting, "inspector")
            if not check_token(self.token, greeting.get("token")):
                raise ProtocolError("wrong or missing token")
            waiting = False
            self.unauthenticated -= 1
            features = greeting.get("features")
            session.websocket_appends = isinstance(features, list) and (
                WEBSOCKET_APPENDS in features
            )
            decoder.max_frame = self.max_frame
            extra: dict[str, Any] = {"session": self.session, "on_detach": self.on_detach}
            if self.record:
                extra["record"] = self.record
            extra["commands"] = sorted(COMMANDS)  # optional: what this proxy understands
            writer.write(encode(hello("proxy", self.software, **extra)))
            self._sessions.add(session)
            log.info("inspector %s attached (%d attached)", name, len(self._sessions))
            writer_task = asyncio.create_task(session.write_loop())
            session.wake.set()
            for message in early:  # commands sent in the same packet as the hello
                self._command(session, message)
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for message in decoder.feed(data):
                    self._command(session, message)
                if writer_task.done():
                    break
        except ProtocolError as e:
            log.warning("closing inspector %s: %s", name, e)
            with contextlib.suppress(Exception):
                writer.write(encode({"type": "error", "message": str(e)}))
        except TimeoutError:
            log.warning("closing inspector %s: no hello within %ss", name, self.hello_timeout)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if waiting:
                self.unauthenticated -= 1
            if writer_task is not None:
                writer_task.cancel()
            writer.close()
            self._tasks.discard(task)
            if session in self._sessions:
                self._sessions.discard(session)
                log.info("inspector %s detached (%d attached)", name, len(self._sessions))
                if not self._sessions:
                    self._apply_detach_policy()

    async def _read_hello(
        self, reader: asyncio.StreamReader, decoder: FrameDecoder
    ) -> list[dict[str, Any]]:
        """The first messages: the hello, then any the peer sent in the same read (a
        client may pipeline commands behind its hello; they are answered, not lost)."""
        while True:
            data = await reader.read(65536)
            if not data:
                raise ProtocolError("connection closed before hello")
            messages = decoder.feed(data)
            if messages:
                return messages

    def _apply_detach_policy(self) -> None:
        """The last inspector is gone: unless the policy keeps them held, no flow stays
        held by it, and no intercept filter it set holds new flows for nobody."""
        if self.on_detach == "keep":
            return
        if self.inspector_filter:
            log.info("last inspector gone: clearing the intercept filter it set")
            self.inspector_filter = False
            with contextlib.suppress(ValueError):
                self.control.set_intercept(None)
        for flow in list(self.flows.values()):
            if not flow.intercepted:
                continue
            log.info("last inspector gone: %s intercepted flow %s", self.on_detach, flow.id)
            if self.on_detach == "resume":
                flow.resume()
            elif flow.killable:
                self.control.kill(flow)
            self.control.changed(flow)
            self.publish(flow)

    def _command(self, session: _Session, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind not in COMMANDS:
            raise ProtocolError(f"unexpected message type {kind!r} from an inspector")
        rid: int = message["rid"]
        try:
            self._run(kind, message)
        except (ValueError, LookupError) as e:
            session.reply(encode({"type": "reply", "rid": rid, "ok": False, "error": str(e)}))
        except Exception as e:  # a control action failed: say so, keep serving
            if type(e).__name__ != "ControlException":
                log.exception("command %s failed", kind)
            session.reply(encode({"type": "reply", "rid": rid, "ok": False, "error": str(e)}))
        else:
            session.reply(encode({"type": "reply", "rid": rid, "ok": True}))

    def _run(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "ping":
            return
        if kind == "set_intercept":
            direction = message.get("direction", "both")
            if direction not in INTERCEPT_DIRECTIONS:
                raise ValueError(f"direction must be one of {', '.join(INTERCEPT_DIRECTIONS)}")
            self.control.set_intercept(message["filter"] or None, direction)
            self.inspector_filter = bool(message["filter"])
            return
        if kind == "resume_all":
            targets = [f for f in self.flows.values() if f.intercepted]
            for flow in targets:
                flow.resume()
            self._changed(targets)
            return
        flow = self.flows.get(message["id"])
        if flow is None:
            raise LookupError(f"no flow with id {message['id'][:64]!r}")
        if kind in ("inject", "replay"):
            self._run_steering(kind, flow, message)
            return
        if kind == "intercept":
            if not flow.live:
                raise ValueError("Flow is not live.")
            flow.intercept()
        elif kind == "resume":
            flow.resume()
        elif kind == "kill":
            if not flow.killable:
                raise ValueError("Flow is not killable.")
            self.control.kill(flow)
        elif kind == "mark":
            flow.marked = message["marked"]
        elif kind == "comment":
            flow.comment = message["comment"]
        elif kind in ("edit_message", "drop_message"):
            self._change_message(flow, message)
        self._changed([flow])

    def _run_steering(self, kind: str, flow: Any, message: dict[str, Any]) -> None:
        """``inject`` (a new message on a live connection) and ``replay`` (an HTTP flow,
        through the proxy's own client replay): each proxy side does its own, and one
        that cannot says why (a `ValueError`, answered ``ok: false``)."""
        if kind == "inject":
            if not flow.live:
                raise ValueError("Flow is not live.")
            inject = getattr(self.control, "inject", None)
            if inject is None:
                raise ValueError("this proxy cannot inject messages")
            is_text = message.get("is_text")
            inject(flow, message["to_client"], message["content"],
                   is_text if isinstance(is_text, bool) else None)  # fmt: skip
        else:
            replay = getattr(self.control, "replay", None)
            if replay is None:
                raise ValueError("this proxy cannot replay flows")
            replay(flow)

    def _change_message(self, flow: Any, message: dict[str, Any]) -> None:
        """``edit_message`` / ``drop_message``: change a held message before it goes."""
        index: int = message["index"]
        control = _held_control(self.control)
        if control is None:
            raise ValueError("this proxy cannot change held messages")
        if not flow.intercepted or index not in {i for i, _ in control.held_messages(flow)}:
            raise ValueError(f"message {index} is not held: only held messages can be changed")
        content = message.get("content") if message["type"] == "edit_message" else None
        control.change_message(flow, index, content)

    def _changed(self, flows: list[Any]) -> None:
        for flow in flows:
            self.control.changed(flow)
            self.publish(flow)
