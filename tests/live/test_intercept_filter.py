"""The intercept filter over both backends: the relay and a real mitmdump with the addon.

Each test checks the wire: bytes of a held flow do not reach the echo server (or the
client) until the flow is resumed; a flow the filter does not match flows freely."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from live_helpers import EchoServer, relay_setup, running_client, wait_until
from mitm_helpers import free_port, run_mitm

from flowtui.live.client import CommandError, LiveClient
from flowtui.live.relay import Relay

HOLD = 0.3
"""Seconds a held flow is watched for bytes that must not arrive (not a timing assert)."""


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _nothing_arrives(reader: asyncio.StreamReader) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1), HOLD)


async def _check_filter_both(client: LiveClient, echo: EchoServer, port: int) -> None:
    """A matching connection is held on arrival, message by message; others flow."""
    with pytest.raises(CommandError, match="invalid intercept filter"):
        await client.set_intercept("~~bad(")
    await client.set_intercept("~tcp & ~b hold")
    assert client.intercept_filter == ("~tcp & ~b hold", "both")

    # not matching: flows freely
    r1, w1 = await _connect(port)
    w1.write(b"free")
    assert await asyncio.wait_for(r1.readexactly(9), 3) == b"ECHO:free"

    # matching on its first message: it never reaches the server until resumed
    r2, w2 = await _connect(port)
    w2.write(b"hold-1")
    flow = await wait_until(lambda: next((f for f in client.flows.values() if f.intercepted), None))
    await _nothing_arrives(r2)
    assert b"hold-1" not in bytes(echo.received)
    await client.resume(flow.id)
    await wait_until(lambda: bytes(echo.received).endswith(b"hold-1"))
    # ... and each new message of the matching flow is held again: the server's answer
    await wait_until(lambda: len(client.flows[flow.id].messages) == 2)
    await wait_until(lambda: client.flows[flow.id].intercepted)
    await _nothing_arrives(r2)
    await client.resume(flow.id)
    assert await asyncio.wait_for(r2.readexactly(11), 3) == b"ECHO:hold-1"
    w2.write(b"hold-2")
    await wait_until(lambda: len(client.flows[flow.id].messages) == 3)
    await wait_until(lambda: client.flows[flow.id].intercepted)
    await _nothing_arrives(r2)
    assert b"hold-2" not in bytes(echo.received)
    await client.resume_all()
    await wait_until(lambda: len(client.flows[flow.id].messages) == 4)
    await client.resume_all()
    assert await asyncio.wait_for(r2.readexactly(11), 3) == b"ECHO:hold-2"

    # cleared: nothing is held any more
    await client.set_intercept("")
    assert client.intercept_filter is None
    w2.write(b"hold-3")
    assert await asyncio.wait_for(r2.readexactly(11), 3) == b"ECHO:hold-3"
    w1.close()
    w2.close()


async def _check_filter_server_only(client: LiveClient, echo: EchoServer, port: int) -> None:
    """Server to client only: the client's bytes reach the server, the answer is held."""
    await client.set_intercept("~tcp", "server")
    before = len(client.flows)
    r, w = await _connect(port)
    w.write(b"ask")
    await wait_until(lambda: b"ask" in bytes(echo.received))  # not held on the way up
    await wait_until(lambda: len(client.flows) > before)
    flow = await wait_until(lambda: next((f for f in client.flows.values() if f.intercepted), None))
    await wait_until(lambda: len(client.flows[flow.id].messages) == 2)
    assert client.flows[flow.id].messages[-1].from_client is False
    await _nothing_arrives(r)  # the server's answer is held
    await client.resume(flow.id)
    assert await asyncio.wait_for(r.readexactly(8), 3) == b"ECHO:ask"
    await client.set_intercept(None)
    w.close()


async def _check_filter_client_only(client: LiveClient, echo: EchoServer, port: int) -> None:
    """Client to server only: the first client message is held before the server sees it."""
    await client.set_intercept("~tcp", "client")
    r, w = await _connect(port)
    w.write(b"up")
    flow = await wait_until(lambda: next((f for f in client.flows.values() if f.intercepted), None))
    assert client.flows[flow.id].messages[-1].from_client is True
    await _nothing_arrives(r)
    assert not bytes(echo.received).endswith(b"up")
    await client.resume(flow.id)
    assert await asyncio.wait_for(r.readexactly(7), 3) == b"ECHO:up"
    await client.set_intercept(None)
    w.close()


async def test_relay_filter_holds_matching_flows(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, echo, addr), running_client(addr) as client:
        await _check_filter_both(client, echo, relay.listen[1])
        assert relay.intercept_filter is None


async def test_relay_holds_a_new_connection_before_its_first_byte(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, echo, addr), running_client(addr) as client:
        await client.set_intercept("~tcp")
        r, w = await _connect(relay.listen[1])
        flow = await wait_until(
            lambda: next((f for f in client.flows.values() if f.intercepted), None)
        )
        assert client.flows[flow.id].messages == []  # held before it spoke
        w.write(b"first")
        await _nothing_arrives(r)
        assert echo.received == b""
        await client.resume(flow.id)
        await wait_until(lambda: echo.received == b"first")
        await wait_until(lambda: len(client.flows[flow.id].messages) == 2)
        await wait_until(lambda: client.flows[flow.id].intercepted)  # the answer, held
        await client.resume(flow.id)
        assert await asyncio.wait_for(r.readexactly(10), 3) == b"ECHO:first"
        w.close()


async def test_relay_filter_one_direction(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, echo, addr), running_client(addr) as client:
        await _check_filter_server_only(client, echo, relay.listen[1])
        await _check_filter_client_only(client, echo, relay.listen[1])


