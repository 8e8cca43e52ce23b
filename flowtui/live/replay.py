"""Replay of a finished TCP flow: the client's messages, sent again to its server.

Why: mitmproxy cannot replay TCP. `replay_tcp` opens a new connection to the flow's
server address (over TLS with the original SNI and ALPN offers when the original
connection used TLS), sends the client's messages in order, as fast as possible or
with the original gaps between them, records what the server answers, and returns the
new conversation as a new `TCPFlow` marked ``is_replay = "request"`` (the value
mitmproxy gives a flow it replayed from the client side) with
``metadata["flowtui.replay_of"]`` naming the original.

TLS is not verified for a replay: the server is the one the original flow talked to,
and the point is to send it the same bytes again, even where its certificate is
self-signed or expired. Nothing else in flowtui turns verification off.

The engine is plain asyncio and imports no UI: the TUI runs it in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from flowtui.core import Client, Error, Server, TCPFlow, TCPMessage

__all__ = ["ReplayError", "ReplayOptions", "replay_tcp", "replayable"]

Sleep = Callable[[float], Awaitable[None]]

REPLAY_MARK = "request"
"""`Flow.is_replay` of a replayed flow: mitmproxy's value for a client-side replay."""


class ReplayError(ValueError):
    """The flow cannot be replayed (not TCP, still live, no server address, ...)."""


@dataclass(frozen=True)
class ReplayOptions:
    """How a replay runs."""

    timing: bool = False
    """Keep the original gaps between the client's messages (else: as fast as possible)."""
    max_gap: float = 30.0
    """The longest gap waited between two messages in timing mode, in seconds."""
    connect_timeout: float = 10.0
    """Seconds to connect (and finish the TLS handshake)."""
    idle: float = 2.0
    """After the last message is sent, the replay ends when the server has said nothing
    for this many seconds (or when it closes the connection)."""
    timeout: float = 60.0
    """The longest a replay waits for answers after its last message, in seconds."""


def replayable(flow: object) -> str | None:
    """None if ``flow`` can be replayed, else why not (one line for the user)."""
    if not isinstance(flow, TCPFlow):
        return "only TCP flows can be replayed here"
    if flow.live:
        return "the flow is still live: replay it once it is finished"
    if flow.server_conn.address is None:
        return "the flow has no server address"
    client = [m for m in flow.messages if m.from_client]
    if not client:
        return "the client sent nothing in this flow"
    if _encrypted(flow):
        return (
            "its bytes are the encrypted TLS stream (the proxy passed TLS through): "
            "they cannot be sent over a new TLS session"
        )
    return None


def _encrypted(flow: TCPFlow) -> bool:
    """The client's first bytes are a TLS handshake record: the recording holds the
    encrypted stream (a relay), not the decrypted messages (mitmproxy intercepting TLS)."""
    first = next((m.content for m in flow.messages if m.from_client), b"")
    return len(first) >= 3 and first[0] == 0x16 and first[1] == 0x03


def _tls_context(flow: TCPFlow) -> ssl.SSLContext | None:
    """A client context for a flow whose server connection used TLS (verification off,
    see the module's note), offering the original ALPN protocols; None for plain TCP."""
    client, server = flow.client_conn, flow.server_conn
    if not (server.tls or client.tls):
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    offers = list(server.alpn_offers or client.alpn_offers)
    if not offers and (server.alpn or client.alpn):
        offers = [server.alpn or client.alpn or b""]
    protocols = [p.decode("ascii", "replace") for p in offers if p]
    if protocols:
        ctx.set_alpn_protocols(protocols)
    return ctx


def _gaps(flow: TCPFlow, max_gap: float) -> list[float]:
    """The original pause before each client message (0 for the first)."""
    out: list[float] = []
    previous: float | None = None
    for m in flow.messages:
        if not m.from_client:
            continue
        ts = m.timestamp
        gap = 0.0 if previous is None or ts is None else max(0.0, ts - previous)
        out.append(min(gap, max_gap))
        previous = ts if ts is not None else previous
    return out


