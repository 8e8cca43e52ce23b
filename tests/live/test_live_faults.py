"""The live socket under faults: the proxy dies, an inspector dies while it holds flows,
half-open and garbage-spewing peers, and another user knocking at the socket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from live_helpers import EchoServer, relay_setup, running_client, wait_until

from flowtui.live.protocol import FrameDecoder, encode, hello

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _connect_retry(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    deadline = time.monotonic() + 15
    while True:
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_proxy_killed_while_attached_client_keeps_its_flows(tmp_path: Path) -> None:
    """SIGKILL `flowtui proxy`: the inspector says "lost" and keeps every flow it had."""
    echo = EchoServer()
    await echo.start()
    listen, sock = _free_port(), tmp_path / "s" / "live.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "proxy", "--listen", f"127.0.0.1:{listen}",
         "--upstream", f"127.0.0.1:{echo.port}", "--socket", str(sock)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        r, w = await _connect_retry(listen)
        w.write(b"before the crash")
        assert await asyncio.wait_for(r.readexactly(21), 5) == b"ECHO:before the crash"
        await wait_until(sock.exists, timeout=10)
        async with running_client(f"unix:{sock}") as client:
            fid = next(iter(await wait_until(lambda: client.flows, timeout=5)))
            await wait_until(lambda: len(client.flows[fid].messages) == 2)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            await wait_until(lambda: client.status.startswith("lost"), timeout=5)
            assert [m.content for m in client.flows[fid].messages] == [
                b"before the crash",
                b"ECHO:before the crash",
            ]
        w.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        await echo.stop()


INSPECTOR = textwrap.dedent(
    """
    import asyncio, sys
    from flowtui.live.client import LiveClient

    async def main():
        client = LiveClient(sys.argv[1])
        task = asyncio.create_task(client.run())
        await asyncio.wait_for(client.connected.wait(), 10)
        while not client.flows:
            await asyncio.sleep(0.01)
        await client.intercept(next(iter(client.flows)))
        print("intercepted", flush=True)
        await asyncio.sleep(60)  # killed long before this ends
        task.cancel()

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("policy", ["resume", "kill"])
async def test_inspector_killed_while_intercepting(tmp_path: Path, policy: str) -> None:
    """An inspector process holding a flow is SIGKILLed: the on-detach policy applies."""
    async with relay_setup(tmp_path, on_detach=policy) as (relay, echo, addr):
        r, w = await asyncio.open_connection(*relay.listen)
        w.write(b"hi")
        assert await asyncio.wait_for(r.readexactly(7), 3) == b"ECHO:hi"
        inspector = await asyncio.create_subprocess_exec(
            sys.executable, "-c", INSPECTOR, addr, env=ENV, stdout=subprocess.PIPE
        )
        try:
            assert inspector.stdout is not None
            line = await asyncio.wait_for(inspector.stdout.readline(), 15)
            assert line == b"intercepted\n"
            fid = next(iter(relay.live.flows))
            w.write(b"held")
            await wait_until(lambda: len(relay.live.flows[fid].messages) == 3)
            assert bytes(echo.received) == b"hi"  # held while intercepted
            inspector.send_signal(signal.SIGKILL)
            await asyncio.wait_for(inspector.wait(), 5)
        finally:
            if inspector.returncode is None:
                inspector.kill()
                await inspector.wait()
        await wait_until(lambda: relay.live.inspectors == 0)
        if policy == "resume":
            assert await asyncio.wait_for(r.readexactly(9), 3) == b"ECHO:held"
        else:
            assert await asyncio.wait_for(r.read(), 3) == b""
            assert relay.live.flows[fid].error is not None
        w.close()


async def test_half_open_inspectors_do_not_hold_anything(tmp_path: Path) -> None:
    """One peer sends half a hello and goes quiet; one says hello then shuts its write
    side: traffic flows, the quiet one is dropped at the hello deadline, and the
    half-closed one is detached."""
    async with relay_setup(tmp_path) as (relay, _echo, addr), running_client(addr) as good:
        path = addr.removeprefix("unix:")
        r1, w1 = await asyncio.open_unix_connection(path)
        w1.write(encode(hello("inspector", "half"))[:7])  # a partial frame, then silence
        _r2, w2 = await asyncio.open_unix_connection(path)
        w2.write(encode(hello("inspector", "half-closed")))
        await w2.drain()
        await wait_until(lambda: relay.live.inspectors == 2)
        w2.write_eof()
        await wait_until(lambda: relay.live.inspectors == 1)  # only the good one
        r, w = await asyncio.open_connection(*relay.listen)
        w.write(b"through")
        assert await asyncio.wait_for(r.readexactly(12), 3) == b"ECHO:through"
        await wait_until(lambda: good.flows)
        # The silent one is closed by the server once the hello deadline passes.
        assert await asyncio.wait_for(r1.read(), 10) == b""
        w.close()
        w1.close()
        w2.close()


