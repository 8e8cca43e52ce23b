"""`R`: an incomplete (or cut) live flow fetched whole from the proxy's `-w` recording,
with a real relay on 127.0.0.1 and the real app; what it says when it cannot."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from live_helpers import EchoServer, relay_setup, wait_until
from mitm_helpers import free_port

from flowtui.core import TCPFlow
from flowtui.io import read_flows
from flowtui.live.budget import CUT_KEY
from flowtui.live.notes import INCOMPLETE_KEY
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.widgets.flow_info import FlowInfo


async def _round_trip(listen: tuple[str, int], payload: bytes, times: int = 1) -> None:
    r, w = await asyncio.open_connection(*listen)
    for _ in range(times):
        w.write(payload)
        await asyncio.wait_for(r.readexactly(len(payload) + 5), 5)
    w.close()
    await w.wait_closed()


def _said(app: FlowtuiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def _saying(app: FlowtuiApp, words: str, timeout: float = 20) -> str:
    """Wait for a notification holding `words`; return it."""
    found = await wait_until(
        lambda: next((s for s in _said(app) if words in s), None), timeout=timeout
    )
    return str(found)


def _flow(app: FlowtuiApp, flow_id: str) -> TCPFlow:
    flow = app.store.get(flow_id)
    assert isinstance(flow, TCPFlow)
    return flow


async def _fetch(app: FlowtuiApp, pilot: Any, flow_id: str) -> None:
    """Put the cursor on the flow and press R."""
    app.main.flow_list.follow = False
    app.main.flow_list.select_flow(flow_id)
    await pilot.pause()
    assert app.main.flow_list.flow is not None and app.main.flow_list.flow.id == flow_id
    app._notifications.clear()
    await pilot.press("R")


async def test_r_fetches_the_part_the_proxy_dropped_from_its_recording(tmp_path: Path) -> None:
    capture = tmp_path / "relay.flows"
    async with relay_setup(
        tmp_path, retain_bytes=100_000, queue_limit=50_000, write_to=str(capture)
    ) as (relay, _echo, addr):
        app = make_app([], attach=addr, detail_delay=0)
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.attachment is not None
            client = app.attachment.client
            r, w = await asyncio.open_connection(*relay.listen)
            w.write(b"a" * 100)
            await asyncio.wait_for(r.readexactly(105), 3)
            await wait_until(lambda: len(app.store) == 1 and len(app.store.view[0].messages) == 2)
            first = app.store.view[0].id
            assert client._writer is not None
            client._writer.transport.pause_reading()  # the inspector stalls
            for _ in range(100):  # 2 MB through the first flow: past the socket and queue
                w.write(b"b" * 10_000)
                await asyncio.wait_for(r.readexactly(10_005), 5)
            w.close()
            await w.wait_closed()
            for _ in range(5):  # newer flows push the first one out of --retain
                await _round_trip(relay.listen, b"c" * 30_000)
            await wait_until(lambda: first in relay.live.forgotten)
            client._writer.transport.resume_reading()
            await wait_until(lambda: INCOMPLETE_KEY in _flow(app, first).metadata, timeout=10)
            held = len(_flow(app, first).messages)
            assert held < 202
            _flow(app, first).comment = "looked at"  # what this inspector shows of it
            info = app.main.query_one(FlowInfo).describe(_flow(app, first)).plain
            assert "incomplete" in info and "(R fetches it)" in info, info

            await _fetch(app, pilot, first)
            said = await _saying(app, "Fetched")
            assert str(capture.resolve()) in said and "202 messages" in said, said

            flow = _flow(app, first)
            recorded = [f for f in read_flows(capture) if f.id == first][-1]
            assert isinstance(recorded, TCPFlow)
            assert [(m.from_client, m.content) for m in flow.messages] == [
                (m.from_client, m.content) for m in recorded.messages
            ]
            assert len(flow.messages) == 202
            assert flow.messages[0].content == b"a" * 100
            assert flow.messages[-1].content == b"ECHO:" + b"b" * 10_000
            assert INCOMPLETE_KEY not in flow.metadata and CUT_KEY not in flow.metadata
            assert flow.comment == "looked at"  # the inspector's comment is kept
            assert client.flows[first] is flow  # the mirror holds the fetched copy
            assert client.held <= client.max_memory
            # the detail shows it: the info line no longer says it is incomplete
            await pilot.pause()
            info = app.main.query_one(FlowInfo).describe(flow).plain
            assert "incomplete" not in info and "fetches" not in info
            # nothing left to fetch
            app._notifications.clear()
            await pilot.press("R")
            await pilot.pause()
            assert any("Nothing to fetch" in s for s in _said(app)), _said(app)


async def test_the_recording_missing_unreadable_or_without_the_flow_is_said(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "relay.flows"
    async with relay_setup(tmp_path, write_to=str(capture)) as (relay, _echo, addr):
        app = make_app([], attach=addr, detail_delay=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await _round_trip(relay.listen, b"part")
            await wait_until(lambda: len(app.store) == 1 and not app.store.view[0].live)
            flow_id = app.store.view[0].id
            await wait_until(lambda: capture.exists() and capture.stat().st_size > 0)
            # as the client marks a flow the proxy dropped part of
            _flow(app, flow_id).metadata[INCOMPLETE_KEY] = {
                "messages": 3, "bytes": 300, "record": str(capture.resolve()),
            }  # fmt: skip
            name = str(capture.resolve())

            capture.write_bytes(b"")  # the file was rotated: the flow is no longer in it
            await _fetch(app, pilot, flow_id)
            said = await _saying(app, "not in the proxy's recording")
            assert name in said and "yet" in said, said

            capture.unlink()  # not there
            await _fetch(app, pilot, flow_id)
            said = await _saying(app, "Cannot read the proxy's recording")
            assert name in said and "No such file" in said, said

            capture.mkdir()  # not a file
            await _fetch(app, pilot, flow_id)
            said = await _saying(app, "Cannot read the proxy's recording")
            assert name in said, said
            capture.rmdir()

            capture.write_bytes(b"\x1f\x8b not a capture")  # not a capture
            await _fetch(app, pilot, flow_id)
            said = await _saying(app, "Cannot read the proxy's recording")
            assert name in said and "gzip" in said, said
            # the flow is left as it was
            assert INCOMPLETE_KEY in _flow(app, flow_id).metadata

            # a live flow is not in the recording yet: said without reading the file
            r, w = await asyncio.open_connection(*relay.listen)
            w.write(b"open")
            await asyncio.wait_for(r.readexactly(9), 3)
            await wait_until(lambda: len(app.store) == 2)
            live = app.store.view[-1]
            live.metadata[INCOMPLETE_KEY] = {"messages": 0, "bytes": 0, "record": name}
            await _fetch(app, pilot, live.id)
            await pilot.pause()
            said = await _saying(app, "still live")
            assert name in said, said
            w.close()


async def test_the_last_copy_in_the_recording_wins(tmp_path: Path) -> None:
    """The relay appends a closed flow again when it changes: the fetched flow is its
    last copy."""
    capture = tmp_path / "relay.flows"
    async with relay_setup(tmp_path, write_to=str(capture)) as (relay, _echo, addr):
        app = make_app([], attach=addr, detail_delay=0)
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.attachment is not None
            client = app.attachment.client
            await _round_trip(relay.listen, b"x", times=3)
            await wait_until(lambda: len(app.store) == 1 and not app.store.view[0].live)
            flow_id = app.store.view[0].id
            await wait_until(lambda: capture.exists() and capture.stat().st_size > 0)
            await client.comment(flow_id, "second copy")
            await client.comment(flow_id, "third copy")
            await client.mark(flow_id, ":grapes:")
            copies = [f for f in read_flows(capture) if f.id == flow_id]
            assert [c.comment for c in copies] == ["", "second copy", "third copy", "third copy"]
            await wait_until(lambda: _flow(app, flow_id).marked == ":grapes:")
            # this inspector holds only the first message, and never saw the changes
            flow = _flow(app, flow_id)
            del flow.messages[1:]
            flow.comment, flow.marked = "", ""
            flow.metadata[INCOMPLETE_KEY] = {"messages": 5, "bytes": 17, "record": None}

            await _fetch(app, pilot, flow_id)
            await _saying(app, "Fetched")
            fetched = _flow(app, flow_id)
            assert len(fetched.messages) == 6
            assert fetched.comment == "third copy" and fetched.marked == ":grapes:"


async def test_a_flow_bigger_than_max_memory_is_refused_not_cut_again(tmp_path: Path) -> None:
    capture = tmp_path / "relay.flows"
    async with relay_setup(tmp_path, write_to=str(capture)) as (relay, _echo, addr):
        app = make_app([], attach=addr, detail_delay=0, max_memory=1_000_000)
        async with app.run_test(size=(120, 40)) as pilot:
            await _round_trip(relay.listen, b"z" * 100_000, times=8)  # 1.6 MB
            await wait_until(lambda: len(app.store) == 1 and not app.store.view[0].live, 10)
            flow_id = app.store.view[0].id
            await wait_until(lambda: CUT_KEY in _flow(app, flow_id).metadata)
            await wait_until(lambda: capture.exists() and capture.stat().st_size > 1_600_000)
            kept = len(_flow(app, flow_id).messages)
            await _fetch(app, pilot, flow_id)
            said = await _saying(app, "Not fetched")
            assert "--max-memory (1.0 MB)" in said and str(capture.resolve()) in said, said
            flow = _flow(app, flow_id)
            assert len(flow.messages) == kept and CUT_KEY in flow.metadata


async def test_a_fetched_flow_that_fits_makes_room_by_cutting_others(tmp_path: Path) -> None:
    capture = tmp_path / "relay.flows"
    async with relay_setup(tmp_path, write_to=str(capture)) as (relay, _echo, addr):
        app = make_app([], attach=addr, detail_delay=0, max_memory=500_000)
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.attachment is not None
            client = app.attachment.client
            await _round_trip(relay.listen, b"a" * 50_000, times=3)  # 300 kB, whole
            await wait_until(lambda: len(app.store) == 1 and not app.store.view[0].live, 10)
            first = app.store.view[0].id
            await _round_trip(relay.listen, b"b" * 50_000, times=3)  # cuts the first
            await wait_until(lambda: len(app.store) == 2 and not app.store.view[1].live, 10)
            second = app.store.view[1].id
            assert CUT_KEY in _flow(app, first).metadata
            assert CUT_KEY not in _flow(app, second).metadata
            await wait_until(lambda: len([f for f in read_flows(capture)]) == 2)

            await _fetch(app, pilot, first)
            said = await _saying(app, "Fetched")
            assert "1 other flow was cut" in said, said
            assert len(_flow(app, first).messages) == 6
            assert CUT_KEY not in _flow(app, first).metadata
            assert CUT_KEY in _flow(app, second).metadata  # it made room, and says so
            assert client.held <= 500_000


async def test_w_offers_the_fetch_before_saving_an_incomplete_flow(tmp_path: Path) -> None:
    from flowtui.ui.screens.dialogs import SaveDialog

    capture = tmp_path / "relay.flows"
    async with relay_setup(tmp_path, write_to=str(capture)) as (relay, _echo, addr):
        app = make_app([], attach=addr, detail_delay=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await _round_trip(relay.listen, b"part")
            await wait_until(lambda: len(app.store) == 1 and not app.store.view[0].live)
            await wait_until(lambda: capture.exists() and capture.stat().st_size > 0)
            flow = app.store.view[-1]
            flow.metadata[INCOMPLETE_KEY] = {"messages": 3, "bytes": 300, "record": None}
            app._notifications.clear()
            await pilot.press("w", "a")
            assert isinstance(app.screen, SaveDialog)
            said = await _saying(app, "1 incomplete")
            assert str(capture.resolve()) in said and "fetch them from there first: R" in said
            assert "Fetch every missing part" in said
            await pilot.press("escape")
            # the palette's command fetches every one, in one reading of the file
            await pilot.pause()
            app._notifications.clear()
            await app.run_command("flow.fetch_all")
            said = await _saying(app, "Fetched the whole flow")
            assert str(capture.resolve()) in said
            assert INCOMPLETE_KEY not in _flow(app, flow.id).metadata
            capture.unlink()  # without the file, w says only where it was
            note = {"messages": 3, "bytes": 300, "record": None}
            _flow(app, flow.id).metadata[INCOMPLETE_KEY] = note
            app._notifications.clear()
            await pilot.press("w", "a")
            said = await _saying(app, "1 incomplete")
            assert "fetch them" not in said


@contextmanager
def _proxy(args: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    """`flowtui proxy ARGS` as its own process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "proxy", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    for _ in range(300):
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("the relay never listened")


