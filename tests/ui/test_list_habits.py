"""mitmproxy console habits on the flow list: `z` clears the list after asking, `L`
loads another capture into the session, `w` saves the shown, the marked or all flows
(saying which and how many first), ctrl+u unmarks all, and marks take any shortcode
Rich's emoji table knows."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Label
from ui_support import FIXTURES, SAMPLE, screen_text

from flowtui.io import read_flows
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.screens.dialogs import SaveDialog
from flowtui.ui.screens.main import MainScreen
from flowtui.ui.screens.prompts import ConfirmDialog, InputDialog, SaveChoiceDialog
from flowtui.ui.widgets.flow_columns import mark_sign
from flowtui.ui.widgets.flow_list import FlowList

OTHER = FIXTURES / "echo_basic.flows"


def _app(*paths: Path) -> FlowtuiApp:
    return make_app(list(paths or [SAMPLE]), tz=UTC, detail_delay=0)


async def _loaded(app: FlowtuiApp, pilot: Pilot[int]) -> FlowList:
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.main.query_one(FlowList)


async def _filter(app: FlowtuiApp, pilot: Pilot[int], text: str) -> None:
    await pilot.press("f")
    app.screen.query_one(Input).value = text
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_z_asks_and_cancel_keeps_every_flow() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("z")
        assert isinstance(app.screen, ConfirmDialog)
        assert "Remove all 30 flows" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and len(app.store) == 30
        await pilot.press("z", "n")
        assert len(app.store) == 30 and app.changes == 0


async def test_z_clears_every_flow_and_u_brings_them_back() -> None:
    """As mitmproxy's z: every flow, also those the filter hides (the question says so)."""
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await _filter(app, pilot, "~tcp")
        assert len(app.store.view) == 18
        await pilot.press("z")
        await pilot.pause()
        assert "12 of them hidden by the filter" in screen_text(app)
        await pilot.press("y")
        await pilot.pause()
        assert len(app.store) == 0 and len(app.store.view) == 0 and app.changes == 30
        await pilot.press("U")
        assert len(app.store) == 1


async def test_l_loads_another_capture_into_the_session(tmp_path: Path) -> None:
    app = _app()
    other = len(read_flows(OTHER))
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("L")
        assert isinstance(app.screen, InputDialog)
        app.screen.query_one(Input).value = str(tmp_path / "missing.flows")
        await pilot.press("enter")
        assert isinstance(app.screen, InputDialog)  # refused, said why
        assert "no such file" in screen_text(app)
        app.screen.query_one(Input).value = str(OTHER)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert len(app.store) == 30 + other
        assert app.loaded == {str(SAMPLE): 30, str(OTHER): other}
        # two sources now: `w` proposes a merged name, not the first file
        assert app.session.save_path is not None and app.session.save_path != SAMPLE


async def _save(app: FlowtuiApp, pilot: Pilot[int], key: str, target: Path) -> str:
    """Press w, choose with `key`, save to `target`; returns the save dialog's title."""
    await pilot.press("w")
    assert isinstance(app.screen, SaveChoiceDialog)
    await pilot.press(key)
    assert isinstance(app.screen, SaveDialog)
    title = str(app.screen.query(Label).first().render())
    app.screen.query_one(Input).value = str(target)
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return title


async def test_w_saves_the_shown_the_marked_or_all_flows(tmp_path: Path) -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        await pilot.press("ctrl+u")  # the sample has marks of its own
        marked = []
        for _ in range(3):
            assert flows.flow is not None
            marked.append(flows.flow.id)
            await pilot.press("m", "down")
        await _filter(app, pilot, "~tcp")
        shown = [f.id for f in app.store.view]
        assert len(shown) == 18

        title = await _save(app, pilot, "enter", tmp_path / "shown.flows")  # the default
        assert title == "Save 18 shown flows to:"
        assert [f.id for f in read_flows(tmp_path / "shown.flows")] == shown
        assert app.changes > 0  # a part was saved: the session still has changes
        notes = "\n".join(str(n.message) for n in app._notifications)
        assert "Saved 18 shown flows to" in notes

        title = await _save(app, pilot, "m", tmp_path / "marked.flows")
        assert title == "Save 3 marked flows to:"
        again = read_flows(tmp_path / "marked.flows")
        assert [f.id for f in again] == marked and all(f.marked == ":default:" for f in again)

        title = await _save(app, pilot, "a", tmp_path / "all.flows")
        assert title == "Save 30 flows to:"
        assert [f.id for f in read_flows(tmp_path / "all.flows")] == [
            f.id for f in read_flows(SAMPLE)
        ]
        assert app.changes == 0


async def test_w_without_marks_cannot_choose_marked(tmp_path: Path) -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("ctrl+u", "w")
        await pilot.pause()
        assert "Marked: 0 flows" in screen_text(app)
        await pilot.press("m")  # nothing to save: stays
        assert isinstance(app.screen, SaveChoiceDialog)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_ctrl_u_unmarks_every_flow() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        sample_marks = app.store.marked_count
        assert sample_marks > 0
        await pilot.press("home", "m")  # the first flow is not marked in the sample
        assert app.store.marked_count == sample_marks + 1
        await pilot.press("ctrl+u")
        await pilot.pause()
        assert app.store.marked_count == 0
        assert not any(f.marked for f in app.store)
        notes = "\n".join(str(n.message) for n in app._notifications)
        assert f"Unmarked {sample_marks + 1} flows" in notes


def test_marks_take_any_shortcode_rich_knows() -> None:
    assert mark_sign(":rocket:") == "🚀"  # not one of the old ten
    assert mark_sign(":grapes:") == "🍇"
    assert mark_sign(":default:") == "●"
    assert mark_sign(":no_such_code:") == "●"
    assert mark_sign("x") == "x"
    assert mark_sign("") == ""