async def test_garbage_flood_from_a_rogue_client(tmp_path: Path) -> None:
    """Five rogues pour random bytes (and oversized length prefixes) into the socket:
    each is closed, nothing buffers without bound, the good inspector and traffic go on."""
    async with relay_setup(tmp_path) as (relay, _echo, addr), running_client(addr) as good:
        path = addr.removeprefix("unix:")
        rng = os.urandom

        async def rogue(n: int) -> bytes:
            r, w = await asyncio.open_unix_connection(path)
            if n % 2:  # a proper hello first, then garbage
                w.write(encode(hello("inspector", "rogue")))
            try:
                for _ in range(64):  # up to 4 MB each, until the server hangs up
                    w.write(rng(65536))
                    await asyncio.wait_for(w.drain(), 3)
            except (ConnectionError, OSError):
                pass
            try:
                rest = await asyncio.wait_for(r.read(), 5)
            except ConnectionError:  # closed by the server with our garbage unread: the
                rest = b""  # reset or broken pipe of the write comes out of the read
            w.close()
            return rest

        answers = await asyncio.gather(*(rogue(n) for n in range(5)))
        for n, answer in enumerate(answers):  # a greeted rogue is told why, then closed
            messages = FrameDecoder().feed(answer) if answer else []
            assert not messages or messages[-1]["type"] == "error", n
        await wait_until(lambda: relay.live.inspectors == 1)
        r, w = await asyncio.open_connection(*relay.listen)
        w.write(b"still here")
        assert await asyncio.wait_for(r.readexactly(15), 3) == b"ECHO:still here"
        await wait_until(lambda: good.flows)
        assert good.connected.is_set()
        w.close()


def _knock_as(user: str, path: Path) -> str:
    """Connect to ``path`` from a forked child running as ``user`` (root's Python may
    not be executable by that user, so no exec); the outcome comes back through a pipe."""
    import pwd

    who = pwd.getpwnam(user)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        outcome = "connected"
        try:
            os.setgroups([])
            os.setgid(who.pw_gid)
            os.setuid(who.pw_uid)
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(path))
        except OSError as e:
            outcome = type(e).__name__
        os.write(w, outcome.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(pid, 0)
    return outcome


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as another user")
async def test_socket_refuses_another_user(tmp_path: Path) -> None:
    """As user nobody: refused by the 0700 directory, and by the 0600 socket alone too."""
    async with relay_setup(tmp_path) as (_relay, _echo, addr):
        path = Path(addr.removeprefix("unix:"))
        for p in (tmp_path, *tmp_path.parents):  # let nobody walk up to the socket dir
            if p == Path("/"):
                break
            p.chmod(p.stat().st_mode | 0o011)
        assert _knock_as("nobody", path) == "PermissionError"  # the private directory
        path.parent.chmod(0o711)
        try:
            assert _knock_as("nobody", path) == "PermissionError"  # the socket's own mode
            assert _knock_as("root", path) == "connected"  # while its owner gets in
        finally:
            path.parent.chmod(0o700)


async def test_a_burst_of_1000_connections_is_relayed(tmp_path: Path) -> None:
    """Found by bench/soak.py: with asyncio's default accept backlog (100), a burst of
    connections to `flowtui proxy` was reset by the kernel (86 of 1,000 on this machine)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2600:
        pytest.skip("needs 2,600 file descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2600), hard))

    # Handlers still running when the test ends must be closed here: a writer left for
    # the garbage collector after the loop is gone warns in whichever test runs next.
    upstream_writers: set[asyncio.StreamWriter] = set()

    async def echo_back(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        upstream_writers.add(w)
        with contextlib.suppress(OSError):
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        w.close()

    upstream = await asyncio.start_server(echo_back, "127.0.0.1", 0, backlog=4096)
    up_port = upstream.sockets[0].getsockname()[1]
    listen = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "proxy", "--listen", f"127.0.0.1:{listen}",
         "--upstream", f"127.0.0.1:{up_port}", "--socket", str(tmp_path / "s" / "l.sock")],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _r, w = await _connect_retry(listen)
        w.close()
        payload = os.urandom(128 * 1024)

        async def one() -> bool:
            r, w = await asyncio.open_connection("127.0.0.1", listen)
            try:
                w.write(payload)
                return await asyncio.wait_for(r.readexactly(len(payload)), 30) == payload
            finally:
                w.close()

        for _ in range(2):  # two bursts: the overflow does not happen every time
            results = await asyncio.gather(*(one() for _ in range(1000)), return_exceptions=True)
            failed = [r for r in results if r is not True]
            assert failed == [], f"{len(failed)} failed, first: {failed[0]!r}"
    finally:
        proc.kill()
        proc.wait(10)
        upstream.close()
        for writer in upstream_writers:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for w in upstream_writers), return_exceptions=True)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
