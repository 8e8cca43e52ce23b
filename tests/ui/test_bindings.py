"""Every binding of the main screen, through the keyboard: the model state after the key
is what the key promised (mark, comment, intercept/resume, kill, revert, delete,
duplicate, filter, save, quit), and every binding names an action that exists."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input
from ui_support import SAMPLE, screen_text

from flowtui.core import Error, UnknownFlow
from flowtui.io import read_flows
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.commands import COMMANDS
from flowtui.ui.screens.dialogs import CommentDialog, FilterDialog, QuitDialog, SaveDialog
from flowtui.ui.screens.help import HelpScreen
from flowtui.ui.screens.main import MainScreen
from flowtui.ui.widgets.flow_list import FlowList

KILLED, INTERCEPTED = 9, 12
"""Positions of the killed and the intercepted flow in the sample."""


def _app(path: Path = SAMPLE) -> FlowtuiApp:
    return make_app([path], tz=UTC, detail_delay=0)


async def _loaded(app: FlowtuiApp, pilot: Pilot[int]) -> FlowList:
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.main.query_one(FlowList)


async def _goto(pilot: Pilot[int], flows: FlowList, pos: int) -> None:
    flows.focus()
    await pilot.press("home", *["down"] * pos)


def _notes(app: FlowtuiApp) -> str:
    """Every notification shown so far, joined (toasts wrap, so screen text won't do)."""
    return "\n".join(str(n.message) for n in app._notifications)


def test_every_command_has_an_action_and_a_unique_id() -> None:
    from flowtui.ui.widgets.message_view import MessageView

    targets = {"screen": MainScreen, "flow_list": FlowList, "messages": MessageView}
    targets["app"] = FlowtuiApp
    ids = [c.id for c in COMMANDS]
    assert len(ids) == len(set(ids)) and all(ids)
    for command in COMMANDS:
        target = targets[command.target]
        name = command.action.split("(")[0]
        assert callable(getattr(target, f"action_{name}", None)), command


async def test_mark_toggles_and_backs_up() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        flow = flows.flow
        assert flow is not None and flow.marked == ""
        await pilot.press("m")
        assert flow.marked == ":default:" and flow.modified() and app.changes == 1
        await pilot.press("m")
        assert flow.marked == ""


async def test_keymap_remaps_by_binding_id() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        app.set_keymap({"flow.mark": "M"})
        await pilot.press("m")
        assert flows.flow is not None and flows.flow.marked == ""
        await pilot.press("M")
        assert flows.flow.marked == ":default:"


async def test_comment_dialog_sets_the_comment() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        flow = flows.flow
        assert flow is not None
        await pilot.press("semicolon")
        assert isinstance(app.screen, CommentDialog)
        await pilot.press("h", "i", "ctrl+s")
        await pilot.pause()
        assert flow.comment == "hi" and flow.modified()
        await pilot.press("semicolon", "escape")
        assert flow.comment == "hi"


async def test_intercept_resume_and_resume_all() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        flow = flows.flow
        assert flow is not None
        await pilot.press("i")
        assert flow.intercepted
        assert "⏸" in screen_text(app)
        await pilot.press("a")
        assert not flow.intercepted
        await pilot.press("i")
        assert sum(f.intercepted for f in app.store) == 2  # with the sample's own
        await pilot.press("A")
        assert not any(f.intercepted for f in app.store)


async def test_kill_refuses_a_flow_loaded_from_a_file() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        flow = flows.flow
        assert flow is not None
        await pilot.press("X")
        await pilot.pause()
        assert flow.error is None and not flow.modified() and app.changes == 0
        assert "not live: flows loaded from a file can't be killed" in _notes(app)


async def test_kill_a_live_flow() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        flow = flows.flow
        assert flow is not None
        flow.live = True
        await pilot.press("X")
        assert flow.error is not None and flow.error.msg == Error.KILLED_MESSAGE
        assert not flow.live and flow.modified()
        await _goto(pilot, flows, KILLED)
        await pilot.press("X")
        await pilot.pause()
        assert "already killed" in _notes(app)


async def test_revert_restores_the_backup() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        await _goto(pilot, flows, INTERCEPTED)
        flow = flows.flow
        assert flow is not None and flow.intercepted
        await pilot.press("a", "m")
        assert not flow.intercepted and flow.marked
        await pilot.press("V")
        assert flow.intercepted and flow.marked == "" and not flow.modified()
        assert app.store.modified_count == 0


async def test_delete_undelete_and_duplicate() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        await _goto(pilot, flows, 2)
        flow = flows.flow
        assert flow is not None
        await pilot.press("d")
        assert flow.id not in app.store and len(app.store.view) == 29 and app.changes == 1
        await pilot.press("U")
        assert app.store.view.position(flow.id) == 2
        await pilot.press("D")
        dup = flows.flow
        assert dup is not None and dup.id != flow.id and len(app.store) == 31
        assert app.store.view.position(dup.id) == 3
        assert dup.get_state()["client_conn"] == flow.get_state()["client_conn"]


async def test_filter_and_filter_errors() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("f")
        assert isinstance(app.screen, FilterDialog)
        await pilot.press(*"~tcp &", "enter")
        assert isinstance(app.screen, FilterDialog)  # stays open, shows where it broke
        assert "^" in screen_text(app)
        app.screen.query_one(Input).value = "~tcp"
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert len(app.store.view) == 18 and app.filter_text == "~tcp"
        assert "18/30 shown" in screen_text(app)
        await pilot.press("f")
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")
        assert len(app.store.view) == 30


async def test_save_writes_a_file_that_reloads_with_the_change(tmp_path: Path) -> None:
    app = _app()
    target = tmp_path / "saved.flows"
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        marked_id = flows.flow.id if flows.flow else ""
        await pilot.press("m", "down", "d", "w", "a")
        assert isinstance(app.screen, SaveDialog)
        assert app.screen.query_one(Input).value == str(SAMPLE)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.changes == 0
    again = {f.id: f for f in read_flows(target)}
    assert len(again) == 29
    assert again[marked_id].marked == ":default:" and again[marked_id].modified()


async def test_quit_asks_when_there_are_unsaved_changes() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("m", "q")
        assert isinstance(app.screen, QuitDialog)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and app.is_running
        await pilot.press("q", "d")
        await pilot.pause()
        assert not app.is_running


async def test_quit_dialog_save_saves_then_quits(tmp_path: Path) -> None:
    app = _app()
    target = tmp_path / "out.flows"
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        marked_id = flows.flow.id if flows.flow else ""
        await pilot.press("m", "ctrl+q")
        assert isinstance(app.screen, QuitDialog)
        await pilot.press("s")
        assert isinstance(app.screen, SaveDialog)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.is_running
    assert {f.id: f for f in read_flows(target)}[marked_id].marked == ":default:"


async def test_quit_without_changes_and_back_from_detail() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("enter")
        assert app.main.maximized is not None
        await pilot.press("q")
        assert app.main.maximized is None and app.is_running
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_help_lists_bindings_and_signs() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "flow.mark" in text and "⏸" in text and "intercepted" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_unreadable_records_are_read_only() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        unknown = UnknownFlow.from_raw({"type": "quic", "id": "u-1"}, "unknown flow type")
        app.store.insert_after(None, unknown)
        await _goto(pilot, flows, 0)
        assert flows.flow is unknown
        await pilot.press("m", "i", "D")
        await pilot.pause()
        assert unknown.marked == "" and not unknown.intercepted and len(app.store) == 31
        assert "read-only" in _notes(app)
