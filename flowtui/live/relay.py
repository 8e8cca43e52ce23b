"""`flowtui proxy`: a recording TCP relay that serves the live socket.

Why: people without mitmproxy still want to watch and steer a connection, and the
tests need a proxy whose every step is ours. Each accepted connection is relayed to
one upstream and recorded as a `TCPFlow`, filled as mitmproxy fills it in reverse-TCP
mode. Interception holds the bytes of both directions after they are recorded (as
mitmproxy does) until a resume; a kill aborts both sockets at once.

The intercept filter (`set_intercept`, flowtui's filter language) holds matching flows
as they arrive: a new connection before its first byte is relayed, and each new message
of a matching flow (optionally only those of one direction) until it is resumed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO

from flowtui.core import Cert, Client, Error, Flow, ProxyMode, Server, TCPFlow, TCPMessage
from flowtui.core.filters import Filter, FilterError, parse
from flowtui.io import FlowWriter
from flowtui.live.chunks import ChunkStream, open_chunk_connection
from flowtui.live.endpoints import (
    Endpoint,
    default_socket_path,
    load_or_create_token,
    parse_endpoint,
)
from flowtui.live.held import change_message
from flowtui.live.injected import note_injected
from flowtui.live.server import DetachPolicy, InterceptDirection, LiveServer
from flowtui.live.tls_sniff import HandshakeSniffer, TlsInfo

__all__ = ["Relay", "main"]

log = logging.getLogger("flowtui.live")


def _hostport(spec: str) -> tuple[str, int]:
    host, sep, port = spec.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {spec!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _closing(stream: ChunkStream) -> bool:
    """The socket is closed or closing: nothing more can be written to it."""
    return stream.transport is None or stream.transport.is_closing()


class _Conn:
    """The two real sockets of one relayed connection."""

    def __init__(self, flow: TCPFlow, client: ChunkStream) -> None:
        self.flow = flow
        self.client = client
        self.server: ChunkStream | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.injecting: deque[tuple[bool, bytes]] = deque()
        """Messages injected while the flow was held, waiting for its resume."""
        self.tls = TlsInfo()
        self.sniffers = (HandshakeSniffer(self.tls, True), HandshakeSniffer(self.tls, False))
        self.held: dict[bool, int] = {}
        """The message each direction's pump holds now (from_client -> its index)."""

    def abort(self) -> None:
        for w in (self.client, self.server):
            if w is not None:
                w.abort()
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()


