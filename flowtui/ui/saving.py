"""`w`: ask which flows (shown, marked or all) and where, then write them in a worker.

Why apart from the app: the two questions, the worker and what a finished save means
for the session are one sequence; the app only hands it the `SaveFinished` message.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flowtui.core import Flow
from flowtui.io import FlowWriteException, save_flows
from flowtui.store import LazyFlow
from flowtui.ui.commands import keys_for
from flowtui.ui.messages import SaveFinished
from flowtui.ui.safe_text import clean, notify
from flowtui.ui.screens.dialogs import SaveDialog
from flowtui.ui.screens.prompts import SaveChoiceDialog
from flowtui.ui.session import SaveChoice

if TYPE_CHECKING:
    from flowtui.ui.app import FlowtuiApp

__all__ = ["Saving"]


class Saving:
    """Saves the app's session, asking first."""

    def __init__(self, app: FlowtuiApp) -> None:
        self.app = app
        """The app whose session, dialogs and workers this uses."""

    def ask(self, then_quit: bool = False) -> None:
        """Ask which flows (shown, marked or all; quitting saves all), then where, and
        save them there."""
        if then_quit:
            self._ask_path("all", then_quit=True)
            return

        def chosen(choice: SaveChoice | None) -> None:
            if choice is not None:
                self._ask_path(choice)

        self.app.push_screen(SaveChoiceDialog(self.app.session.counts()), chosen)

    def _ask_path(self, choice: SaveChoice, then_quit: bool = False) -> None:
        app, session = self.app, self.app.session
        path = session.proposed_path((app.now or datetime.now)())
        selection = session.select(choice)
        what = "" if choice == "all" else selection.describe()

        def done(target: Path | None) -> None:
            if target is not None:
                self.save(target, then_quit=then_quit, choice=choice)

        fmt = session.save_format(Path(path))
        live = app.attachment
        fetch_key = keys_for("flow.fetch", app.config.keys)
        warning = live.incomplete_warning(selection.items, fetch_key) if live is not None else None
        if warning is not None:  # attached: say before saving that some are not whole
            notify(app, clean(warning, max_len=600), severity="warning", timeout=15)
        dialog = SaveDialog(path, len(selection.keys), fmt, session.sources(), what=what)
        app.push_screen(dialog, done)

    def save(self, path: Path, *, then_quit: bool = False, choice: SaveChoice = "all") -> None:
        """Save the chosen flows (default: every flow, shown or filtered out, not
        deleted) to `path` atomically; untouched lazy flows are copied from their
        capture byte for byte."""
        session = self.app.session
        selection = session.select(choice)
        revisions = selection.revisions if selection.everything else None
        what = "" if selection.everything else selection.describe()
        fmt = session.save_format(path)
        items = selection.items
        self.app.run_worker(
            lambda: self._write(path, items, fmt, then_quit, revisions, what),
            thread=True,
            exclusive=True,
            group="save",
            name="save",
        )

    def _write(
        self,
        path: Path,
        flows: list[Flow | LazyFlow],
        fmt: str,
        then_quit: bool,
        revisions: dict[str, int] | None,
        what: str,
    ) -> None:
        post = self.app.post_message
        try:
            count = save_flows(path, flows, format=fmt)
        except FlowWriteException as e:
            post(SaveFinished(str(path), 0, str(e), then_quit))
        except OSError as e:
            post(SaveFinished(str(path), 0, f"{path}: {e}", then_quit))
        else:
            post(SaveFinished(str(path), count, None, then_quit, revisions, what))

    def finished(self, message: SaveFinished) -> None:
        """A save is done: tell, count the session saved (when all of it was), quit if
        asked."""
        app = self.app
        if message.error:
            text = clean(message.error, max_len=500)
            notify(app, text, title=clean("Not saved"), severity="error", timeout=10)
            return
        app.session.saved(Path(message.path), message.revisions)
        said = message.what or f"{message.count} flows"
        notify(app, clean(f"Saved {said} to {message.path}"))
        app.main.refresh_status()
        if message.then_quit:
            app.exit(0)
