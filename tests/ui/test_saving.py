"""Saving never loses a flow, and what counts as unsaved is what a save would change
(issue #11, items 7, 8, 9, 17, 18), through the app under `run_test` and the keyboard."""

from __future__ import annotations

import os
import shutil
from datetime import UTC
from pathlib import Path

import pytest
from capture_gen import split_records
from textual.pilot import Pilot
from textual.widgets import Input, Label
from ui_support import FIXTURES, SAMPLE, screen_text

from flowtui.io import read_flows
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.screens.dialogs import SaveDialog
from flowtui.ui.screens.main import MainScreen
from flowtui.ui.widgets.flow_info import FlowInfo
from flowtui.ui.widgets.flow_list import FlowList

ECHO = FIXTURES / "echo_basic.flows"
"""Three TCP flows."""


def _app(*paths: Path) -> FlowtuiApp:
    return make_app(list(paths), tz=UTC, detail_delay=0)


async def _loaded(app: FlowtuiApp, pilot: Pilot[int]) -> FlowList:
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.main.query_one(FlowList)


async def _goto(pilot: Pilot[int], flows: FlowList, pos: int) -> None:
    flows.focus()
    await pilot.press("home", *["down"] * pos)


def _notes(app: FlowtuiApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def _save_as(app: FlowtuiApp, pilot: Pilot[int], target: Path | None) -> None:
    """`w`, then the path (None: the one proposed), then Enter; waits for the save."""
    await pilot.press("w", "a")
    assert isinstance(app.screen, SaveDialog)
    if target is not None:
        app.screen.query_one(Input).value = str(target)
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


def _status(app: FlowtuiApp) -> str:
    return screen_text(app).splitlines()[-2]


def _numbers(app: FlowtuiApp) -> list[int]:
    """The number of each flow shown, in order."""
    view = app.store.view
    return [app.store.number(view.id_at(i)) for i in range(len(view))]


def _row(app: FlowtuiApp, number: int) -> str:
    """The list's row of flow `number`, as shown."""
    rows = [r for r in screen_text(app).splitlines() if r.lstrip().startswith(f"{number} ")]
    assert len(rows) == 1, rows
    return rows[0]


# -- item 7: a flow is its place in its source, never merged with another by id ----------


async def test_a_capture_that_repeats_ids_shows_and_saves_every_flow(tmp_path: Path) -> None:
    doubled = tmp_path / "a.flows"
    doubled.write_bytes(ECHO.read_bytes() * 2)  # `cat a.flows a.flows`
    target = tmp_path / "saved.flows"
    app = _app(doubled)
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        assert len(app.store) == len(app.store.view) == 6
        assert "6/6 shown" in screen_text(app)
        before = [f.marked for f in app.store]
        assert before[2] == before[5] == ""
        await _goto(pilot, flows, 5)  # the second copy of the third flow
        await pilot.press("m")
        assert [f.marked for f in app.store] == [*before[:5], ":default:"]
        info = app.main.query_one(FlowInfo)
        assert str(info.render()).startswith("#6 ")
        await pilot.press("D")  # a duplicate of it, right after it
        assert len(app.store) == 7 and app.store.number(flows._cursor_id or "") == 7
        await pilot.press("d", "U")
        assert len(app.store) == 7
        await _save_as(app, pilot, target)
        assert "Saved 7 flows" in _notes(app)
    saved = read_flows(target)
    original = read_flows(ECHO)
    assert [f.id for f in saved[:6]] == [f.id for f in original] * 2
    assert [f.marked for f in saved] == [*before[:5], ":default:", ":default:"]
    mitm_io = pytest.importorskip("mitmproxy.io")
    with target.open("rb") as f:
        assert len(list(mitm_io.FlowReader(f).stream())) == 7


async def test_the_same_file_opened_twice_gives_both_copies(tmp_path: Path) -> None:
    target = tmp_path / "both.flows"
    app = _app(ECHO, ECHO)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        assert len(app.store) == 6
        await _save_as(app, pilot, target)
    assert target.read_bytes() == ECHO.read_bytes() * 2  # copied record by record


# -- item 8: saving several files asks where; overwriting says so ------------------------


async def test_several_files_are_saved_to_a_new_name_saying_what(tmp_path: Path) -> None:
    a, b = tmp_path / "a.flows", tmp_path / "b.flows"
    shutil.copy(SAMPLE, a)
    shutil.copy(ECHO, b)
    before = a.read_bytes(), b.read_bytes()
    app = _app(a, b)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("w", "a")
        dialog = app.screen
        assert isinstance(dialog, SaveDialog)
        proposed = dialog.query_one(Input).value
        assert proposed not in (str(a), str(b))
        text = screen_text(app)
        assert "Save 33 flows from 2 files to:" in text and "A new file" in text
        dialog.query_one(Input).value = str(a)
        await pilot.pause()
        said = str(dialog.query_one("#save-target", Label).render())
        assert said == "Overwrites a.flows, one of the opened files (30 flows in it; 33 will be)"
        dialog.query_one(Input).value = proposed
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert f"Saved 33 flows to {proposed}" in _notes(app)
    assert (a.read_bytes(), b.read_bytes()) == before
    assert len(read_flows(Path(proposed))) == 33


async def test_overwriting_the_opened_file_is_announced(tmp_path: Path) -> None:
    capture = tmp_path / "capture.flows"
    shutil.copy(SAMPLE, capture)
    app = _app(capture)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("w", "a")
        assert isinstance(app.screen, SaveDialog)
        assert app.screen.query_one(Input).value == str(capture)
        assert "Save 30 flows to:" in screen_text(app)
        said = str(app.screen.query_one("#save-target", Label).render())
        assert said == "Overwrites capture.flows, the opened file (30 flows in it; 30 will be)"


# -- item 9: records copied from a capture changed in place are checked -------------------


async def test_saving_a_capture_changed_in_place_is_refused(tmp_path: Path) -> None:
    capture = tmp_path / "capture.flows"
    shutil.copy(SAMPLE, capture)
    os.utime(capture, (1_000_000_000, 1_000_000_000))  # any write after opening moves it
    app = _app(capture)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        records = split_records(capture.read_bytes())
        with capture.open("r+b") as f:  # the same size, the 5th record moved to the end
            f.write(b"".join([*records[:4], *records[5:], records[4]]))
        changed = capture.read_bytes()
        await _save_as(app, pilot, None)
        notes = _notes(app)
        assert "Saved" not in notes
        assert f"{capture} changed on disk since it was opened: record #5 at byte" in notes
        assert "nothing was saved" in notes
    assert capture.read_bytes() == changed


# -- items 17, 18: undelete keeps numbers; unsaved means "a save would change something" ---


async def test_undelete_puts_the_flow_back_under_its_number_with_its_signs() -> None:
    app = _app(SAMPLE)
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        numbers = _numbers(app)
        await _goto(pilot, flows, 2)
        await pilot.press("m", "d", "U")
        assert _numbers(app) == numbers
        assert flows.cursor == 2
        assert "✎" in _row(app, 3)
        assert "modified" in str(app.main.query_one(FlowInfo).render())
        await _goto(pilot, flows, 5)  # an unchanged flow: back unchanged
        await pilot.press("d", "U")
        assert _numbers(app) == numbers
        assert "✎" not in _row(app, 6)
        assert "modified" not in str(app.main.query_one(FlowInfo).render())


async def test_only_what_a_save_would_change_counts_as_unsaved(tmp_path: Path) -> None:
    app = _app(SAMPLE)
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        await _goto(pilot, flows, 2)
        assert flows.flow is not None and flows.flow.marked == ""
        await pilot.press("m")
        assert app.changes == 1 and "[+]" in _status(app)
        await pilot.press("m")  # set, then unset
        assert app.changes == 0 and "[+]" not in _status(app)
        await pilot.press("m", "V")  # set, then reverted
        assert app.changes == 0 and "[+]" not in _status(app)
        await pilot.press("d", "U")  # deleted, then put back
        assert app.changes == 0 and "[+]" not in _status(app)
        await pilot.press("d")
        assert app.changes == 1 and "[+]" in _status(app)
        await _save_as(app, pilot, tmp_path / "out.flows")
        assert app.changes == 0 and "[+]" not in _status(app)
        await pilot.press("U")  # back after the save: the saved file lacks it
        assert app.changes == 1 and "[+]" in _status(app)
        await pilot.press("m", "m")
        assert app.changes == 1
        await pilot.press("d")
        assert app.changes == 0
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, MainScreen) or not app.is_running