class Relay:
    """Relays ``listen`` to ``upstream``, recording flows into a `LiveServer`."""

    def __init__(
        self,
        listen: tuple[str, int],
        upstream: tuple[str, int],
        *,
        write_to: str | None = None,
        token: str | None = None,
        on_detach: DetachPolicy = "resume",
        queue_limit: int = 8 * 1024 * 1024,
        retain_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        self.listen = listen
        self.upstream = upstream
        self.live = LiveServer(
            self,
            token=token,
            on_detach=on_detach,
            queue_limit=queue_limit,
            retain_bytes=retain_bytes,
            software="flowtui",
            record=str(Path(write_to).resolve()) if write_to else None,
        )
        """The inspector-facing socket server."""
        self._conns: dict[str, _Conn] = {}
        self._handlers: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._file: BinaryIO | None = Path(write_to).open("ab") if write_to else None  # noqa: SIM115
        self._writer = FlowWriter(self._file) if self._file else None
        self.mode = ""
        self.intercept_filter: Filter | None = None
        """Flows matching it are held as they arrive (see `set_intercept`)."""
        self.intercept_direction: InterceptDirection = "both"
        """Which messages the filter holds: ``both``, ``client`` (client to server) or
        ``server`` (server to client)."""

    # -- FlowControl ----------------------------------------------------------------

    def base_state(self, flow: Any) -> dict[str, Any]:
        state: dict[str, Any] = Flow.get_state(flow)
        return state

    def kill(self, flow: Any) -> None:
        conn = self._conns.get(flow.id)
        flow.kill()
        if conn is not None:
            conn.abort()

    def set_intercept(self, spec: str | None, direction: InterceptDirection = "both") -> None:
        """Hold flows matching ``spec`` as they arrive (None or ``""``: stop holding new
        ones; flows held already stay held until resumed). `FilterError` (a `ValueError`)
        for an invalid expression, with the position of the error."""
        try:
            flt = parse(spec) if spec else None
        except FilterError as e:
            raise ValueError(f"invalid intercept filter: {e}") from None
        self.intercept_filter, self.intercept_direction = flt, direction

    def _filter_holds(self, flow: TCPFlow, from_client: bool | None) -> bool:
        """Whether the intercept filter holds ``flow`` now: at its start (``from_client``
        None: only a filter of both directions holds a connection before it speaks) or
        for a new message in the given direction."""
        flt = self.intercept_filter
        if flt is None or flow.is_replay:
            return False
        direction = self.intercept_direction
        if from_client is None:
            wanted = direction == "both"  # a connection that has not spoken yet
        else:
            wanted = direction == "both" or from_client == (direction == "client")
        return wanted and flt(flow)

    # -- inject and replay -----------------------------------------------------------

    def inject(self, flow: Any, to_client: bool, content: bytes, is_text: bool | None) -> None:
        """Send ``content`` to the client (``to_client``) or to the server of a live flow,
        in order with the relayed stream, and record it as a message of the flow marked
        injected (`flowtui.live.injected`). A held flow sends it once resumed, after what it held.
        `ValueError` when that side of the connection is gone."""
        conn = self._conns.get(flow.id)
        writer = None if conn is None else conn.client if to_client else conn.server
        if conn is None or writer is None or _closing(writer):
            raise ValueError("Flow is not live.")
        if not content:
            raise ValueError("nothing to inject: the message is empty")
        if flow.intercepted or conn.injecting:
            conn.injecting.append((to_client, content))
            if len(conn.injecting) == 1:
                task = asyncio.create_task(self._inject_when_resumed(conn))
                conn.tasks.append(task)
            return
        self._inject_now(conn, to_client, content)

    async def _inject_when_resumed(self, conn: _Conn) -> None:
        """Send what was injected into a held flow once it is resumed: the pumps waiting
        for the same resume write what they held first (they waited first)."""
        while conn.injecting:
            await conn.flow.wait_for_resume()
            await asyncio.sleep(0)  # the held messages go out first
            if conn.flow.intercepted:
                continue  # held again meanwhile
            to_client, content = conn.injecting.popleft()
            with contextlib.suppress(ValueError):
                self._inject_now(conn, to_client, content)

    def _inject_now(self, conn: _Conn, to_client: bool, content: bytes) -> None:
        """Write and record an injected message now. The pumps record a message and
        write it in one step (no wait between) unless the flow is held, so a message
        injected here never lands inside or before one already recorded."""
        flow = conn.flow
        writer = conn.client if to_client else conn.server
        if writer is None or _closing(writer):
            raise ValueError("Flow is not live.")
        try:
            writer.write(content)
        except RuntimeError:  # its side was half-closed (write_eof)
            raise ValueError(
                f"the {'client' if to_client else 'server'} side of the connection is closed"
            ) from None
        flow.messages.append(TCPMessage(not to_client, content))
        note_injected(flow, len(flow.messages) - 1)
        self.live.publish(flow)  # the metadata changed too: a full update

    @staticmethod
    def _drop_injections(conn: _Conn) -> None:
        """The connection ended while messages injected into it were held: they are
        never sent (nor recorded)."""
        if conn.injecting:
            conn.injecting.clear()
            for task in conn.tasks:
                task.cancel()

    def replay(self, flow: Any) -> None:
        """HTTP replay needs mitmproxy: the relay knows TCP only (TCP flows are replayed
        by the inspector itself, `flowtui.live.replay`)."""
        raise ValueError(
            "flowtui proxy relays TCP only: replaying an HTTP flow needs mitmproxy with the "
            "flowtui addon (TCP flows are replayed by the inspector: r)"
        )

    def held_messages(self, flow: Any) -> list[tuple[int, bytes]]:
        """Each direction's pump holds at most the message it read last."""
        conn = self._conns.get(flow.id)
        if conn is None or not flow.intercepted:
            return []
        return [(i, flow.messages[i].content) for i in sorted(conn.held.values())]

    def change_message(self, flow: Any, index: int, content: bytes | None) -> None:
        """The pump holding message ``index`` sends its content as it is on resume
        (nothing when dropped)."""
        change_message(flow, flow.messages[index], index, content)

    def changed(self, flow: Any) -> None:
        # A flow already written (closed) changed, e.g. a comment added afterwards:
        # append it again, so the recording's last copy of it is the current one.
        if flow.id not in self._conns and not flow.live:
            self._record(flow)

    # -- lifecycle ------------------------------------------------------------------

    async def start(self, endpoint: Endpoint) -> tuple[str, int]:
        """Start the live socket and the relay; returns the relay's real address."""
        await self.live.start(endpoint)
        # A burst of connections must not overflow the accept queue (default 100).
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: ChunkStream(on_connected=self._accepted), *self.listen, backlog=1024
        )
        addr = self._server.sockets[0].getsockname()
        self.listen = (addr[0], addr[1])
        host, port = self.upstream
        self.mode = f"reverse:tcp://{host}:{port}@{self.listen[1]}"
        log.info("relaying %s:%d -> %s:%d", *self.listen, host, port)
        return self.listen

    async def close(self) -> None:
        """Stop accepting, abort open connections, write their flows, stop the socket."""
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns.values()):
            conn.abort()
        tasks = [t for c in self._conns.values() for t in c.tasks] + list(self._handlers)
        if tasks:
            await asyncio.wait(tasks, timeout=2)
        await self.live.close()
        if self._file is not None:
            self._file.close()

    # -- one connection -------------------------------------------------------------

    def _accepted(self, stream: ChunkStream) -> None:
        task = asyncio.get_running_loop().create_task(self._handle(stream))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _handle(self, writer: ChunkStream) -> None:
        reader = writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = writer.get_extra_info("peername")
        local = writer.get_extra_info("sockname")
        client = Client(
            peername=(peer[0], peer[1]),
            sockname=(local[0], local[1]),
            timestamp_start=time.time(),
            proxy_mode=ProxyMode.parse(self.mode),
        )
        server = Server(address=self.upstream)
        flow = TCPFlow(client, server, live=True)
        conn = _Conn(flow, writer)
        self._conns[flow.id] = conn
        try:
            server.timestamp_start = time.time()
            try:
                up_writer = await asyncio.wait_for(open_chunk_connection(*self.upstream), 10)
            except (OSError, TimeoutError) as e:
                server.error = str(e) or type(e).__name__
                flow.error = Error(f"Cannot connect to {self.upstream[0]}:{self.upstream[1]}: {e}")
                writer.abort()
                return
            conn.server = up_writer
            up_sock = up_writer.get_extra_info("socket")
            if up_sock is not None:
                up_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            server.timestamp_tcp_setup = time.time()
            speer = up_writer.get_extra_info("peername")
            slocal = up_writer.get_extra_info("sockname")
            server.peername, server.sockname = (speer[0], speer[1]), (slocal[0], slocal[1])
            if self._filter_holds(flow, None):
                flow.intercept()  # held before its first byte is relayed
            self.live.publish(flow)
            conn.tasks = [
                asyncio.create_task(self._pump(conn, reader, up_writer, True)),
                asyncio.create_task(self._pump(conn, up_writer, writer, False)),
            ]
            await asyncio.gather(*conn.tasks, return_exceptions=True)
        finally:
            self._finish(conn)

    async def _pump(
        self,
        conn: _Conn,
        reader: ChunkStream,
        writer: ChunkStream,
        from_client: bool,
    ) -> None:
        flow = conn.flow
        sniffer = conn.sniffers[0 if from_client else 1]
        try:
            while True:
                data = await reader.read()
                if not data:
                    break
                flow.messages.append(TCPMessage(from_client, data))
                index = len(flow.messages) - 1
                held = not flow.intercepted and self._filter_holds(flow, from_client)
                if held:
                    flow.intercept()
                if not sniffer.done:
                    sniffer.feed(data)
                    self._apply_tls(conn)
                    self.live.publish(flow)  # the TLS details may have changed
                elif not flow.intercepted:  # (held: `_hold` publishes it)
                    self.live.publish_messages(flow)
                if flow.intercepted:
                    data = await self._hold(conn, from_client, index)
                if data:  # a dropped message sends nothing
                    writer.write(data)
                    await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except OSError as e:
            if flow.error is None:
                flow.error = Error(f"{'client' if from_client else 'server'} connection: {e}")
            conn.abort()

    async def _hold(self, conn: _Conn, from_client: bool, index: int) -> bytes:
        """Hold message ``index`` until the flow is resumed; returns the bytes to send
        then (an inspector may have edited or dropped it meanwhile)."""
        flow = conn.flow
        conn.held[from_client] = index
        if flow.intercepted:  # (always, unless the TLS publish above resumed it)
            self.live.publish(flow)  # now with this message held
        try:
            await flow.wait_for_resume()
        finally:
            conn.held.pop(from_client, None)
        content: bytes = flow.messages[index].content
        return content

    def _apply_tls(self, conn: _Conn) -> None:
        info, flow = conn.tls, conn.flow
        if not info.client_hello:
            return
        for c in (flow.client_conn, flow.server_conn):
            c.tls = True
            c.sni, c.alpn_offers, c.cipher_list = info.sni, list(info.alpn_offers), info.cipher_list
            if info.server_hello:
                c.tls_version = info.version  # type: ignore[assignment]
                c.cipher, c.alpn = info.cipher, info.alpn
                if c.timestamp_tls_setup is None:
                    c.timestamp_tls_setup = time.time()
        if info.certificates:
            flow.server_conn.certificate_list = [Cert(pem=p) for p in info.certificates]
        flow.metadata["flowtui.tls_offered_versions"] = list(info.offered_versions)

    def _finish(self, conn: _Conn) -> None:
        flow = conn.flow
        self._drop_injections(conn)
        self._conns.pop(flow.id, None)
        now = time.time()
        for w in (conn.client, conn.server):
            if w is not None:
                w.close()
        flow.client_conn.timestamp_end = now
        if conn.server is not None:
            flow.server_conn.timestamp_end = now
        flow.live = False
        if flow.intercepted:
            flow.intercepted = False
        self.live.publish(flow)
        self._record(flow)

    def _record(self, flow: TCPFlow) -> None:
        """Append ``flow`` to the ``-w`` recording, if any."""
        if self._writer is not None and self._file is not None:
            try:
                self._writer.add(flow)
                self._file.flush()
            except OSError as e:
                log.error("cannot write flow %s: %s", flow.id, e)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="flowtui proxy",
        description="A recording TCP relay that serves flowtui's live socket: each connection "
        "to --listen is relayed to --upstream and recorded as a flow that inspectors "
        "(flowtui attach) watch, intercept, resume and kill.",
        epilog="exit status: 0 after SIGINT/SIGTERM; 1 if it cannot start (address in use, "
        "bad token file); 2 for a bad command line. Errors go to stderr.",
    )
    p.add_argument(
        "--listen",
        type=_hostport,
        default=("127.0.0.1", 8080),
        metavar="HOST:PORT",
        help="where clients connect (default 127.0.0.1:8080)",
    )
    p.add_argument(
        "--upstream",
        type=_hostport,
        required=True,
        metavar="HOST:PORT",
        help="the server each connection is relayed to",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--socket",
        metavar="PATH",
        help="Unix socket path for inspectors (default: a private directory; the address "
        "is printed at start)",
    )
    where.add_argument(
        "--tcp",
        type=_hostport,
        metavar="HOST:PORT",
        help="serve inspectors over TCP instead (needs --token-file)",
    )
    p.add_argument(
        "--token-file",
        metavar="FILE",
        help="token file for --tcp (created, mode 0600, if absent; refused if another user "
        "owns it or other users can read or write it)",
    )
    p.add_argument(
        "-w",
        "--write",
        metavar="FILE",
        help="append completed flows to this mitmproxy capture",
    )
    p.add_argument(
        "--on-detach",
        choices=("keep", "resume", "kill"),
        default="resume",
        help="what intercepted flows do when the last inspector detaches: resume them "
        "(default: no connection stays held by an inspector that is gone, and an intercept "
        "filter it set is cleared), keep them held (an inspector attaching later can resume "
        "them), or kill them",
    )
    p.add_argument(
        "--retain",
        type=int,
        default=256,
        metavar="MB",
        help="message megabytes of completed flows kept for inspectors attaching later "
        "(default 256; the oldest are forgotten first; -w keeps everything)",
    )
    return p


async def _run(args: argparse.Namespace) -> None:
    token = None
    if args.tcp:
        token = load_or_create_token(args.token_file)
        endpoint = Endpoint("tcp", host=args.tcp[0], port=args.tcp[1])
    else:
        endpoint = parse_endpoint(args.socket or default_socket_path())
    relay = Relay(
        args.listen,
        args.upstream,
        write_to=args.write,
        token=token,
        on_detach=args.on_detach,
        retain_bytes=args.retain * 1024 * 1024,
    )
    listen = await relay.start(endpoint)
    print(
        f"flowtui proxy: relaying {listen[0]}:{listen[1]} -> {args.upstream[0]}:"
        f"{args.upstream[1]}; inspectors: flowtui attach {relay.live.endpoint}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await relay.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``flowtui proxy``; returns the exit status (1: it could not start;
    argparse exits with 2 for a bad command line). Errors go to stderr."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.tcp and not args.token_file:
        parser.error("--tcp needs --token-file")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        asyncio.run(_run(args))
    except (OSError, ValueError) as e:
        print(f"flowtui proxy: error: {e}", file=sys.stderr, flush=True)
        return 1
    return 0
