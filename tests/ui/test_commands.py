"""The command table drives everything: every command is reachable through the palette
(ctrl+p, its title typed, enter), a key remapped in a real config file fires its
command, and the help lists every command and every filter operator."""

from __future__ import annotations

import io
from datetime import UTC
from pathlib import Path

from rich.console import Console
from textual.command import CommandList, CommandPalette
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input
from ui_support import SAMPLE, screen_text

from flowtui.core.filters import FILTER_HELP
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.commands import COMMANDS, Command
from flowtui.ui.messages import CommandRun
from flowtui.ui.screens.dialogs import QuitDialog
from flowtui.ui.screens.help import HelpScreen
from flowtui.ui.screens.main import MainScreen
from flowtui.ui.screens.prompts import InputDialog
from flowtui.ui.widgets.flow_list import FlowList
from flowtui.ui.widgets.message_view import MessageView


async def _loaded(app: FlowtuiApp, pilot: Pilot[int]) -> FlowList:
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.main.query_one(FlowList)


async def _palette_run(app: FlowtuiApp, pilot: Pilot[int], title: str) -> None:
    """Open the palette, type `title`, wait for the hits, run the first one."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    app.screen.query_one(Input).value = title
    hits = app.screen.query_one(CommandList)
    for _ in range(200):  # the palette searches in a worker: wait for the title's own hit
        await pilot.pause(0.02)
        first = hits.get_option_at_index(0) if hits.option_count else None
        if first is not None and _plain(first.prompt).split("\n")[0] == title:
            break
    await pilot.press("enter")
    await pilot.pause()


def _plain(prompt: object) -> str:
    """An option's prompt as plain text (a palette hit's prompt is a Rich renderable)."""
    text = getattr(prompt, "plain", None)
    if text is None:
        text = "".join(
            getattr(part, "plain", str(part)) for part in getattr(prompt, "renderables", ())
        )
    return str(text)


def _back_to_main(app: FlowtuiApp) -> None:
    """Close whatever the command opened (a dialog), leaving the main screen."""
    while len(app.screen_stack) > 1:
        app.pop_screen()


async def test_every_command_runs_from_the_palette() -> None:
    """Each command's title, typed into ctrl+p, runs that command (the quitting ones
    last: the app ends)."""
    quitting = {"app.back", "app.quit"}
    app = make_app([SAMPLE], tz=UTC, detail_delay=0)
    ran: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, CommandRun):
            ran.append(message.command_id)

    commands: list[Command] = [c for c in COMMANDS if c.id not in quitting]
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await _loaded(app, pilot)
        for command in commands:
            await _palette_run(app, pilot, command.title)
            assert ran and ran[-1] == command.id, (command.id, ran[-3:])
            _back_to_main(app)
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
        app.main.minimize()  # "Detail" maximised the panes
        app.main.flow_list.focus()
        await pilot.pause()
        await _palette_run(app, pilot, "Quit")  # back from the list: quit, asking first
        assert ran[-1] == "app.back" and isinstance(app.screen, QuitDialog)
        await pilot.press("escape")
        await _palette_run(app, pilot, "Quit now")
        assert ran[-1] == "app.quit" and isinstance(app.screen, QuitDialog)
        await pilot.press("d")
        await pilot.pause()
        assert not app.is_running
    assert {c.id for c in COMMANDS} <= set(ran)


async def test_a_palette_command_acts_like_its_key() -> None:
    app = make_app([SAMPLE], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        flow = flows.flow
        assert flow is not None
        before = flow.marked
        await _palette_run(app, pilot, "Mark")
        assert (before, flow.marked) == ("", ":default:")
        await _palette_run(app, pilot, "Next flow")
        assert flows.cursor == 1


async def test_a_key_remapped_in_a_config_file_fires_its_command(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"flow.mark" = "M"\nflow.intercept = ["ctrl+t", "I"]\n')
    app = make_app([SAMPLE], tz=UTC, detail_delay=0, config_path=config)
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        flow = flows.flow
        assert flow is not None
        await pilot.press("m")  # the default key no longer marks
        assert flow.marked == ""
        await pilot.press("M")
        assert flow.marked == ":default:"
        await pilot.press("I")
        assert flow.intercepted
        assert not app.config_problems
        await pilot.press("question_mark")  # the help shows the remapped keys
        text = screen_text(app)
        assert "ctrl+t I" in text


async def test_mark_with_any_shortcode_from_the_palette() -> None:
    """`flow.mark_with` has no key by default; the palette reaches it, and it marks
    with any shortcode Rich knows (outside the old ten)."""
    app = make_app([SAMPLE], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        flow = flows.flow
        assert flow is not None
        await _palette_run(app, pilot, "Mark with…")
        field = app.screen.query_one(Input)
        field.value = ":no_such_emoji:"
        await pilot.press("enter")
        assert "not an emoji shortcode" in screen_text(app)
        field.value = ":rocket:"
        await pilot.press("enter")
        await pilot.pause()
        assert flow.marked == ":rocket:"
        assert "🚀" in screen_text(app)


async def test_help_lists_every_command_and_every_filter_operator() -> None:
    app = make_app([SAMPLE], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(app.screen._content())  # the help's whole table, not only what fits
        help_text = console.export_text()
        for command in COMMANDS:
            assert command.id in help_text, command.id
            assert command.description in help_text, command.id
        for syntax, meaning in FILTER_HELP:
            assert syntax in help_text and meaning in help_text, syntax


def test_the_message_commands_match_the_message_viewer_bindings() -> None:
    """The message viewer still declares its own bindings (another module): they must
    be the table's, key for key."""
    table = {c.id: (c.keys, c.action) for c in COMMANDS if c.target == "messages"}
    viewer = {
        b.id: (b.key, b.action)
        for b in MessageView.BINDINGS
        if not isinstance(b, tuple) and b.id is not None
    }
    assert viewer == table


async def test_a_command_without_a_default_key_is_bound_by_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"flow.mark_with" = "ctrl+k"\n')
    app = make_app([SAMPLE], tz=UTC, detail_delay=0, config_path=config)
    async with app.run_test(size=(120, 40)) as pilot:
        flows = await _loaded(app, pilot)
        await pilot.press("ctrl+k")
        assert isinstance(app.screen, InputDialog)
        app.screen.query_one(Input).value = ":grapes:"
        await pilot.press("enter")
        assert flows.flow is not None and flows.flow.marked == ":grapes:"


async def test_the_palette_has_one_quit_the_command_tables() -> None:
    """Textual's own "Quit" is not offered beside the table's "Quit" and "Quit now"."""
    app = make_app([SAMPLE], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Quit" not in titles and "Screenshot" in titles
