"""The addon inside a real mitmweb 11.0.2 (headless, loopback): attach, steer, and check
through mitmweb's own REST API that the intercept filter is mitmproxy's ``intercept``
option, applied by mitmproxy's Intercept addon."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from live_helpers import EchoServer, running_client, wait_until
from mitm_helpers import free_port, run_mitm

from flowtui.live.client import CommandError

pytestmark = pytest.mark.mitmproxy


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=3) as response:
        return json.load(response)


async def _web(web: int, path: str) -> Any:
    for _ in range(50):  # the web server may come up just after the live socket
        try:
            return await asyncio.to_thread(_get, f"http://127.0.0.1:{web}{path}")
        except ConnectionRefusedError:
            await asyncio.sleep(0.1)
        except OSError as e:
            if not isinstance(e.__cause__ or e.args[0], ConnectionRefusedError):
                raise
            await asyncio.sleep(0.1)
    raise AssertionError(f"mitmweb never answered on port {web}")


async def test_mitmweb_loads_the_addon_and_uses_its_intercept_option(tmp_path: Path) -> None:
    echo = EchoServer()
    await echo.start()
    port, web = free_port(), free_port()
    mode = f"reverse:tcp://127.0.0.1:{echo.port}@{port}"
    extra = ["--web-host", "127.0.0.1", "--web-port", str(web), "--no-web-open-browser"]
    try:
        async with (
            run_mitm(tmp_path, mode, program="mitmweb", extra=extra) as addr,
            running_client(addr) as client,
        ):
            assert (await _web(web, "/options"))["intercept"]["value"] is None
            with pytest.raises(CommandError, match="intercept"):
                await client.set_intercept("~~bad(")
            await client.set_intercept("~tcp")
            assert (await _web(web, "/options"))["intercept"]["value"] == "~tcp"

            r, w = await asyncio.open_connection("127.0.0.1", port)
            try:
                w.write(b"held")
                await wait_until(lambda: any(f.intercepted for f in client.flows.values()))
                (flow,) = client.flows.values()
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(r.read(1), 0.3)
                assert echo.received == b""
                (shown,) = await _web(web, "/flows")  # mitmweb's own view agrees
                assert shown["id"] == flow.id and shown["intercepted"] is True

                await client.set_intercept(None)
                assert (await _web(web, "/options"))["intercept"]["value"] is None
                await client.resume(flow.id)
                assert await asyncio.wait_for(r.readexactly(9), 3) == b"ECHO:held"

                await client.intercept(flow.id)  # kill closes both ends here too
                w.write(b"more")
                await wait_until(lambda: len(client.flows[flow.id].messages) == 3)  # type: ignore[attr-defined]
                await client.kill(flow.id)
                assert await asyncio.wait_for(r.read(), 2) == b""
                await asyncio.wait_for(echo.closed.wait(), 2)
                assert b"more" not in echo.received
            finally:
                w.transport.abort()
    finally:
        await echo.stop()
