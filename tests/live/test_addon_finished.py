"""Finished flows under a real mitmdump 11: shown finished, not killable, and freed.

mitmproxy clears ``flow.live`` only after a flow's last hook has returned (TCP after
``tcp_end``, HTTP after ``response``), so an addon that only publishes from hooks
would show every flow live forever.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest
from live_helpers import EchoServer, running_client, wait_until
from mitm_helpers import BIN, HTTPServer, free_port, run_mitm

from flowtui.live import addon_path
from flowtui.live.client import CommandError
from flowtui.store import FlowStore
from flowtui.ui.widgets.flow_info import FlowInfo

pytestmark = pytest.mark.mitmproxy


async def _http_get(port: int, path: str = "/") -> bytes:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(r.read(), 5)
    w.close()
    return data


async def test_finished_tcp_flow_is_shown_finished_and_not_killable(tmp_path: Path) -> None:
    echo = EchoServer()
    await echo.start()
    try:
        port = free_port()
        mode = f"reverse:tcp://127.0.0.1:{echo.port}@{port}"
        async with run_mitm(tmp_path, mode) as addr, running_client(addr) as client:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"one")
            assert await asyncio.wait_for(r.readexactly(8), 3) == b"ECHO:one"
            await wait_until(lambda: client.flows)
            flow_id = next(iter(client.flows))
            assert client.flows[flow_id].live
            w.close()
            # shown finished soon after the connection closes (the addon polls 5x a second)
            await wait_until(lambda: not client.flows[flow_id].live, timeout=2)
            with pytest.raises(CommandError, match="not killable"):
                await client.kill(flow_id)
    finally:
        await echo.stop()


async def test_finished_http_flows_are_shown_finished_and_retain_frees_them(
    tmp_path: Path,
) -> None:
    async with HTTPServer() as upstream:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{upstream.port}@{port}"
        extra = ["--set", "flowtui_retain=0"]
        async with run_mitm(tmp_path, mode, extra=extra) as addr, running_client(addr) as client:
            for i in range(5):
                assert (await _http_get(port, f"/{i}")).endswith(b"hello")
            await wait_until(lambda: len(client.flows) == 5)
            await wait_until(lambda: not any(f.live for f in client.flows.values()), timeout=2)
            # the server address reached the inspector with the flow's later updates
            for flow in client.flows.values():
                assert flow.server_conn.address == ("127.0.0.1", upstream.port)
            with pytest.raises(CommandError, match="not killable"):
                await client.kill(list(client.flows)[-1])
            # --retain 0: the addon forgot all but the newest finished flow
            async with running_client(addr) as late:
                await wait_until(lambda: late.flows)
                await asyncio.sleep(0.3)
                assert len(late.flows) == 1


def _startup_output(tmp_path: Path, *options: str) -> str:
    """mitmdump's output with the addon and ``options`` until it settles (2 s)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "mitmdump"), "--listen-host", "127.0.0.1", "--listen-port", str(port),
         "--set", f"confdir={tmp_path / 'conf'}", "-s", addon_path(), *options],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONWARNINGS": ""},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        out = b""
        os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]
        while time.monotonic() < deadline:
            chunk = proc.stdout.read() if proc.stdout else None
            if chunk:
                out += chunk
            if b"flowtui:" in out or b"Traceback" in out or proc.poll() is not None:
                time.sleep(0.5)
                out += (proc.stdout.read() if proc.stdout else b"") or b""
                break
            time.sleep(0.05)
        return out.decode(errors="replace")
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


@pytest.mark.parametrize(
    ("options", "expect"),
    [
        (["--set", "flowtui_listen=tcp://127.0.0.1:{port}"], "flowtui_token_file"),
        (["--set", "flowtui_listen=tcp://nonsense"], "flowtui_listen"),
        (["--set", "flowtui_listen=unix:/proc/flowtui-no-such/s.sock"], "flowtui_listen"),
        (
            ["--set", "flowtui_listen=tcp://127.0.0.1:{port}",
             "--set", "flowtui_token_file=/proc/flowtui-no-such/token"],
            "flowtui_token_file",
        ),
    ],
    ids=["tcp-without-token", "bad-address", "unusable-path", "unusable-token-file"],
)  # fmt: skip
def test_addon_startup_errors_are_one_line_naming_the_option(
    tmp_path: Path, options: list[str], expect: str
) -> None:
    filled = [o.format(port=free_port(), tmp=tmp_path) for o in options]
    out = _startup_output(tmp_path, *filled)
    assert "Traceback" not in out, out
    lines = [line for line in out.splitlines() if "flowtui:" in line]
    assert len(lines) == 1, out
    assert expect in lines[0] and "not started" in lines[0], out
    assert "--token-file" not in out


async def test_live_http_flow_shows_its_server_address_once_connected(tmp_path: Path) -> None:
    """In regular mode mitmproxy connects to the server after the request hooks: the
    address must reach the inspector while the flow is still live (the info line)."""
    release = asyncio.Event()

    async def slow(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await r.readuntil(b"\r\n\r\n")
        await release.wait()
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await w.drain()
        w.close()

    upstream = await asyncio.start_server(slow, "127.0.0.1", 0)
    up_port = upstream.sockets[0].getsockname()[1]
    try:
        port = free_port()
        async with (
            run_mitm(tmp_path, "regular", extra=["--listen-port", str(port)]) as addr,
            running_client(addr) as client,
        ):
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(f"GET http://127.0.0.1:{up_port}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await wait_until(lambda: client.flows)
            flow = next(iter(client.flows.values()))
            await wait_until(lambda: flow.server_conn.address is not None)
            assert flow.live and flow.response is None
            assert tuple(flow.server_conn.address) == ("127.0.0.1", up_port)
            store = FlowStore()
            store.add([flow])
            line = FlowInfo(store).describe(flow).markup
            assert f"127.0.0.1:{up_port}" in line and "no address" not in line
            release.set()
            assert (await asyncio.wait_for(r.readuntil(b"\r\n\r\nok"), 5)).startswith(b"HTTP")
            w.close()
    finally:
        release.set()
        upstream.close()
