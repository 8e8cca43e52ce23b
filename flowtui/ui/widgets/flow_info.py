"""A few lines above the detail tabs: the flow's number, type, mark, comment and error.

Every field here (the stored summary's type and addresses too) is captured or user
text: the widget's content is a `SafeText`, which takes only cleaned parts.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Static

from flowtui.core import Flow, UnknownFlow
from flowtui.live.budget import cut_note
from flowtui.live.held import HELD_KEY, held_entries
from flowtui.live.notes import detached_reason, incomplete_note
from flowtui.live.recording import is_fetchable
from flowtui.store import FlowStore
from flowtui.ui.safe_text import SafeText, clean, concat, join, number
from flowtui.ui.widgets.flow_columns import state_signs

__all__ = ["FlowInfo"]


class FlowInfo(Static):
    """Summary of the focused flow's annotations."""

    DEFAULT_CSS = """
    FlowInfo { height: auto; max-height: 4; padding: 0 1; background: $boost; }
    """

    def __init__(
        self,
        store: FlowStore,
        *,
        id: str | None = None,
        recording: Callable[[], str | None] = lambda: None,
    ) -> None:
        super().__init__(id=id)
        self.store = store
        self.recording = recording
        """The live proxy's ``-w`` recording, if it has one (then an incomplete or cut
        finished flow says that `R` fetches it)."""
        self._text: SafeText | None = None
        self._lines = (0, 0)
        """(lines, width) of the text shown: its height at that width."""

    def show_flow(self, flow: Flow | None) -> None:
        """Show `flow`'s annotations (or a hint when there is none).

        Unchanged text is not redrawn, and the screen is re-laid out only when the
        number of lines changes (a layout pass costs tens of milliseconds).
        """
        text, old = self.describe(flow), self._text
        if old is not None and text.markup == old.markup:
            return
        width = max(self.content_region.width or self.app.size.width, 1)
        lines = len(text.wrap(self.app.console, width))
        layout = old is None or (lines, width) != self._lines
        self._text, self._lines = text, (lines, width)
        self.update(text, layout=layout)

    def describe(self, flow: Flow | None) -> SafeText:
        """The widget's content for `flow`."""
        key = self.store.key_of(flow) if flow is not None else None
        if flow is None or key is None:
            return SafeText(clean("No flow selected."), style="dim")
        s = self.store.summary(flow)
        text = SafeText(no_wrap=False, overflow="fold")
        number_ = concat(clean("#"), number(self.store.number(key)), clean(" "))
        text.append(number_, style="bold")
        text.append(concat(clean(s.type, max_len=20), clean("  ")), style="bold")
        text.append(clean(f"{s.client} → {s.server}", max_len=500))
        signs = state_signs(s)
        if signs:
            text.append(clean("  ")).append(signs)
        if s.marked:
            text.append(clean("  mark "), style="yellow")
            text.append(clean(s.marked, max_len=40), style="yellow")
        if flow.intercepted:
            held = len(held_entries(flow))  # attached: the messages the proxy holds
            if held:
                held_note = f"  intercepted: {held} message{'s' if held != 1 else ''} held"
                text.append(clean(held_note + " (E edit · x drop · a sends)"), style="bold yellow")
            else:
                text.append(clean("  intercepted (a resumes)"), style="bold yellow")
        if s.modified:
            text.append(clean("  modified (V reverts)"), style="italic")
        if isinstance(flow, UnknownFlow):
            text.newline().append(clean("read-only: "), style="bold")
            text.append(clean(f"unreadable {flow.raw_type} record: {flow.reason}", 200))
        elif flow.error is not None:
            text.newline().append(clean("error: "), style="bold red")
            text.append(clean(flow.error.msg, max_len=300), style="red")
        cut = cut_note(flow)  # attached: content past `flowtui attach --max-memory`
        if cut is not None:
            text.newline().append(clean(cut), style="bold yellow")
        for note in (detached_reason(flow), incomplete_note(flow)):  # attached: see live.notes
            if note is not None:
                text.newline().append(clean(note, max_len=500), style="bold yellow")
        if is_fetchable(flow) and self.recording():
            text.append(clean(" (R fetches it)"), style="bold yellow")
        if flow.comment:
            text.newline().append(clean("comment: "), style="bold")
            text.append(clean(flow.comment, max_len=300), style="italic")
        shown_keys = [k for k in flow.metadata if k != HELD_KEY]  # (told above)
        if shown_keys:
            keys = join(clean(", "), (clean(str(k), 30) for k in shown_keys[:8]))
            text.newline().append(clean("metadata: "), style="dim").append(keys, style="dim")
        return text
