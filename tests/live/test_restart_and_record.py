"""A real `flowtui proxy` restarting under an attached inspector, and its `-w` file."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from live_helpers import EchoServer, relay_setup, running_client, wait_until
from mitm_helpers import free_port

from flowtui.io import read_flows
from flowtui.live.notes import detached_reason
from flowtui.ui.app import make_app


@contextmanager
def _relay_process(sock: Path, upstream: int, listen: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "proxy", "--listen", f"127.0.0.1:{listen}",
         "--upstream", f"127.0.0.1:{upstream}", "--socket", str(sock)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    for _ in range(300):
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("the relay never listened")


async def test_flows_live_at_a_proxy_restart_are_detached_and_say_why(tmp_path: Path) -> None:
    echo = EchoServer()
    await echo.start()
    sock, listen = tmp_path / "s" / "live.sock", free_port()
    app = make_app([], attach=f"unix:{sock}", detail_delay=0)
    try:
        with _relay_process(sock, echo.port, listen) as first:
            async with app.run_test(size=(120, 40)) as pilot:
                r, w = await _connect(listen)
                w.write(b"one")
                assert await asyncio.wait_for(r.readexactly(8), 5) == b"ECHO:one"
                await wait_until(lambda: len(app.store) == 1, timeout=10)
                await pilot.press("i")
                flow = app.store.view[-1]
                await wait_until(lambda: flow.intercepted, timeout=5)
                first.send_signal(signal.SIGKILL)  # no goodbye: the flows stay "live"
                first.wait(5)
                w.transport.abort()
                with _relay_process(sock, echo.port, listen):
                    health = app.attachment.health  # type: ignore[union-attr]
                    await wait_until(
                        lambda: "restarted" in app.attachment.health,  # type: ignore[union-attr]
                        timeout=15,
                    )
                    health = app.attachment.health  # type: ignore[union-attr]
                    assert "1 live flow detached" in health
                    flow = app.store.get(flow.id)
                    assert flow is not None
                    assert not flow.live and not flow.intercepted
                    reason = detached_reason(flow)
                    assert reason and "restarted" in reason
                    app._notifications.clear()
                    for key in ("a", "X"):
                        await pilot.press(key)
                        await pilot.pause()
                    said = [str(n.message) for n in app._notifications]
                    assert len(said) == 2 and all("detached" in s for s in said), said
                    assert not any("no flow with id" in s for s in said)
    finally:
        await echo.stop()


async def test_a_comment_after_the_flow_closed_reaches_the_recording(tmp_path: Path) -> None:
    capture = tmp_path / "relay.flows"
    async with (
        relay_setup(tmp_path, write_to=str(capture)) as (relay, _echo, addr),
        running_client(addr) as client,
    ):
        r, w = await asyncio.open_connection(*relay.listen)
        w.write(b"x")
        await asyncio.wait_for(r.readexactly(6), 3)
        w.close()
        await wait_until(lambda: client.flows and not next(iter(client.flows.values())).live)
        flow_id = next(iter(client.flows))
        await wait_until(lambda: capture.exists() and capture.stat().st_size)
        await client.comment(flow_id, "seen later")
        await client.mark(flow_id, ":default:")
    copies = [f for f in read_flows(capture) if f.id == flow_id]
    assert copies[-1].comment == "seen later"
    assert copies[-1].marked == ":default:"
