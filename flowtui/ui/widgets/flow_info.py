"""A few lines above the detail tabs: the flow's number, type, mark, comment and error.

Comments, errors and metadata are captured or user text, so everything is cleaned and
rendered as `Text`.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from flowtui.core import Flow, UnknownFlow
from flowtui.core.store import FlowStore
from flowtui.live.budget import cut_note
from flowtui.ui.safe_text import clean
from flowtui.ui.widgets.flow_columns import state_signs

__all__ = ["FlowInfo"]


class FlowInfo(Static):
    """Summary of the focused flow's annotations."""

    DEFAULT_CSS = """
    FlowInfo { height: auto; max-height: 4; padding: 0 1; background: $boost; }
    """

    def __init__(self, store: FlowStore, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self._text: Text | None = None
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

    def describe(self, flow: Flow | None) -> Text:
        """The widget's content for `flow`."""
        key = self.store.key_of(flow) if flow is not None else None
        if flow is None or key is None:
            return Text("No flow selected.", style="dim")
        s = self.store.summary(flow)
        text = Text(no_wrap=False, overflow="fold")
        text.append(f"#{self.store.number(key)} ", style="bold")
        text.append(f"{s.type}  ", style="bold")
        text.append(clean(f"{s.client} → {s.server}"))
        signs = state_signs(s)
        if signs:
            text.append(f"  {signs}")
        if s.marked:
            text.append("  mark ", style="yellow")
            text.append(clean(s.marked, max_len=40), style="yellow")
        if flow.intercepted:
            text.append("  intercepted (a resumes)", style="bold yellow")
        if s.modified:
            text.append("  modified (V reverts)", style="italic")
        if isinstance(flow, UnknownFlow):
            text.append("\nread-only: ", style="bold")
            text.append(clean(f"unreadable {flow.raw_type} record: {flow.reason}", 200))
        elif flow.error is not None:
            text.append("\nerror: ", style="bold red")
            text.append(clean(flow.error.msg, max_len=300), style="red")
        cut = cut_note(flow)  # attached: content past `flowtui attach --max-memory`
        if cut is not None:
            text.append(f"\n{cut}", style="bold yellow")
        if flow.comment:
            text.append("\ncomment: ", style="bold")
            text.append(clean(flow.comment, max_len=300), style="italic")
        if flow.metadata:
            keys = ", ".join(clean(str(k), 30) for k in list(flow.metadata)[:8])
            text.append(f"\nmetadata: {keys}", style="dim")
        return text
