"""The addon inside a real mitmdump 11.0.2, with a real echo server and client sockets."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from live_helpers import EchoServer, running_client, wait_until
from mitm_helpers import free_port, run_mitm

from flowtui.live.client import CommandError

pytestmark = pytest.mark.mitmproxy


async def test_addon_live_flow_intercept_resume_kill_mark(tmp_path: Path) -> None:
    echo = EchoServer()
    await echo.start()
    try:
        port = free_port()
        mode = f"reverse:tcp://127.0.0.1:{echo.port}@{port}"
        async with run_mitm(tmp_path, mode) as addr, running_client(addr) as client:
            # a flow appears while the connection is open, message by message
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"one")
            assert await asyncio.wait_for(r.readexactly(8), 3) == b"ECHO:one"
            await wait_until(lambda: client.flows)
            flow_id = next(iter(client.flows))
            await wait_until(lambda: len(client.flows[flow_id].messages) == 2)
            assert client.flows[flow_id].live

            # mark and comment reach mitmproxy's flow (read back through a fresh attach)
            await client.mark(flow_id, ":default:")
            await client.comment(flow_id, "seen")
            async with running_client(addr) as second:
                await wait_until(lambda: flow_id in second.flows)
                assert second.flows[flow_id].marked == ":default:"
                assert second.flows[flow_id].comment == "seen"

            # intercept: the next bytes do not reach the server; resume delivers them
            await client.intercept(flow_id)
            w.write(b"two")
            await wait_until(lambda: len(client.flows[flow_id].messages) == 3)
            await asyncio.sleep(0.3)
            assert bytes(echo.received) == b"one"
            assert client.flows[flow_id].intercepted
            await client.resume(flow_id)
            assert await asyncio.wait_for(r.readexactly(8), 3) == b"ECHO:two"

            # kill while intercepted closes both real sockets at once
            await client.intercept(flow_id)
            w.write(b"three")
            await wait_until(lambda: len(client.flows[flow_id].messages) == 5)
            start = time.monotonic()
            await client.kill(flow_id)
            assert await asyncio.wait_for(r.read(), 1) == b""
            await asyncio.wait_for(echo.closed.wait(), 1)
            elapsed = time.monotonic() - start
            assert elapsed < 1.0
            await wait_until(lambda: client.flows[flow_id].error is not None)
            assert client.flows[flow_id].error.msg == "Connection killed."
            assert b"three" not in bytes(echo.received)
            print(f"mitmproxy kill-to-close: {elapsed * 1000:.1f} ms")
            w.close()
            with pytest.raises(CommandError):
                await client.set_intercept("~~bad(")
            await client.set_intercept("~tcp")
            # the intercept filter holds a new connection's first message; resume_all frees it
            r2, w2 = await asyncio.open_connection("127.0.0.1", port)
            w2.write(b"four")
            await wait_until(lambda: any(f.intercepted for f in client.flows.values()))
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(r2.read(1), 0.3)
            await client.set_intercept(None)
            await client.resume_all()
            assert await asyncio.wait_for(r2.readexactly(9), 3) == b"ECHO:four"
            w2.close()
    finally:
        await echo.stop()