async def test_r_against_flowtui_proxy_w_in_its_own_process(tmp_path: Path) -> None:
    """The command line as users run it: `flowtui proxy -w FILE --retain 1`, an
    inspector that stalls through 10 MB of one connection, then fetches it."""
    echo = EchoServer()
    await echo.start()
    capture, sock, listen = tmp_path / "rec.flows", tmp_path / "s" / "live.sock", free_port()
    args = ["--listen", f"127.0.0.1:{listen}", "--upstream", f"127.0.0.1:{echo.port}",
            "--socket", str(sock), "-w", str(capture), "--retain", "1"]  # fmt: skip
    try:
        with _proxy(args):
            app = make_app([], attach=f"unix:{sock}", detail_delay=0)
            async with app.run_test(size=(120, 40)) as pilot:
                assert app.attachment is not None
                client = app.attachment.client
                r, w = await _connect(listen)
                w.write(b"first")
                await asyncio.wait_for(r.readexactly(10), 5)
                await wait_until(lambda: len(app.store) == 1, timeout=10)
                first = app.store.view[0].id
                assert client.record == str(capture.resolve())
                assert client._writer is not None
                client._writer.transport.pause_reading()  # the inspector stalls
                chunk = os.urandom(100_000)
                for _ in range(100):  # 20 MB both ways: past the 8 MiB queue
                    w.write(chunk)
                    await asyncio.wait_for(r.readexactly(100_005), 10)
                w.close()
                await w.wait_closed()
                for _ in range(3):  # newer flows push it out of --retain 1
                    r2, w2 = await _connect(listen)
                    w2.write(b"n" * 400_000)
                    await asyncio.wait_for(r2.readexactly(400_005), 10)
                    w2.close()
                    await w2.wait_closed()
                await wait_until(lambda: capture.exists() and capture.stat().st_size > 20_000_000)
                client._writer.transport.resume_reading()
                await wait_until(lambda: INCOMPLETE_KEY in _flow(app, first).metadata, 20)

                await _fetch(app, pilot, first)
                said = await _saying(app, "Fetched", timeout=30)
                assert str(capture.resolve()) in said
                flow = _flow(app, first)
                sent = b"".join(m.content for m in flow.messages if m.from_client)
                assert sent == b"first" + chunk * 100  # every byte the client sent
                got = b"".join(m.content for m in flow.messages if not m.from_client)
                assert len(got) >= 10 + 100_005 * 100 and got.startswith(b"ECHO:first")
                recorded = [f for f in read_flows(capture) if f.id == first][-1]
                assert isinstance(recorded, TCPFlow)
                assert [m.get_state() for m in flow.messages] == [
                    m.get_state() for m in recorded.messages
                ]
                assert INCOMPLETE_KEY not in flow.metadata and CUT_KEY not in flow.metadata
    finally:
        await echo.stop()


def test_a_flow_is_fetched_from_the_recording_its_note_names() -> None:
    """A proxy restarted with another -w file: a flow it dropped before is in the
    recording named when it was marked, not in the new one."""
    from flowtui.core import Client, Server
    from flowtui.live.recording import recording_of

    flow = TCPFlow(
        Client(peername=("127.0.0.1", 1), sockname=("127.0.0.1", 2)), Server(address=None)
    )
    assert recording_of(flow, "/new.flows") == "/new.flows"
    flow.metadata[INCOMPLETE_KEY] = {"messages": 1, "bytes": 1, "record": "/old.flows"}
    assert recording_of(flow, "/new.flows") == "/old.flows"
    flow.metadata[INCOMPLETE_KEY] = {"messages": 1, "bytes": 1, "record": None}
    assert recording_of(flow, None) is None
