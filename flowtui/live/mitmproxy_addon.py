"""flowtui's live socket inside a real mitmproxy: ``mitmdump -s <this file>
--set flowtui_listen=unix:/path/to.sock``.

The only module that imports mitmproxy. It publishes flows to `LiveServer` from
mitmproxy's own hooks (TCP and UDP message by message, HTTP as it progresses), runs
the server on mitmproxy's event loop, and maps commands to mitmproxy's own flow
control: `flow.intercept()`, `flow.resume()`, the ``intercept`` option.

Kill is the exception. ``flow.kill()`` only sets an error; an intercepted TCP flow's
hook keeps waiting for a resume that never comes, and nothing closes the sockets
(mitmproxy issue 4711). So `kill` aborts every transport of the flow's connection
handler (client and server, at once), then releases the waiting hook so the layer
runs on into the closed connection and the handler finishes normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import sys
from collections import deque
from pathlib import Path
from typing import Any

from mitmproxy import ctx, exceptions, flowfilter, hooks
from mitmproxy import flow as mflow


def _make_flowtui_importable() -> None:
    """Loaded by path (`mitmdump -s`) into an interpreter where flowtui is not installed
    (mitmproxy from pipx or a binary): add the directory holding flowtui at the *end* of
    ``sys.path``, so mitmproxy's own packages keep precedence over anything installed
    beside flowtui. Where flowtui is importable already, ``sys.path`` is left alone."""
    if importlib.util.find_spec("flowtui") is not None:
        return
    home = str(Path(__file__).resolve().parents[2])
    if home not in sys.path:
        sys.path.append(home)


_make_flowtui_importable()

from flowtui.live.endpoints import load_or_create_token, parse_endpoint  # noqa: E402
from flowtui.live.held import change_message  # noqa: E402
from flowtui.live.injected import note_injected  # noqa: E402
from flowtui.live.server import LiveServer  # noqa: E402

__all__ = ["FlowtuiLive", "addon_path", "addons"]

log = logging.getLogger("flowtui.live")

SWEEP_INTERVAL = 0.2
"""Seconds between checks for flows mitmproxy finished after their last hook."""


def addon_path() -> str:
    """The path to give ``mitmdump -s``; `flowtui.live.addon_path` gives it without mitmproxy."""
    return str(Path(__file__).resolve())


class FlowtuiLive:
    """The addon: serves mitmproxy's flows on flowtui's live socket."""

    def __init__(self) -> None:
        self.server: LiveServer | None = None
        self._filter: Any = None
        self._direction = "both"
        """Which messages `_filter` holds: ``both``, ``client`` or ``server``."""
        self._sweeper: asyncio.Task[None] | None = None
        self._seen: dict[str, tuple[Any, ...]] = {}
        """Per live TCP/UDP flow, what `update` last saw of what others may change."""
        self._recheck: dict[str, Any] = {}
        """Flows to republish on the next sweep (their server just connected, or mitmproxy
        said they changed: see `update`)."""
        self._injecting: dict[str, deque[bytes]] = {}
        """TCP messages injected per flow id, not yet seen in ``tcp_message``."""
        self._held: dict[str, int] = {}
        """The message each intercepted flow's hook holds (flow id -> its index)."""

    def load(self, loader: Any) -> None:
        loader.add_option(
            "flowtui_listen", str, "", "flowtui live socket: unix:/path or tcp://127.0.0.1:PORT"
        )
        loader.add_option(
            "flowtui_token_file", str, "", "Token file for a TCP flowtui socket (created if absent)"
        )
        loader.add_option(
            "flowtui_on_detach",
            str,
            "resume",
            "What intercepted flows do when the last flowtui inspector detaches (resume also "
            "clears an intercept filter an inspector set)",
            choices=["keep", "resume", "kill"],
        )
        loader.add_option(
            "flowtui_retain",
            int,
            256,
            "MB of finished flows kept for inspectors that attach later (oldest forgotten first)",
        )

    async def running(self) -> None:
        spec = ctx.options.flowtui_listen
        if not spec or self.server is not None:
            return
        token_file = ctx.options.flowtui_token_file
        try:
            endpoint = parse_endpoint(spec)
        except ValueError as e:
            log.error("flowtui: live socket not started: flowtui_listen=%s: %s", spec, e)
            return
        if endpoint.kind == "tcp" and not token_file:
            log.error(
                "flowtui: live socket not started: a TCP socket (flowtui_listen=%s) needs "
                "a token: --set flowtui_token_file=PATH (created if absent)",
                spec,
            )
            return
        try:
            token = load_or_create_token(token_file) if token_file else None
        except (OSError, ValueError) as e:  # e.g. a token file other users can read
            log.error("flowtui: live socket not started: flowtui_token_file=%s: %s", token_file, e)
            return
        record = ctx.options.save_stream_file if "save_stream_file" in ctx.options else None
        server = LiveServer(
            self,
            token=token,
            record=str(Path(record.lstrip("+")).resolve()) if record else None,
            on_detach=ctx.options.flowtui_on_detach,
            retain_bytes=max(0, ctx.options.flowtui_retain) * 1024 * 1024,
            software="mitmproxy",
        )
        try:
            endpoint = await server.start(endpoint)
        except (OSError, ValueError) as e:
            log.error("flowtui: live socket not started: flowtui_listen=%s: %s", spec, e)
            return
        self.server = server
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        log.info("flowtui: attach with `flowtui attach %s`", endpoint)

    async def _sweep(self) -> None:
        """Republish flows mitmproxy finished after their last hook (see
        `LiveServer.republish_finished`): a finished flow is shown so within a second."""
        while self.server is not None:
            await asyncio.sleep(SWEEP_INTERVAL)
            if self.server is not None:
                try:
                    recheck, self._recheck = self._recheck, {}
                    for flow in recheck.values():
                        if flow.id in self.server.flows:
                            self.server.publish(flow)
                    self.server.republish_finished()
                except Exception:  # keep sweeping; one bad flow must not stop the rest
                    log.exception("flowtui: republishing finished flows failed")

    def configure(self, updated: set[str]) -> None:
        if "flowtui_retain" in updated and self.server is not None:
            self.server.retain_bytes = max(0, ctx.options.flowtui_retain) * 1024 * 1024

    async def done(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self.server is not None:
            await self.server.close()
            self.server = None

    # -- FlowControl ----------------------------------------------------------------

    def base_state(self, flow: Any) -> dict[str, Any]:
        if flow.type in ("tcp", "udp"):
            state: dict[str, Any] = mflow.Flow.get_state(flow)  # not the messages: O(1)
        else:
            state = flow.get_state()
        return state

    def kill(self, flow: Any) -> None:
        master: Any = ctx.master
        proxyserver = master.addons.get("proxyserver")
        client = flow.client_conn
        connections: dict[Any, Any] = proxyserver.connections if proxyserver else {}
        # mitmproxy 11 registers every connection, UDP too, by the client's id; older
        # releases keyed UDP by its addresses (see proxyserver.inject_event).
        handler = connections.get(client.id) or connections.get((client.peername, client.sockname))
        if handler is not None:
            for io in list(handler.transports.values()):
                transport = getattr(io.writer, "transport", None)
                if transport is not None:
                    transport.abort()
                elif io.writer is not None:
                    io.writer.close()
                if io.handler is not None:
                    io.handler.cancel("killed by flowtui")
        if flow.intercepted:
            flow.resume()  # release the waiting hook; the connection is already gone
        flow.kill()

    def set_intercept(self, spec: str | None, direction: str = "both") -> None:
        options: Any = ctx.options
        if "intercept" in options and direction == "both":
            # mitmproxy and mitmweb run the Intercept addon: set their own option.
            try:
                options.update(intercept=spec)
            except exceptions.OptionsError as e:
                raise ValueError(f"invalid intercept filter: {e}") from None
            self._filter = None
            return
        # mitmdump has no Intercept addon, and mitmproxy's holds both directions: apply
        # the filter here, the same way (clearing mitmproxy's own option, if any).
        try:
            flt = flowfilter.parse(spec) if spec else None
        except ValueError as e:
            raise ValueError(f"invalid intercept filter: {e}") from None
        if "intercept" in options:
            options.update(intercept=None)
        self._filter, self._direction = flt, direction

    def changed(self, flow: Any) -> None:
        ctx.master.addons.trigger(hooks.UpdateHook([flow]))

    # -- inject and replay: mitmproxy's own commands ------------------------------------

    def inject(self, flow: Any, to_client: bool, content: bytes, is_text: bool | None) -> None:
        """mitmproxy's ``inject.tcp`` / ``inject.websocket`` (not UDP: mitmproxy 11 looks
        a UDP connection up under another key than it registers it by). Those
        only log a warning when they cannot inject; the same checks here answer the
        inspector instead. mitmproxy processes an injected message in order with the
        connection's own events, as if the peer had sent it, and records it: a WebSocket
        message with its own ``injected`` flag, a TCP or UDP message with its index in
        the flow's ``flowtui.injected`` metadata (see `_note_injected`)."""
        if not content:
            raise ValueError("nothing to inject: the message is empty")
        master: Any = ctx.master
        proxyserver: Any = master.addons.get("proxyserver")
        connections: dict[Any, Any] = proxyserver.connections if proxyserver else {}
        if flow.client_conn.id not in connections:  # as inject.* looks it up (TCP)
            raise ValueError("Flow is not live.")
        if flow.type == "tcp":
            self._injecting.setdefault(flow.id, deque()).append(content)
            master.commands.call("inject.tcp", flow, to_client, content)
        elif flow.type == "http" and flow.websocket is not None:
            if flow.websocket.timestamp_end is not None:
                raise ValueError("the WebSocket connection is closed")
            if is_text is None:
                try:
                    content.decode("utf-8")
                    is_text = True
                except UnicodeDecodeError:
                    is_text = False
            master.commands.call("inject.websocket", flow, to_client, content, is_text)
        else:
            raise ValueError("only TCP and WebSocket flows take injected messages")

    def _note_injected(self, flow: Any) -> bool:
        """Whether the newest message of ``flow`` is the next one an inspector injected
        (mitmproxy records the very bytes object it was given): then its index is noted."""
        pending = self._injecting.get(flow.id)
        if not pending or not flow.messages or flow.messages[-1].content is not pending[0]:
            return False
        pending.popleft()
        if not pending:
            del self._injecting[flow.id]
        note_injected(flow, len(flow.messages) - 1)
        return True

    def replay(self, flow: Any) -> None:
        """An HTTP flow through mitmproxy's client replay (``replay.client``), on a copy:
        the original stays as it was, and the replay arrives as a new flow through the
        usual hooks, marked ``is_replay = "request"`` by mitmproxy and with
        ``metadata["flowtui.replay_of"]`` naming the original."""
        if flow.type != "http":
            raise ValueError(
                "mitmproxy replays HTTP flows only (TCP flows are replayed by the inspector: r)"
            )
        master: Any = ctx.master
        playback: Any = master.addons.get("clientplayback")
        if playback is None:
            raise ValueError("this mitmproxy has no client replay")
        copy = flow.copy()
        copy.metadata["flowtui.replay_of"] = flow.id
        problem = playback.check(copy)
        if problem:
            raise ValueError(problem)
        master.commands.call("replay.client", [copy])

    # -- held messages ----------------------------------------------------------------

    @staticmethod
    def _message_list(flow: Any) -> Any:
        ws = getattr(flow, "websocket", None)
        return ws.messages if ws is not None else getattr(flow, "messages", None)

    def held_messages(self, flow: Any) -> list[tuple[int, bytes]]:
        """mitmproxy pauses a flow's connection as a whole: at most its newest message
        is held, by the message hook waiting for the resume."""
        index = self._held.get(flow.id)
        messages = self._message_list(flow)
        if index is None or not flow.intercepted or not messages or index >= len(messages):
            return []
        return [(index, messages[index].content)]

    def change_message(self, flow: Any, index: int, content: bytes | None) -> None:
        """The held message is the one mitmproxy sends when its hook returns: its
        ``content`` is what goes out (TCP sends nothing for empty content); a WebSocket
        message is dropped with mitmproxy's ``drop()``."""
        if content is None and flow.type == "udp":
            raise ValueError(
                "mitmproxy cannot drop a UDP datagram (it would send an empty one): "
                "edit it, or kill the flow"
            )
        websocket = getattr(flow, "websocket", None) is not None
        messages = self._message_list(flow)
        change_message(flow, messages[index], index, content, websocket=websocket)

    def _hold(self, flow: Any) -> Any:
        """The message hook of an intercepted flow: note its newest message as held and
        return a waiter mitmproxy awaits (it waits for the resume after the hook anyway),
        which forgets the note once the flow is resumed or killed."""
        messages = self._message_list(flow)
        if not flow.intercepted or not messages:
            return None
        self._held[flow.id] = len(messages) - 1

        async def held() -> None:
            try:
                await flow.wait_for_resume()
            finally:
                self._held.pop(flow.id, None)

        return held()

    # -- mitmproxy hooks ------------------------------------------------------------

    def _publish(self, flow: Any) -> None:
        if self.server is not None:
            self.server.publish(flow)

    def update(self, flows: list[Any]) -> None:
        """mitmproxy fires this after every hook of a flow, a TCP message's included,
        and on changes made elsewhere (its own UI, other addons). A TCP/UDP flow is
        republished on the next sweep (coalesced, at most 0.2 s later) instead of
        having its whole state computed and compared once per message, and only when
        what others change in a flow (mark, comment, interception, error, metadata keys,
        whether it lives) differs from the last time: a flow that only gained messages
        has them sent already."""
        if self.server is None:
            return
        for flow in flows:
            if flow.id not in self.server.flows:
                continue
            if flow.type not in ("tcp", "udp"):
                self.server.publish(flow)
                continue
            if not flow.live:
                self._seen.pop(flow.id, None)
                self._recheck[flow.id] = flow
                continue
            seen = (
                flow.marked,
                flow.comment,
                flow.intercepted,
                flow.error,
                tuple(flow.metadata),
            )
            if self._seen.get(flow.id) != seen:
                self._seen[flow.id] = seen
                self._recheck[flow.id] = flow

    def _message(self, flow: Any) -> None:
        if (
            self._filter is not None
            and not flow.is_replay
            and self._direction_ok(flow)
            and self._filter(flow)
        ):
            flow.intercept()
        self._publish(flow)

    def websocket_message(self, flow: Any) -> Any:
        """A WebSocket message: held, with the flow, while the flow is intercepted."""
        if (
            self._filter is not None
            and not flow.is_replay
            and self._direction_ok(flow)
            and self._filter(flow)
        ):
            flow.intercept()
        waiter = self._hold(flow)
        self._publish(flow)
        return waiter

    def _direction_ok(self, flow: Any) -> bool:
        """Whether the message this hook is about goes the filter's way."""
        if self._direction == "both":
            return True
        ws = getattr(flow, "websocket", None)
        messages = ws.messages if ws is not None else getattr(flow, "messages", None)
        if messages is not None:  # TCP, UDP, WebSocket: the newest message
            if not messages:
                return False
            from_client = bool(messages[-1].from_client)
        else:  # HTTP, DNS: the request hook runs before there is a response
            from_client = getattr(flow, "response", None) is None
        return from_client == (self._direction == "client")

    def _start(self, flow: Any) -> None:
        """A new TCP or UDP flow: a filter of both directions holds it before it speaks."""
        if (
            self._filter is not None
            and self._direction == "both"
            and not flow.is_replay
            and self._filter(flow)
        ):
            flow.intercept()
        self._publish(flow)

    def server_connected(self, data: Any) -> None:
        """The server's address and connection details arrive after a live HTTP flow's
        first hooks: republish the live flows of that client connection now."""
        server = self.server
        if server is None:
            return
        client_id = data.client.id
        # mitmproxy gives the flow its new server connection only after this hook
        # returns: the sweep republishes these flows on its next tick.
        for flow in server.live_flows():
            if flow.client_conn.id == client_id:
                self._recheck[flow.id] = flow

    def _stream_message(self, flow: Any) -> Any:
        """A TCP or UDP message: only the messages changed, unless the filter holds it
        (a direction-limited filter holds only messages of that direction)."""
        flt = self._filter
        if flt is not None and not flow.is_replay and self._direction_ok(flow) and flt(flow):
            flow.intercept()
        waiter = self._hold(flow)
        if self.server is None:
            return waiter
        if self._injecting and self._note_injected(flow):
            self.server.publish(flow)  # its metadata changed: a full update
        elif flow.intercepted:
            self.server.publish(flow)
        else:
            self.server.publish_messages(flow)
        return waiter

    tcp_message = udp_message = _stream_message
    tcp_start = udp_start = _start

    def _stream_end(self, flow: Any) -> None:
        """A TCP or UDP flow ended: forget what was noted for it while it lived (an
        injection mitmproxy never delivered, what `update` last saw)."""
        self._injecting.pop(flow.id, None)
        self._seen.pop(flow.id, None)
        self._publish(flow)

    tcp_end = tcp_error = udp_end = udp_error = _stream_end
    requestheaders = responseheaders = error = websocket_start = websocket_end = _publish
    dns_error = _publish
    request = response = _message
    dns_request = dns_response = _message


addons = [FlowtuiLive()]
