"""The main screen: flow list on top, the focused flow's details below, status and keys.

Its bindings come from the command table (`ui.commands`). A flow action asks the app's
`FlowControl` (local: the model's own method after a `backup()`; live: the proxy), so
no action branches on files versus a live proxy. The detail panes follow the cursor
through a `DetailLoader`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from flowtui.core import DNSFlow, Flow, HTTPFlow, TCPFlow
from flowtui.core.messages import MessageFlow
from flowtui.export import ExportError, describe, formats
from flowtui.export import applies as export_applies
from flowtui.export import export as export_flows
from flowtui.export import suffix as export_suffix
from flowtui.live.client import CommandError
from flowtui.live.replay import ReplayError, ReplayOptions, replay_tcp, replayable
from flowtui.store import OrderKey
from flowtui.ui.commands import BY_ID, COMMANDS, bindings, keys_for
from flowtui.ui.control import Said, read_only
from flowtui.ui.safe_text import clean, notify
from flowtui.ui.screens.detail_loader import LARGE_RECORD, PREVIEW_AT_ONCE, DetailLoader
from flowtui.ui.screens.dialogs import CommentDialog, FilterDialog
from flowtui.ui.screens.help import HelpScreen
from flowtui.ui.screens.prompts import ConfirmDialog, InputDialog, OrderDialog, order_label
from flowtui.ui.session import UNDOABLE_CLEAR, plural
from flowtui.ui.steer import (
    intercept_label,
    intercept_problem,
    join_intercept,
    split_intercept,
)
from flowtui.ui.view_filter import FilterProblem, compile_filter
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
        yield FlowInfo(app.store, id="flow-info")
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

    def _focused_flow(self) -> Flow | None:
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
        flow = self._focused_flow()
        if flow is not None:
            self.say(self.ft.control.mark(flow, "" if flow.marked else ":default:"))

    def action_mark_with(self) -> None:
        flow = self._focused_flow()
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
        flow = self._focused_flow()
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
        flow = self._focused_flow()
        if flow is not None:
            self.say(getattr(self.ft.control, name)(flow))

    def action_all(self, name: AllAction) -> None:
        """resume_all or unmark_all, through the flow control."""
        self.say(getattr(self.ft.control, name)())

    def action_delete(self) -> None:
        flow = self._focused_flow()
        if flow is not None:
            self.ft.session.delete_flow(flow)

    def action_undelete(self) -> None:
        key = self.ft.session.undelete_flow()
        if key is None:
            self.say("Nothing to undelete.")
        else:
            self.flow_list.select_flow(key)

    def action_duplicate(self) -> None:
        flow = self._focused_flow()
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

    def action_set_filter(self) -> None:
        store = self.ft.store

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
            self.ft.apply_filter(text, result)

        self.app.push_screen(FilterDialog(self.ft.filter_text, check), done)

    def action_follow(self) -> None:
        flows = self.flow_list
        flows.follow = not flows.follow
        if flows.follow:
            flows.show_newest()
        self.say(f"Follow {'on: the newest flow stays in view' if flows.follow else 'off'}.")
        self.refresh_status()

    def action_clear_view(self) -> None:
        session = self.ft.session
        total, shown = len(self.ft.store), len(self.ft.store.view)
        if not total:
            self.say("Nothing to clear: the list is empty.")
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.say(f"Cleared {plural(session.clear(), 'flow')}.")

        hidden = f" ({total - shown:,} of them hidden by the filter)" if total > shown else ""
        undo = (
            "U puts flows back one by one" if total <= UNDOABLE_CLEAR else "this cannot be undone"
        )
        question = (
            f"Remove all {plural(total, 'flow')}{hidden} from the session? "
            f"Files are not changed until you save; {undo}."
        )
        self.app.push_screen(ConfirmDialog("Clear the flow list", question, yes="Clear"), done)

    def action_order(self) -> None:
        """`o`: ask what to order the list by (mitmproxy's orders, or the numbers)."""
        view = self.ft.store.view

        def done(answer: tuple[OrderKey | None] | None) -> None:
            if answer is not None:
                view.set_order(answer[0])
                self.say(f"Ordered by {order_label(view.order)}.")
                self.refresh_status()

        self.app.push_screen(OrderDialog(view.order), done)

    def action_reverse(self) -> None:
        """`v`: reverse the list's order."""
        view = self.ft.store.view
        view.set_reverse(not view.reverse)
        self.refresh_status()

    def action_marked_only(self) -> None:
        """`M`: show only the marked flows, or all of them again."""
        view = self.ft.store.view
        view.set_marked_only(not view.marked_only)
        if view.marked_only and not len(view):
            self.say("No flow is marked: the list is empty until one is (M shows all).")
        self.refresh_status()

    def action_load_file(self) -> None:
        def check(text: str) -> str | None:
            if not text:
                return "no path: escape cancels"
            path = Path(text).expanduser()
            return None if path.exists() else f"{path}: no such file"

        def done(text: str | None) -> None:
            if text:
                self.ft.load_more(Path(text).expanduser())

        self.app.push_screen(
            InputDialog("Load a capture into the session", "", check=check, placeholder="path"),
            done,
        )

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

    # -- steering: replay and the live intercept filter (see ui.steer) ---------------------

    def action_intercept_filter(self) -> None:
        """`I`: set or clear (empty) the live proxy's intercept filter."""
        live = self.ft.attachment
        if live is None:
            self.say("The intercept filter steers a live proxy (flowtui attach).", "warning")
            return
        current = live.client.intercept_filter
        hint = (
            "a filter (~tcp & ~b login); client: or server: holds one direction only · "
            "empty clears · escape cancel"
        )

        def done(text: str | None) -> None:
            if text is not None:
                self._send_intercept_filter(text)

        self.app.push_screen(
            InputDialog(
                "Intercept filter",
                join_intercept(*current) if current else "",
                hint=hint,
                placeholder="e.g. ~tcp & ~d example.com",
                check=intercept_problem,
            ),
            done,
        )

    @work(group="command", name="intercept filter")
    async def _send_intercept_filter(self, text: str) -> None:
        live = self.ft.attachment
        if live is None:
            return
        spec, direction = split_intercept(text)
        try:
            await live.client.set_intercept(spec or None, direction)
        except CommandError as e:
            self.say(f"The proxy refused the intercept filter: {e}", "error")
            return
        label = intercept_label(live.client.intercept_filter)
        self.say(f"Intercepting {label}." if label else "Intercept filter cleared.")
        self.refresh_status()

    def action_replay(self, timing: bool) -> None:
        """`r`: replay the focused finished TCP flow to its server, as a new flow."""
        flow = self._focused_flow()
        if flow is None:
            return
        problem = replayable(flow)
        if problem is not None:
            self.say(f"Cannot replay this flow: {problem}.", "warning")
            return
        assert isinstance(flow, TCPFlow)
        address = flow.server_conn.address
        where = f"{address[0]}:{address[1]}" if address else "its server"
        self.say(f"Replaying to {where}{' with the original timing' if timing else ''}…")
        self._replay(flow, timing)

    @work(thread=True, group="replay", name="replay")
    def _replay(self, flow: TCPFlow, timing: bool) -> None:
        """Runs the replay's own event loop in a worker thread, never on the UI's."""
        try:
            new = asyncio.run(replay_tcp(flow, ReplayOptions(timing=timing)))
        except ReplayError as e:
            self.app.call_from_thread(self.say, str(e), "warning")
            return
        self.app.call_from_thread(self._replayed, flow, new)

    def _replayed(self, old: Flow, new: TCPFlow) -> None:
        """Put the replay next to its original and say how it went."""
        store = self.ft.store
        key = store.key_of(old)
        if key is not None:
            new_key: str | None = store.insert_after(key, new)
        else:  # the original was deleted meanwhile: the replay goes last
            store.add([new])
            new_key = store.key_of(new)
        self.ft.session.note_change()
        if new_key is not None:
            self.flow_list.select_flow(new_key)
        answers = sum(1 for m in new.messages if not m.from_client)
        if new.error is not None:
            self.say(f"Replay: {new.error.msg}", "error")
        else:
            self.say(f"Replayed: the server answered with {plural(answers, 'message')}.")

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

    def _active_side(self) -> DetailPane | None:
        detail = self.query_one("#detail", TabbedContent)
        if detail.active == "tab-request":
            return self.query_one("#request", DetailPane)
        if detail.active == "tab-response":
            return self.query_one("#response", DetailPane)
        return None

    def action_cycle_body_view(self) -> None:
        """Cycle the content view of the body shown (the Request or Response tab)."""
        pane = self._active_side()
        if pane is None:
            detail = self.query_one("#detail", TabbedContent)
            detail.active = "tab-response"
            pane = self.query_one("#response", DetailPane)
        flow = pane.flow
        if not isinstance(flow, HTTPFlow):
            self.say("Content views apply to HTTP bodies.", "warning")
            return
        self.say(f"Body view: {pane.cycle_view()}")

    def _export_targets(self) -> list[Flow]:
        """The marked flows (in order) when any are marked, else the focused one."""
        store = self.ft.store
        if store.marked_count:
            keys = [k for k in store.keys_in_order() if store.summary_of(k).marked]
            return [f for f in (store.get(k) for k in keys) if f is not None]
        flow = self._focused_flow()
        return [] if flow is None else [flow]

    def action_export_flows(self, fmt: str) -> None:
        """Ask for `FORMAT PATH` (the format prefilled when the command names one) and
        write the export of the marked flows, or of the focused one, there."""
        flows = self._export_targets()
        if not flows:
            return
        names = formats()
        if not fmt:
            fmt = next((f for f in names if any(export_applies(f, x) for x in flows)), "har")
        number = self.ft.store.number(self.ft.store.key_of(flows[0]) or flows[0].id)
        stem = f"flows-{len(flows)}" if len(flows) > 1 else f"flow-{number}"
        what = plural(len(flows), "marked flow") if len(flows) > 1 else f"flow #{number}"

        def parse(text: str) -> tuple[str, Path] | str:
            name, _, path = text.strip().partition(" ")
            if name not in names:
                return f"{name or 'nothing'}: not a format ({', '.join(names)})"
            if not any(export_applies(name, x) for x in flows):
                return f"{name} does not apply to {what} ({describe(name).needs})"
            if not path.strip():
                return "no path: FORMAT PATH"
            return name, Path(path.strip()).expanduser()

        def check(text: str) -> str | None:
            parsed = parse(text)
            return parsed if isinstance(parsed, str) else None

        def done(text: str | None) -> None:
            parsed = parse(text) if text else None
            if parsed is None or isinstance(parsed, str):
                return
            name, path = parsed
            try:
                data = export_flows(flows, name)
                path.write_bytes(data)
            except (ExportError, OSError) as exc:
                self.say(f"Export failed: {exc}", "error")
                return
            self.say(f"Exported {what} as {name} to {path} ({data and len(data):,} bytes).")

        hint = f"FORMAT PATH · formats: {' '.join(names)} · escape cancels"
        value = f"{fmt} {stem}{export_suffix(fmt)}"
        self.app.push_screen(InputDialog(f"Export {what}", value, hint=hint, check=check), done)

    def action_save_body(self) -> None:
        """Save the body of the side shown (the response unless the Request tab is
        showing), decoded when its content encoding can be undone, to a file."""
        flow = self._focused_flow()
        if flow is None:
            return
        if not isinstance(flow, HTTPFlow):
            self.say("Only HTTP flows have bodies to save.", "warning")
            return
        pane = self._active_side()
        side = pane.side if pane is not None else "response"
        message = flow.request if side == "request" else flow.response
        if message is None or message.raw_content is None:
            self.say(f"The {side} has no body.", "warning")
            return
        body = message.get_content(strict=False) or b""
        number = self.ft.store.number(self.ft.store.key_of(flow) or flow.id)

        def check(text: str) -> str | None:
            if not text.strip():
                return "no path: escape cancels"
            parent = Path(text.strip()).expanduser().parent
            return None if parent.is_dir() else f"{parent}: no such directory"

        def done(text: str | None) -> None:
            if not text:
                return
            path = Path(text.strip()).expanduser()
            try:
                path.write_bytes(body)
            except OSError as exc:
                self.say(f"Saving the body failed: {exc}", "error")
                return
            self.say(f"Saved the {side} body ({len(body):,} bytes) to {path}.")

        self.app.push_screen(
            InputDialog(
                f"Save the {side} body of flow #{number}",
                f"flow-{number}-{side}.bin",
                check=check,
                placeholder="path",
            ),
            done,
        )