async def replay_tcp(
    flow: TCPFlow,
    options: ReplayOptions | None = None,
    *,
    sleep: Sleep = asyncio.sleep,
) -> TCPFlow:
    """Replay ``flow`` (see the module); returns the new flow, never raises for a
    network failure (the new flow carries the error, as a proxied flow would).

    ``sleep`` is what waits the original gaps in timing mode (tests pass their own)."""
    problem = replayable(flow)
    if problem is not None:
        raise ReplayError(f"Cannot replay this flow: {problem}.")
    opts = options or ReplayOptions()
    orig = flow.server_conn
    assert orig.address is not None
    host, port = orig.address
    ctx = _tls_context(flow)
    sni = orig.sni or flow.client_conn.sni or (host if ctx is not None else None)
    now = time.time()
    server = Server(address=(host, port), timestamp_start=now)
    new = TCPFlow(
        Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0), timestamp_start=now),
        server,
        live=False,
    )
    new.is_replay = REPLAY_MARK
    new.metadata["flowtui.replay_of"] = flow.id
    if opts.timing:
        new.metadata["flowtui.replay_timing"] = True
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host, port, ssl=ctx, server_hostname=sni if ctx is not None else None
            ),
            opts.connect_timeout,
        )
    except (OSError, TimeoutError, ssl.SSLError) as e:
        server.error = str(e) or type(e).__name__
        new.error = Error(f"Cannot connect to {host}:{port}: {server.error}")
        new.client_conn.timestamp_end = server.timestamp_end = time.time()
        return new
    _describe(new, writer, ctx is not None, sni)
    reading = asyncio.create_task(_read_answers(new, reader))
    try:
        for content, gap in zip(
            (m.content for m in flow.messages if m.from_client),
            _gaps(flow, opts.max_gap),
            strict=True,
        ):
            if opts.timing and gap > 0:
                await sleep(gap)
            if reading.done():
                break  # the server closed: what is left cannot be sent
            new.messages.append(TCPMessage(True, content))
            writer.write(content)
            await writer.drain()
        await _wait_answers(new, reading, opts)
    except (OSError, ssl.SSLError) as e:
        if new.error is None:
            new.error = Error(f"server connection: {e}")
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reading
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 1)
        new.client_conn.timestamp_end = server.timestamp_end = time.time()
    return new


def _describe(new: TCPFlow, writer: asyncio.StreamWriter, tls: bool, sni: str | None) -> None:
    """The new connection's addresses and TLS details."""
    server, client = new.server_conn, new.client_conn
    server.timestamp_tcp_setup = time.time()
    peer, local = writer.get_extra_info("peername"), writer.get_extra_info("sockname")
    if peer:
        server.peername = (peer[0], peer[1])
    if local:
        server.sockname = (local[0], local[1])
        client.peername = client.sockname = (local[0], local[1])
    if tls:
        obj = writer.get_extra_info("ssl_object")
        server.tls, server.sni = True, sni
        server.timestamp_tls_setup = time.time()
        if isinstance(obj, ssl.SSLObject):
            alpn = obj.selected_alpn_protocol()
            server.alpn = alpn.encode() if alpn else None
            cipher = obj.cipher()
            server.cipher = cipher[0] if cipher else None
            version = obj.version()
            if version in ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"):
                server.tls_version = version  # type: ignore[assignment]


async def _read_answers(new: TCPFlow, reader: asyncio.StreamReader) -> None:
    """Record what the server sends, as it arrives, until it closes."""
    while True:
        try:
            data = await reader.read(65536)
        except (OSError, ssl.SSLError) as e:
            if new.error is None:
                new.error = Error(f"server connection: {e}")
            return
        if not data:
            return
        new.messages.append(TCPMessage(False, data))


async def _wait_answers(new: TCPFlow, reading: asyncio.Task[None], opts: ReplayOptions) -> None:
    """Wait until the server closes, or says nothing for `opts.idle` seconds (bounded by
    `opts.timeout`)."""
    deadline = time.monotonic() + opts.timeout
    seen = -1
    while not reading.done() and time.monotonic() < deadline:
        if len(new.messages) == seen:
            return  # quiet for a whole `idle`
        seen = len(new.messages)
        await asyncio.wait({reading}, timeout=opts.idle)
