"""The flow list's view commands on the main screen: filter, follow, clear, order,
reverse, marked-only and loading another capture. Kept out of `MainScreen` so that
screen only composes and routes; the commands reach these through
`action_view(name)`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from flowtui.store import OrderKey
from flowtui.ui.screens.dialogs import FilterDialog
from flowtui.ui.screens.prompts import ConfirmDialog, InputDialog, OrderDialog, order_label
from flowtui.ui.session import UNDOABLE_CLEAR, plural
from flowtui.ui.view_filter import FilterProblem, compile_filter

if TYPE_CHECKING:
    from flowtui.ui.screens.main import MainScreen

__all__ = ["ViewAction", "ViewActions"]

ViewAction = Literal[
    "set_filter", "follow", "clear_view", "order", "reverse", "marked_only", "load_file"
]
"""What `MainScreen.action_view` runs."""


class ViewActions:
    """The view commands of one main screen."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        """The screen whose app, store, list and status bar these use."""

    def set_filter(self) -> None:
        store = self.screen.ft.store

        def check(text: str) -> tuple[str, int | None] | None:
            result = compile_filter(text, store)
            if isinstance(result, FilterProblem):
                return result.message, result.pos
            return None

        def done(text: str | None) -> None:
            if text is None:
                return
            result = compile_filter(text, store)
            if isinstance(result, FilterProblem):  # checked in the dialog already
                return
            self.screen.ft.apply_filter(text, result)

        self.screen.app.push_screen(FilterDialog(self.screen.ft.filter_text, check), done)

    def follow(self) -> None:
        flows = self.screen.flow_list
        flows.follow = not flows.follow
        if flows.follow:
            flows.show_newest()
        self.screen.say(f"Follow {'on: the newest flow stays in view' if flows.follow else 'off'}.")
        self.screen.refresh_status()

    def clear_view(self) -> None:
        session = self.screen.ft.session
        total, shown = len(self.screen.ft.store), len(self.screen.ft.store.view)
        if not total:
            self.screen.say("Nothing to clear: the list is empty.")
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.screen.say(f"Cleared {plural(session.clear(), 'flow')}.")

        hidden = f" ({total - shown:,} of them hidden by the filter)" if total > shown else ""
        undo = (
            "U puts flows back one by one" if total <= UNDOABLE_CLEAR else "this cannot be undone"
        )
        question = (
            f"Remove all {plural(total, 'flow')}{hidden} from the session? "
            f"Files are not changed until you save; {undo}."
        )
        self.screen.app.push_screen(
            ConfirmDialog("Clear the flow list", question, yes="Clear"), done
        )

    def order(self) -> None:
        """`o`: ask what to order the list by (mitmproxy's orders, or the numbers)."""
        view = self.screen.ft.store.view

        def done(answer: tuple[OrderKey | None] | None) -> None:
            if answer is not None:
                view.set_order(answer[0])
                self.screen.say(f"Ordered by {order_label(view.order)}.")
                self.screen.refresh_status()

        self.screen.app.push_screen(OrderDialog(view.order), done)

    def reverse(self) -> None:
        """`v`: reverse the list's order."""
        view = self.screen.ft.store.view
        view.set_reverse(not view.reverse)
        self.screen.refresh_status()

    def marked_only(self) -> None:
        """`M`: show only the marked flows, or all of them again."""
        view = self.screen.ft.store.view
        view.set_marked_only(not view.marked_only)
        if view.marked_only and not len(view):
            self.screen.say("No flow is marked: the list is empty until one is (M shows all).")
        self.screen.refresh_status()

    def load_file(self) -> None:
        def check(text: str) -> str | None:
            if not text:
                return "no path: escape cancels"
            path = Path(text).expanduser()
            return None if path.exists() else f"{path}: no such file"

        def done(text: str | None) -> None:
            if text:
                self.screen.ft.load_more(Path(text).expanduser())

        self.screen.app.push_screen(
            InputDialog("Load a capture into the session", "", check=check, placeholder="path"),
            done,
        )
