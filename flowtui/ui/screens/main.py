"""The main screen: flow list on top, the focused flow's details below, status and keys.

Its bindings come from the command table (`ui.commands`). A flow action asks the app's
`FlowControl` (local: the model's own method after a `backup()`; live: the proxy), so
no action branches on files versus a live proxy. The detail panes follow the cursor
through a `DetailLoader`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal, cast

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from flowtui.core import DNSFlow, Flow, HTTPFlow
from flowtui.core.messages import MessageFlow
from flowtui.store import OrderKey
from flowtui.ui.commands import BY_ID, COMMANDS, bindings, keys_for
from flowtui.ui.control import Said, read_only
from flowtui.ui.safe_text import clean, notify
from flowtui.ui.screens.detail_loader import LARGE_RECORD, PREVIEW_AT_ONCE, DetailLoader
from flowtui.ui.screens.dialogs import CommentDialog
from flowtui.ui.screens.help import HelpScreen
from flowtui.ui.screens.inspector_actions import InspectAction, InspectorActions
from flowtui.ui.screens.prompts import InputDialog, order_label
from flowtui.ui.screens.steering import SteerAction, Steering
from flowtui.ui.screens.view_actions import ViewAction, ViewActions
from flowtui.ui.steer import (
    intercept_label,
)
from flowtui.ui.widgets.connection_pane import ConnectionPane
from flowtui.ui.widgets.detail_pane import DetailPane
from flowtui.ui.widgets.flow_columns import mark_emoji
from flowtui.ui.widgets.flow_info import FlowInfo
from flowtui.ui.widgets.flow_list import FlowList
from flowtui.ui.widgets.message_view import MessageView
from flowtui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from flowtui.ui.app import FlowtuiApp

__all__ = ["LARGE_RECORD", "PREVIEW_AT_ONCE", "MainScreen", "check_marker"]

FlowAction = Literal["intercept", "resume", "kill", "revert"]
"""What `action_flow` does to the focused flow (a `FlowControl` method)."""
AllAction = Literal["resume_all", "unmark_all"]
"""What `action_all` does to every flow (a `FlowControl` method)."""


def check_marker(text: str) -> str | None:
    """None when `text` can mark a flow (a shortcode Rich knows, or one character),
    else why not."""
    if len(text) == 1 or mark_emoji(text) is not None:
        return None
    return f"{text or 'nothing'}: not an emoji shortcode (like :grapes:) or one character"


def _order_text(order: OrderKey | None, reverse: bool) -> str:
    """The status bar's order: empty for the numbers' order, else `by size` (and `↑`
    when reversed, last first)."""
    if order is None:
        return "reversed" if reverse else ""
    return f"by {order_label(order)}{' ↑' if reverse else ''}"


class MainScreen(Screen[None]):
    """Flows, details, status bar and footer."""

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("screen")]

    def __init__(self) -> None:
        super().__init__()
        self.view_actions = ViewActions(self)
        """The list's view commands (`action_view`)."""
        self.steering = Steering(self)
        """The steering commands (`action_steer`)."""
        self.inspector = InspectorActions(self)
        """The HTTP inspector's commands (`action_inspect`)."""
        self.details: DetailLoader | None = None
        """Shows the flow under the cursor in the panes (set up on compose)."""

    @property
    def ft(self) -> FlowtuiApp:
        """The app, typed."""
        return cast("FlowtuiApp", self.app)

    def compose(self) -> ComposeResult:
        app = self.ft
        self.details = DetailLoader(self, app.store, app.detail_delay, self._show)
        follow = app.attachment is not None if app.config.follow is None else app.config.follow
        yield FlowList(app.store, tz=app.tz, follow=follow, id="flows")
        with TabbedContent(id="detail"):
            with TabPane("Messages", id="tab-messages"):
                yield MessageView(id="messages", view_mode=app.config.view_mode)
            with TabPane("Request", id="tab-request"):
                yield DetailPane("request", id="request")
            with TabPane("Response", id="tab-response"):
                yield DetailPane("response", id="response")
            with TabPane("Connection", id="tab-connection"):
                yield ConnectionPane(id="connection", now=app.now, tz=app.tz)
        live = app.attachment
        yield FlowInfo(
            app.store, id="flow-info", recording=lambda: live.client.record if live else None
        )
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        # Commands without default keys get the keys the config gives them (Textual's
        # keymap only re-keys bindings that exist).
        for command in COMMANDS:
            keys = self.ft.config.keys.get(command.id)
            if command.target == "screen" and not command.keys and keys:
                self._bindings.bind(keys, command.action, command.title, show=False)
        self.query_one(FlowList).focus()
        self.refresh_status()

    def on_unmount(self) -> None:
        self.steering.fetching.cancel.set()  # a reading worker stops at its next record

    # -- helpers --------------------------------------------------------------------------

    @property
    def flow_list(self) -> FlowList:
        return self.query_one(FlowList)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def refresh_status(self) -> None:
        """Redraw the counts in the status bar."""
        if not self.is_mounted:
            return  # a store event can arrive while the app shuts down
        app = self.ft
        store = app.store
        live = app.attachment
        self.status.set(
            connection=live.address if live else "",
            health=live.health if live else "",
            follow=self.flow_list.follow,
            files=tuple(str(p) for p in app.session.paths),
            total=len(store),
            shown=len(store.view),
            marked=store.marked_count,
            modified=store.modified_count,
            unsaved=app.changes > 0,
            filter=app.filter_text,
            order=_order_text(store.view.order, store.view.reverse),
            marked_only=store.view.marked_only,
            intercept=intercept_label(live.client.intercept_filter) if live else "",
        )

    def say(self, message: str | Said | None, severity: str = "information") -> None:
        """A notification; the text is cleaned and never parsed as markup."""
        if message is None:
            return
        text = message.text if isinstance(message, Said) else message
        if isinstance(message, Said):
            severity = message.severity
        notify(self.app, clean(text, max_len=500), severity=severity)  # type: ignore[arg-type]

    def focused_flow(self) -> Flow | None:
        flow = self.flow_list.flow
        if flow is None:
            self.say("No flow selected.", "warning")
        return flow

    # -- detail following the cursor -------------------------------------------------------

    def on_flow_list_highlighted(self, message: FlowList.Highlighted) -> None:
        if self.details is not None:
            self.details.highlighted(message.flow_id)

    def _show(self, flow: Flow | None, pending: int | None = None) -> None:
        """Hand `flow` to the panes (a preview when `pending` is its message count)."""
        assert self.details is not None
        messages = self.query_one(MessageView)
        if self.details.shown_flow(flow):
            messages.refresh_flow()
        else:
            messages.show_flow(flow, pending=pending)
        self.query_one(ConnectionPane).show_flow(flow)
        self.query_one(FlowInfo).show_flow(flow)
        self._show_sides(flow, preview=pending is not None)
        self.refresh_status()

    # -- flow actions (see ui.commands) ------------------------------------------------------

    def action_mark(self) -> None:
        flow = self.focused_flow()
        if flow is not None:
            self.say(self.ft.control.mark(flow, "" if flow.marked else ":default:"))

    def action_mark_with(self) -> None:
        flow = self.focused_flow()
        if flow is None or self.say_refused(flow, "mark"):
            return

        def done(text: str | None) -> None:
            if text is not None and self.ft.store.key_of(flow) is not None:
                self.say(self.ft.control.mark(flow, text))

        hint = "an emoji shortcode (:grapes:, :rocket:…) or one character · escape cancel"
        self.app.push_screen(
            InputDialog("Mark with", flow.marked or ":default:", hint=hint, check=check_marker),
            done,
        )

    def say_refused(self, flow: Flow, action: str) -> bool:
        """Tell why `action` is refused on an unreadable record; True if it is."""
        refused = read_only(flow, action)
        self.say(refused)
        return refused is not None

    def action_comment(self) -> None:
        flow = self.focused_flow()
        if flow is None or self.say_refused(flow, "comment"):
            return
        store = self.ft.store
        key = store.key_of(flow)
        if key is None:
            return

        def done(text: str | None) -> None:
            if text is None or text == flow.comment or store.key_of(flow) is None:
                return
            self.say(self.ft.control.comment(flow, text))

        title = f"Comment on flow #{store.number(key)}"
        self.app.push_screen(CommentDialog(flow.comment, title), done)

    def action_flow(self, name: FlowAction) -> None:
        """intercept, resume, kill or revert the focused flow, through the flow control."""
        flow = self.focused_flow()
        if flow is not None:
            self.say(getattr(self.ft.control, name)(flow))

    def action_all(self, name: AllAction) -> None:
        """resume_all or unmark_all, through the flow control."""
        self.say(getattr(self.ft.control, name)())

    def action_delete(self) -> None:
        flow = self.focused_flow()
        if flow is not None:
            self.ft.session.delete_flow(flow)

    def action_undelete(self) -> None:
        key = self.ft.session.undelete_flow()
        if key is None:
            self.say("Nothing to undelete.")
        else:
            self.flow_list.select_flow(key)

    def action_duplicate(self) -> None:
        flow = self.focused_flow()
        if flow is None or self.say_refused(flow, "duplicate"):
            return
        key = self.ft.store.key_of(flow)
        if key is None:
            return
        dup = flow.copy()
        dup.backup()
        self.ft.session.note_change()
        self.flow_list.select_flow(self.ft.store.insert_after(key, dup))

    # -- view actions -----------------------------------------------------------------------

    def action_view(self, name: ViewAction) -> None:
        """A view command (filter, follow, clear, order, ...): see `ViewActions`."""
        getattr(self.view_actions, name)()

    def action_steer(self, name: SteerAction, *args: object) -> None:
        """A steering command (intercept filter, replay): see `Steering`."""
        getattr(self.steering, name)(*args)

    def action_save(self) -> None:
        self.ft.saving.ask()

    def action_open_detail(self) -> None:
        detail = self.query_one("#detail", TabbedContent)
        self.maximize(detail)
        pane = detail.active_pane
        # Focus the widget of the tab that is showing (focusing another would switch tabs).
        target = next((w for w in pane.query("*") if w.focusable), None) if pane else None
        if target is not None:
            target.focus()

    def action_back(self) -> None:
        if self.maximized is not None:
            self.minimize()
            self.flow_list.focus()
        elif self.focused is not self.flow_list:
            self.flow_list.focus()
        else:
            self.ft.request_quit()

    def action_help(self) -> None:
        keymap = self.ft.config.keys
        self.app.push_screen(HelpScreen({c: keys_for(c, keymap) for c in BY_ID}))

    # -- the HTTP inspector: request and response panes, views, export ------------------

    def _show_sides(self, flow: Flow | None, *, preview: bool) -> None:
        """Show `flow` in the Request and Response panes, and bring the tab that suits
        its type forward (the response for HTTP and DNS, the messages for TCP, UDP and
        WebSocket) when the one showing does not apply to it."""
        for pane in self.query(DetailPane):
            pane.show_flow(flow, preview=preview)
        if flow is None:
            return
        detail = self.query_one("#detail", TabbedContent)
        sides = detail.active in ("tab-request", "tab-response")
        has_messages = isinstance(flow, MessageFlow) or (
            isinstance(flow, HTTPFlow) and flow.websocket is not None
        )
        if isinstance(flow, HTTPFlow | DNSFlow) and not has_messages:
            if detail.active == "tab-messages":
                detail.active = "tab-response"
        elif has_messages and (sides if isinstance(flow, MessageFlow) else
                               detail.active == "tab-response"):  # fmt: skip
            detail.active = "tab-messages"

    def active_side(self) -> DetailPane | None:
        detail = self.query_one("#detail", TabbedContent)
        if detail.active == "tab-request":
            return self.query_one("#request", DetailPane)
        if detail.active == "tab-response":
            return self.query_one("#response", DetailPane)
        return None

    def action_inspect(self, name: InspectAction, *args: str) -> None:
        """An HTTP inspector command (body view, export, save a body): see
        `InspectorActions`."""
        getattr(self.inspector, name)(*args)