async def test_default_policy_clears_the_filter_with_the_last_inspector(
    tmp_path: Path,
) -> None:
    """`--on-detach resume` (the default): a filter an inspector set holds no new flow
    for nobody once it is gone."""
    async with relay_setup(tmp_path) as (relay, _echo, addr):
        async with running_client(addr) as client:
            await client.set_intercept("~tcp")
            assert isinstance(relay, Relay) and relay.intercept_filter is not None
        await wait_until(lambda: relay.live.inspectors == 0)
        assert relay.intercept_filter is None
        r, w = await _connect(relay.listen[1])
        w.write(b"x")
        assert await asyncio.wait_for(r.readexactly(6), 3) == b"ECHO:x"
        w.close()


async def test_relay_filter_survives_reattach(tmp_path: Path) -> None:
    """With `--on-detach keep` the filter is the proxy's: a second inspector sees flows
    held by it."""
    async with relay_setup(tmp_path, on_detach="keep") as (relay, _echo, addr):
        async with running_client(addr) as client:
            await client.set_intercept("~tcp")
        assert isinstance(relay, Relay) and relay.intercept_filter is not None
        async with running_client(addr) as second:
            r, w = await _connect(relay.listen[1])
            w.write(b"x")
            await wait_until(lambda: any(f.intercepted for f in second.flows.values()))
            await _nothing_arrives(r)
            await second.resume_all()
            await wait_until(lambda: any(len(f.messages) == 2 for f in second.flows.values()))
            await second.resume_all()
            assert await asyncio.wait_for(r.readexactly(6), 3) == b"ECHO:x"
            w.close()


@pytest.mark.mitmproxy
async def test_mitmdump_filter_holds_matching_flows(tmp_path: Path) -> None:
    echo = EchoServer()
    await echo.start()
    try:
        port = free_port()
        mode = f"reverse:tcp://127.0.0.1:{echo.port}@{port}"
        async with run_mitm(tmp_path, mode) as addr, running_client(addr) as client:
            await _check_filter_both(client, echo, port)
            await _check_filter_server_only(client, echo, port)
            await _check_filter_client_only(client, echo, port)
    finally:
        await echo.stop()


async def test_the_key_sets_and_clears_the_filter_and_the_status_bar_shows_it(
    tmp_path: Path,
) -> None:
    """`I` in the attached app: a bad filter is refused in the dialog with a caret; a
    good one reaches the relay and holds a new connection on the wire; empty clears."""
    from datetime import UTC

    from textual.widgets import Input, Static

    from flowtui.ui.app import make_app
    from flowtui.ui.screens.prompts import InputDialog
    from flowtui.ui.widgets.status_bar import StatusBar

    async with relay_setup(tmp_path) as (relay, echo, addr):
        app = make_app([], attach=addr, tz=UTC, detail_delay=0)
        async with app.run_test(size=(140, 40)) as pilot:
            bar = app.screen_stack[0].query_one(StatusBar)
            await wait_until(lambda: bar.info.health == "connected")

            async def type_filter(text: str) -> None:
                await pilot.press("I")
                await pilot.pause()
                assert isinstance(app.screen, InputDialog)
                app.screen.query_one(Input).value = text
                await pilot.press("enter")
                await pilot.pause()

            await type_filter("~tcp & ~~x(")
            assert isinstance(app.screen, InputDialog)  # refused in the dialog
            error = str(app.screen.query_one("#prompt-error", Static).render())
            assert error.endswith("at 8: ~tcp & ~⁁~x(")  # the parser's message, a caret
            await pilot.press("escape")
            await pilot.pause()
            assert relay.intercept_filter is None

            await type_filter("server: ~tcp")
            await wait_until(lambda: relay.intercept_filter is not None)
            assert relay.intercept_direction == "server"
            await wait_until(lambda: bar.info.intercept == "~tcp (server→client)")
            assert "intercept ~tcp (server→client)" in str(bar.render_info())

            await type_filter("~tcp")
            await wait_until(lambda: relay.intercept_direction == "both")
            await wait_until(lambda: bar.info.intercept == "~tcp")
            r, w = await _connect(relay.listen[1])
            w.write(b"from-ui")
            await wait_until(lambda: any(f.intercepted for f in app.store.view))
            await _nothing_arrives(r)
            assert b"from-ui" not in bytes(echo.received)

            await type_filter("")
            await wait_until(lambda: relay.intercept_filter is None)
            await wait_until(lambda: bar.info.intercept == "")
            await pilot.press("A")
            await wait_until(lambda: b"from-ui" in bytes(echo.received))
            w.close()


def test_the_typed_direction_round_trips() -> None:
    from flowtui.ui.steer import intercept_label, intercept_problem, join_intercept
    from flowtui.ui.steer import split_intercept as split

    assert split("~tcp") == ("~tcp", "both")
    assert split("  client:  ~tcp & ~b x ") == ("~tcp & ~b x", "client")
    assert split("Server: ~tcp") == ("~tcp", "server")
    assert split("") == ("", "both")
    for spec, direction in [("~tcp", "both"), ("~b a", "client"), ("!~q", "server")]:
        assert split(join_intercept(spec, direction)) == (spec, direction)
    assert intercept_problem("") is None and intercept_problem("client: ~tcp") is None
    assert intercept_problem("client:") is not None  # a direction needs an expression
    assert intercept_problem("~h(") is not None
    assert intercept_label(None) == ""
    assert intercept_label(("~tcp", "client")) == "~tcp (client→server)"
