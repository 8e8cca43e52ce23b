"""The flowtui application and `make_app()`, the one factory for the CLI, tests and screenshots.

The app runs the workers (loading, filtering, saving, the live client) and the dialogs;
what was opened and what changed is the `Session`'s, acting on flows is the
`FlowControl`'s, and the keys come from the command table, remapped by the config file.
Widgets live on `MainScreen`.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import get_current_worker

from flowtui.config import Config, ConfigProblem, load_config
from flowtui.core import Flow
from flowtui.store import FlowStore
from flowtui.ui.attach import Attachment
from flowtui.ui.commands import BY_ID, bindings
from flowtui.ui.control import FlowControl, LiveControl, LocalControl
from flowtui.ui.filtering import THREADED_FILTER, FilterRunner
from flowtui.ui.loading import load_file
from flowtui.ui.messages import CommandRun, FlowsLoaded, LoadFinished, LoadProgress, SaveFinished
from flowtui.ui.palette import CommandsProvider
from flowtui.ui.safe_text import clean, notify
from flowtui.ui.saving import Saving
from flowtui.ui.screens.dialogs import QuitChoice, QuitDialog
from flowtui.ui.screens.held_dialogs import LeaveChoice, LeaveHeldDialog, held_by_proxy
from flowtui.ui.screens.main import MainScreen
from flowtui.ui.screens.screenshot import (
    ScreenshotDialog,
    default_screenshot_path,
    save_screenshot,
)
from flowtui.ui.session import Session
from flowtui.ui.widgets.message_view import MessageView

__all__ = ["THREADED_FILTER", "FlowtuiApp", "make_app"]

CONVERT_BYTES = 200 * 1024 * 1024
CONVERT_FLOWS = 50_000
"""From this size or flow count on, the UI suggests converting a mitmproxy capture."""


class FlowtuiApp(App[int]):
    """Opens captures and lets the user read and steer their flows."""

    CSS_PATH = "flowtui.tcss"
    TITLE = "flowtui"
    BINDINGS: ClassVar[list[BindingType]] = [*bindings("app")]
    COMMANDS = App.COMMANDS | {CommandsProvider}

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        now: Callable[[], datetime] | None = None,
        tz: tzinfo | None = None,
        detail_delay: float | None = None,
        store: FlowStore | None = None,
        attach: str | None = None,
        token: str | None = None,
        max_memory: int | None = None,
        config: Config | None = None,
        config_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.config_problems: list[ConfigProblem] = []
        """What was wrong in the config file (shown once the app runs)."""
        if config is None and config_path is not None:
            config, self.config_problems = load_config(
                config_path, command_ids=BY_ID, themes=self.available_themes, required=True
            )
        self.config = config or Config()
        """The user's settings (defaults where the file said nothing valid)."""
        self.now = now
        """The clock for "expired" checks (injected in tests for stable pictures)."""
        self.tz = tz
        """The zone times are shown in (local when None)."""
        self.detail_delay = self.config.detail_delay if detail_delay is None else detail_delay
        """Seconds the detail panes wait for the cursor to settle (0: follow at once)."""
        self.store = store or FlowStore()
        """Every flow of the session."""
        if store is not None and attach is None:  # its flows are what was opened
            snap = store.snapshot()
            store.mark_saved(dict(zip(snap.ids, snap.revisions, strict=True)))
        live = (
            Attachment(
                attach,
                self.store,
                token=token,
                on_health=self._changed,
                max_memory=self.config.max_memory if max_memory is None else max_memory,
            )
            if attach
            else None
        )
        self.session = Session(paths, self.store, live)
        """What was opened and what changed since."""
        self.control: FlowControl = (
            LiveControl(self.store, self.session.note_change, self.live_command)
            if live is not None
            else LocalControl(self.store, self.session.note_change)
        )
        """How actions reach flows: the model's methods, or the proxy."""
        self.filtering = FilterRunner(self)
        """Runs the view filter (in a worker over many flows)."""
        self.saving = Saving(self)
        """Asks which flows and where, and saves them (`w`)."""
        self.set_keymap(self.config.keys)

    # -- facts other parts read -----------------------------------------------------------

    @property
    def attachment(self) -> Attachment | None:
        """The live proxy connection (``flowtui attach``), or None for files."""
        return self.session.live

    @property
    def changes(self) -> int:
        """What a save would change (see `Session.changes`)."""
        return self.session.changes

    @property
    def loaded(self) -> dict[str, int]:
        """How many flows each finished file gave."""
        return self.session.loaded

    @property
    def problems(self) -> dict[str, str]:
        """The load problem of each file that had one."""
        return self.session.problems

    @property
    def filter_text(self) -> str:
        """The view filter as typed."""
        return self.filtering.text

    @property
    def main(self) -> MainScreen:
        """The main screen (always at the bottom of the stack)."""
        screen = self.screen_stack[0] if self.screen_stack else None
        if not isinstance(screen, MainScreen):
            raise RuntimeError("the main screen is not installed")
        return screen

    # -- start, stop, commands ------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette commands, with a Screenshot that asks where to save, and
        without Textual's own Quit (the command table has "Quit" and "Quit now", which
        ask about unsaved changes; two entries named Quit would be a guess)."""
        for command in super().get_system_commands(screen):
            if command.title == "Quit":
                continue
            if command.title != "Screenshot":
                yield command
                continue

            yield SystemCommand(
                "Screenshot",
                "Save an SVG screenshot of the current screen (asks where)",
                self.action_screenshot_to,
            )

    def action_screenshot_to(self) -> None:
        """Ask for a path, then save the screen below the dialog there."""

        def done(path: Path | None) -> None:
            if path is not None:
                # After the dialog has gone, so the picture is of the screen below it.
                self.set_timer(0.1, lambda: save_screenshot(self, path))

        self.push_screen(ScreenshotDialog(default_screenshot_path()), done)

    def on_mount(self) -> None:
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        for problem in self.config_problems:
            notify(self, clean(str(problem), max_len=500), title=clean("Config"), severity="error")
        self.store.subscribe(self._changed)
        if self.session.paths:
            self.load(list(self.session.paths))
        if self.attachment is not None:
            self._attached()

    def on_unmount(self) -> None:
        """Give what `gc.freeze()` kept back to the collector."""
        gc.unfreeze()

    async def run_command(self, command_id: str) -> None:
        """Run a command by id on its target, as its key would (the palette's route)."""
        command = BY_ID[command_id]
        target: Any = self
        if command.target == "screen":
            target = self.main
        elif command.target == "flow_list":
            target = self.main.flow_list
        elif command.target == "messages":
            target = self.main.query_one(MessageView)
        self.post_message(CommandRun(command_id))
        await self.run_action(command.action, target)

    def _changed(self, *_: object) -> None:
        """The store or the connection's health changed: redraw the status bar."""
        self.call_later(self.refresh_status)

    def refresh_status(self) -> None:
        """Redraw the status bar (if the main screen is up)."""
        if not self.screen_stack or not isinstance(self.screen_stack[0], MainScreen):
            return
        with contextlib.suppress(NoMatches):  # the screen is being torn down
            self.main.refresh_status()

    # -- attached to a live proxy ---------------------------------------------------------

    @work(exclusive=True, group="live", name="live")
    async def _attached(self) -> None:
        """Run the live client on the app's loop until the app ends (or it is refused)."""
        if self.attachment is not None:
            await self.attachment.run()

    def live_command(self, kind: str, **args: Any) -> None:
        """Send a command to the proxy; its effect shows when the proxy's update arrives."""
        self._live_command(kind, args)

    @work(group="command", name="command")
    async def _live_command(self, kind: str, args: dict[str, Any]) -> None:
        if self.attachment is None:
            return
        error = await self.attachment.command(kind, **args)
        if error is not None:
            title = clean("The proxy refused")
            notify(self, clean(error, max_len=500), title=title, severity="error", timeout=8)

    # -- loading ------------------------------------------------------------------------

    @work(thread=True, group="load", name="load")
    def load(self, paths: list[Path]) -> None:
        """Read each capture in turn, posting flows in batches (runs in a thread; a
        capture loaded later with `L` is read alongside)."""
        worker = get_current_worker()
        for path in paths:
            if worker.is_cancelled:
                return
            load_file(path, self.post_message, lambda: worker.is_cancelled)

    def load_more(self, path: Path) -> None:
        """Load another capture into the session (`L`), after what is loading now."""
        self.session.add_path(path)
        self.load([path])

    def on_flows_loaded(self, message: FlowsLoaded) -> None:
        self.store.add_lazy((e.id, e.summary, e.ref) for e in message.entries)
        # Each batch joins the long-lived index at once (see `on_load_finished`): while a
        # large capture is indexed, full collections would otherwise rescan everything
        # indexed so far, holding the interpreter for about a second per 100,000 flows.
        gc.freeze()

    def on_load_progress(self, message: LoadProgress) -> None:
        self.session.progress[message.path] = message
        self._show_load_state()

    def on_load_finished(self, message: LoadFinished) -> None:
        # The index (a summary per flow: a million objects at 100,000 flows) lives as
        # long as the session: keep it out of the collector's full passes, which
        # otherwise scan it all and stopped the UI for 100-250 ms a dozen times while
        # paging through a 10,000-flow capture. Unfrozen when the app ends.
        gc.freeze()
        self.session.finished(message)
        if message.error:
            read = f"{message.flows} flow{'s' if message.flows != 1 else ''} read"
            title = clean("Could not read the whole file")
            text = clean(f"{message.error} ({read})", max_len=500)
            notify(self, text, title=title, severity="error", timeout=10)
        elif message.format == "mitmproxy" and _large(message):
            name = Path(message.path)
            tip = (
                f"Large capture: `flowtui convert {name} {name.with_suffix('.flowtui')}` "
                "makes a file that opens faster: it stores each flow's summary."
            )
            notify(self, clean(tip), title=clean("Tip"), timeout=10)
        self._show_load_state()

    def _show_load_state(self) -> None:
        problem = "; ".join(self.session.problems.values())
        self.main.status.set(loading=self.session.load_state(), problem=problem)

    def apply_filter(self, text: str, predicate: Callable[[Flow], bool] | None) -> None:
        """Filter the view; over `THREADED_FILTER` flows the matching runs in a worker."""
        self.filtering.apply(text, predicate)

    # -- saving -------------------------------------------------------------------------

    def on_save_finished(self, message: SaveFinished) -> None:
        self.saving.finished(message)

    # -- quitting -------------------------------------------------------------------------

    def request_quit(self) -> None:
        """Quit, asking first (save / discard / cancel) when there are unsaved changes.

        Attached to a proxy, flows captured (or changed) since the last save count too;
        and while the proxy holds flows it asks first what to do with them."""
        live = self.attachment
        held = held_by_proxy(live.client) if live is not None else 0
        if live is None or not held:
            self._quit_asking()
            return

        def chosen(choice: LeaveChoice | None) -> None:
            if choice == "quit":
                self._quit_asking()
            elif choice == "resume":
                self._resume_all_then_quit()

        self.push_screen(LeaveHeldDialog(held, live.client.on_detach), chosen)

    @work(group="command", name="resume all and quit")
    async def _resume_all_then_quit(self) -> None:
        if self.attachment is None:
            return
        error = await self.attachment.command("resume_all")
        if error is not None:
            title = clean("The proxy refused")
            notify(self, clean(error, max_len=500), title=title, severity="error", timeout=8)
            return
        self._quit_asking()

    def _quit_asking(self) -> None:
        """Quit, asking first when there are unsaved changes."""
        summary = self.session.quit_summary()
        if summary is None:
            self.exit(0)
            return

        def done(choice: QuitChoice | None) -> None:
            if choice == "save":
                self.saving.ask(then_quit=True)
            elif choice == "discard":
                self.exit(0)

        self.push_screen(QuitDialog(summary), done)

    async def action_quit(self) -> None:
        if isinstance(self.screen, QuitDialog | LeaveHeldDialog):
            return
        self.request_quit()


def _large(message: LoadFinished) -> bool:
    try:
        size = Path(message.path).stat().st_size
    except OSError:
        size = 0
    return size >= CONVERT_BYTES or message.flows >= CONVERT_FLOWS


make_app = FlowtuiApp
"""The factory the CLI, the tests and the screenshot script share: the app's constructor.

With `attach` (a live socket address, and its `token` for TCP) the app opens with no
files and mirrors the proxy's flows. `config` (or `config_path`, read here, its
problems shown as notifications) holds the user's settings; without either the
defaults apply and no file is read.
"""
