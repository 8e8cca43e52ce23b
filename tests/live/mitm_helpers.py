"""Running the real mitmproxy tools (mitmdump, mitmweb) with the addon, and their peers.

Each proxy runs as a subprocess on 127.0.0.1 with its own confdir, is waited for through
the live socket it creates (mitmproxy brings its listeners up before addons' `running`,
so the socket existing means the proxy port is open), and is terminated at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import cast

from live_helpers import wait_until

from flowtui.live import addon_path

BIN = Path(sys.executable).parent


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux's default elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A loopback port free now for a program started next to bind.

    Picked at random below the kernel's ephemeral range: a port the kernel handed out
    (`bind(0)`) could be given again to a test's outgoing connection, or to another
    suite, before the program binds it ("address already in use").
    """
    low = _ephemeral_low()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, kind) as s:  # a crowded range: the kernel picks
        s.bind(("127.0.0.1", 0))
        picked: int = s.getsockname()[1]
        return picked


@contextlib.asynccontextmanager
async def run_mitm(
    tmp_path: Path, mode: str, *, program: str = "mitmdump", extra: Sequence[str] = ()
) -> AsyncIterator[str]:
    """Run ``program --mode MODE`` with the addon; yields the live socket's address."""
    path = tmp_path / "s" / "mitm.sock"
    proc = subprocess.Popen(
        [str(BIN / program), "--listen-host", "127.0.0.1", "--mode", mode,
         "--set", f"confdir={tmp_path / 'conf'}", "--set", "termlog_verbosity=warn",
         "-s", addon_path(), "--set", f"flowtui_listen=unix:{path}", *extra],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONWARNINGS": ""},
    )  # fmt: skip
    try:
        await wait_until(lambda: path.exists() or proc.poll() is not None, timeout=30)
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        yield f"unix:{path}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()


class UDPEcho(asyncio.DatagramProtocol):
    """A UDP server answering each datagram with ``ECHO:`` + it; records what it got."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(data)
        assert self.transport is not None
        self.transport.sendto(b"ECHO:" + data, addr)


class UDPPeer(asyncio.DatagramProtocol):
    """A UDP client socket whose answers queue up in `answers`."""

    def __init__(self) -> None:
        self.answers: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.answers.put_nowait(data)


@contextlib.asynccontextmanager
async def udp_echo() -> AsyncIterator[tuple[UDPEcho, int]]:
    loop = asyncio.get_running_loop()
    transport, echo = await loop.create_datagram_endpoint(UDPEcho, local_addr=("127.0.0.1", 0))
    try:
        yield echo, transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


@contextlib.asynccontextmanager
async def udp_peer(port: int) -> AsyncIterator[tuple[asyncio.DatagramTransport, UDPPeer]]:
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(UDPPeer, remote_addr=("127.0.0.1", port))
    try:
        yield transport, peer
    finally:
        transport.close()


class HTTPServer:
    """A tiny HTTP/1.1 server: answers every request with ``200`` and ``hello``."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.writers.append(w)
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                self.requests.append(await r.readuntil(b"\r\n\r\n"))
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                await w.drain()
        w.close()

    async def __aenter__(self) -> HTTPServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.transport.abort()
