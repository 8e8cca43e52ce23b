"""The main screen: flow list on top, the focused flow's details below, status and keys.

Each flow binding calls the model's own method (`intercept()`, `resume()`, `kill()`,
`revert()`, `copy()` ...) after taking a `backup()`, tells the store (which redraws
the row) and counts an unsaved change. Unreadable records are refused with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, TabbedContent, TabPane
from textual.worker import get_current_worker

from flowtui.core import ControlException, Flow, UnknownFlow
from flowtui.ui.bindings import FLOW_BINDINGS, VIEW_BINDINGS
from flowtui.ui.safe_text import clean, notify
from flowtui.ui.screens.dialogs import CommentDialog, FilterDialog
from flowtui.ui.screens.help import HelpScreen
from flowtui.ui.view_filter import FilterProblem, compile_filter
from flowtui.ui.widgets.connection_pane import ConnectionPane
from flowtui.ui.widgets.flow_info import FlowInfo
from flowtui.ui.widgets.flow_list import FlowList
from flowtui.ui.widgets.message_view import MessageView
from flowtui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from flowtui.ui.app import FlowtuiApp

__all__ = ["LARGE_RECORD", "PREVIEW_AT_ONCE", "MainScreen"]

LARGE_RECORD = 1 << 20
"""Records of at least this many bytes are decoded in a worker thread when the cursor
rests on them (about 10–20 ms of decoding per MB: smaller ones are read at once); a TCP
or UDP flow shows its first messages meanwhile (`FlowStore.preview`)."""
PREVIEW_AT_ONCE = 8 << 20
"""Records up to this many bytes are previewed on the UI thread: a preview reads the
first MB of a record, or all of one laid out otherwise (8 MB: about 10 ms); bigger ones
are previewed by the decoding worker, first."""


class MainScreen(Screen[None]):
    """Flows, details, status bar and footer."""

    BINDINGS: ClassVar[list[BindingType]] = [*FLOW_BINDINGS, *VIEW_BINDINGS]

    def __init__(self) -> None:
        super().__init__()
        self._detail_timer: Timer | None = None
        self._pending_id: str | None = None
        self._decoding_id: str | None = None
        self._shown_id: str | None = None
        self._shown: Flow | None = None

    @property
    def ft(self) -> FlowtuiApp:
        """The app, typed."""
        return cast("FlowtuiApp", self.app)

    def compose(self) -> ComposeResult:
        app = self.ft
        yield FlowList(app.store, tz=app.tz, follow=app.attachment is not None, id="flows")
        with TabbedContent(id="detail"):
            with TabPane("Messages", id="tab-messages"):
                yield MessageView(id="messages")
            with TabPane("Connection", id="tab-connection"):
                yield ConnectionPane(id="connection", now=app.now, tz=app.tz)
        yield FlowInfo(app.store, id="flow-info")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
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
            files=tuple(app.file_names),
            total=len(store),
            shown=len(store.view),
            marked=store.marked_count,
            modified=store.modified_count,
            unsaved=app.changes > 0,
            filter=app.filter_text,
        )

    def say(self, message: str, severity: str = "information") -> None:
        """A notification; the text is cleaned and never parsed as markup."""
        notify(self.app, clean(message, max_len=500), severity=severity)  # type: ignore[arg-type]

    def _focused_flow(self) -> Flow | None:
        flow = self.flow_list.flow
        if flow is None:
            self.say("No flow selected.", "warning")
        return flow

    def _change(self, action: str, apply: Callable[[Flow], None]) -> None:
        """Back up the focused flow, apply a change to it and announce it."""
        flow = self._focused_flow()
        if flow is None:
            return
        if isinstance(flow, UnknownFlow):
            self.say(f"Cannot {action}: unreadable records are kept read-only.", "warning")
            return
        flow.backup()
        apply(flow)
        self.ft.note_change()
        self.ft.store.update(flow)

    def _remote(self, kind: str, **args: object) -> bool:
        """In attach mode, send `kind` for the focused flow to the proxy and return True.

        The proxy's answer (a ``flows/update``) is what changes the row; a refusal is
        shown by the app. In file mode return False: the caller changes the flow itself.
        """
        if self.ft.attachment is None:
            return False
        flow = self._focused_flow()
        if flow is not None:
            self.ft.live_command(kind, id=flow.id, **args)
        return True

    # -- detail following the cursor -------------------------------------------------------

    def on_flow_list_highlighted(self, message: FlowList.Highlighted) -> None:
        """The detail panes follow a cursor that was at rest at once (one key, or the
        first of a burst), then not before it rests again for `detail_delay` seconds:
        holding a key costs only the list's changed lines, and the flows passed over
        are not even decoded."""
        self._pending_id = message.flow_id
        delay = self.ft.detail_delay
        if delay <= 0:
            self._show_detail()
            return
        if self._detail_timer is None:
            self._show_detail()
        else:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(delay, self._trailing_detail)

    def _trailing_detail(self) -> None:
        self._detail_timer = None
        if self._pending_id != self._shown_id:
            self._show_detail()

    def _show_detail(self) -> None:
        flow_id = self._pending_id
        store = self.ft.store
        size = store.record_size(flow_id) if flow_id is not None else 0
        if flow_id is not None and size >= LARGE_RECORD:
            decoding = flow_id == self._decoding_id  # the panes follow when it is decoded
            if decoding and (self._shown_id == flow_id or size > PREVIEW_AT_ONCE):
                return
            self._decoding_id = flow_id
            if size > PREVIEW_AT_ONCE:
                self._decode_in_background(flow_id, preview=True)
                return
            preview = store.preview(flow_id)
            if preview is not None:  # its first messages at once (again, if back to it)
                self._show(preview, pending=store.summary_of(flow_id).messages)
            if decoding:
                return
            # The whole once the preview's frame is painted (the decoding thread would
            # hold the interpreter while it is).
            if preview is None:
                self._decode_in_background(flow_id)
            else:
                self.call_after_refresh(self._decode_after_preview, flow_id)
            return
        flow = store.get(flow_id) if flow_id is not None else None
        self._show(flow)

    def _show(self, flow: Flow | None, pending: int | None = None) -> None:
        """Hand `flow` to the panes (a preview when `pending` is its message count)."""
        same = flow is not None and flow is self._shown and flow.id == self._shown_id
        messages = self.query_one(MessageView)
        if same:
            messages.refresh_flow()
        else:
            messages.show_flow(flow, pending=pending)
        self.query_one(ConnectionPane).show_flow(flow)
        self.query_one(FlowInfo).show_flow(flow)
        self._shown, self._shown_id = flow, flow.id if flow else None
        self.refresh_status()

    def _decode_after_preview(self, flow_id: str) -> None:
        if self._decoding_id != flow_id:
            return  # another big flow is being decoded
        if self._pending_id != flow_id:
            self._decoding_id = None  # left before it started: decoded on a next visit
            return
        self._decode_in_background(flow_id)

    @work(thread=True, exclusive=True, group="detail-decode", exit_on_error=False)
    def _decode_in_background(self, flow_id: str, preview: bool = False) -> None:
        """Decode a big record off the UI thread (a 100 MB flow takes seconds), so keys
        are answered meanwhile, its preview first if asked; a newer one cancels waiting
        for this one."""
        worker = get_current_worker()
        store = self.ft.store
        first = store.preview(flow_id) if preview else None
        if first is not None and not worker.is_cancelled:
            self.app.call_from_thread(self._previewed, flow_id, first)
        flow = store.decode(flow_id)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._decoded, flow_id, flow)

    def _previewed(self, flow_id: str, flow: Flow) -> None:
        store = self.ft.store
        if self._pending_id != flow_id or self._decoding_id != flow_id:
            return  # the cursor moved on
        if store.loaded(flow_id) is None:  # else a change decoded the whole meanwhile
            self._show(flow, pending=store.summary_of(flow_id).messages)

    def _decoded(self, flow_id: str, flow: Flow) -> None:
        if self._decoding_id == flow_id:
            self._decoding_id = None
        self.ft.store.remember(flow_id, flow)
        if self._pending_id == flow_id:
            self._show_detail()  # in memory now: shown at once

    # -- flow actions (see bindings.FLOW_BINDINGS) ---------------------------------------------

    def action_mark(self) -> None:
        flow = self.flow_list.flow
        if self._remote("mark", marked="" if flow is not None and flow.marked else ":default:"):
            return

        def toggle(flow: Flow) -> None:
            flow.marked = "" if flow.marked else ":default:"

        self._change("mark", toggle)

    def action_comment(self) -> None:
        flow = self._focused_flow()
        if flow is None:
            return
        if isinstance(flow, UnknownFlow):
            self.say("Cannot comment: unreadable records are kept read-only.", "warning")
            return
        store = self.ft.store
        key = store.key_of(flow)
        if key is None:
            return
        number = store.number(key)

        def done(text: str | None) -> None:
            if text is None or text == flow.comment or store.key_of(flow) is None:
                return
            if self.ft.attachment is not None:
                self.ft.live_command("comment", id=flow.id, comment=text)
                return
            flow.backup()
            flow.comment = text
            self.ft.note_change()
            self.ft.store.update(flow)

        self.app.push_screen(CommentDialog(flow.comment, f"Comment on flow #{number}"), done)

    def action_intercept(self) -> None:
        if self._remote("intercept"):
            return
        self._change("intercept", lambda flow: flow.intercept())

    def action_resume(self) -> None:
        flow = self.flow_list.flow
        if flow is not None and not flow.intercepted:
            self.say("This flow is not intercepted.")
            return
        if self._remote("resume"):
            return
        self._change("resume", lambda flow: flow.resume())

    def action_resume_all(self) -> None:
        if self.ft.attachment is not None:
            self.ft.live_command("resume_all")
            return
        store = self.ft.store
        paused = [f for f in store if f.intercepted and not isinstance(f, UnknownFlow)]
        for flow in paused:
            flow.backup()
            flow.resume()
            store.update(flow)
        if paused:
            self.ft.note_change()
        self.say(f"Resumed {len(paused)} intercepted flow{'s' if len(paused) != 1 else ''}.")

    def action_kill(self) -> None:
        flow = self._focused_flow()
        if flow is None:
            return
        if isinstance(flow, UnknownFlow):
            self.say("Cannot kill: unreadable records are kept read-only.", "warning")
            return
        if self._remote("kill"):
            return
        if not flow.killable:
            killed = flow.error is not None and flow.error.msg == "Connection killed."
            why = (
                "already killed" if killed else "not live: flows loaded from a file can't be killed"
            )
            self.say(f"Cannot kill this flow: {why}.", "warning")
            return
        flow.backup()
        try:
            flow.kill()
        except ControlException as e:
            self.say(f"Cannot kill this flow: {e}", "warning")
            return
        self.ft.note_change()
        self.ft.store.update(flow)

    def action_revert(self) -> None:
        flow = self._focused_flow()
        if flow is None:
            return
        if not flow.modified():
            self.say("Nothing to revert: this flow has no changes.")
            return
        flow.revert()
        self.ft.note_change()
        self.ft.store.update(flow)

    def action_delete(self) -> None:
        flow = self._focused_flow()
        if flow is None:
            return
        self.ft.delete_flow(flow)

    def action_undelete(self) -> None:
        key = self.ft.undelete_flow()
        if key is None:
            self.say("Nothing to undelete.")
        else:
            self.flow_list.select_flow(key)

    def action_duplicate(self) -> None:
        flow = self._focused_flow()
        if flow is None:
            return
        if isinstance(flow, UnknownFlow):
            self.say("Cannot duplicate: unreadable records are kept read-only.", "warning")
            return
        key = self.ft.store.key_of(flow)
        if key is None:
            return
        dup = flow.copy()
        dup.backup()
        self.ft.note_change()
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
            flows.action_last()
        self.say(f"Follow {'on: the newest flow stays in view' if flows.follow else 'off'}.")
        self.refresh_status()

    def action_save(self) -> None:
        self.ft.ask_save()

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
        self.app.push_screen(HelpScreen())
