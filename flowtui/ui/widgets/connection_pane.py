"""The connection pane: flow facts on top, client and server side by side below.

Unlike mitmproxy's console, which shows only the first certificate and no server TLS
details, it shows both sides' TLS and the whole certificate list of each. The content
is built by `conn_format` as Rich `Text` from sanitised strings, so nothing from a
capture is ever parsed as markup. Below ~100 columns the two sides stack vertically.

A Line-API scroll view over pre-rendered lines, not a tree of widgets: a flow with a
certificate chain is much taller than one without, and growing widgets re-lays out the
whole screen (20–30 ms on every cursor rest that changes the height); here a new flow
only replaces the lines and moves the scrollbar.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from flowtui.core import Flow
from flowtui.core.messages import MessageFlow
from flowtui.ui.safe_text import SafeText
from flowtui.ui.widgets.conn_format import connection_text, flow_text, use_theme
from flowtui.ui.widgets.virtual_size import set_virtual_size

__all__ = ["GAP", "NARROW_WIDTH", "ConnectionPane"]

NARROW_WIDTH = 100
"""Below this width the client and server columns are stacked."""
GAP = 2
"""Columns between the client and the server side."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ConnectionPane(ScrollView, can_focus=True):
    """Everything known about the focused flow's connections and certificates."""

    DEFAULT_CSS = """
    ConnectionPane {
        border: round $foreground 30%;
        border-title-color: $text;
        overflow-y: scroll;  /* a scrollbar coming or going would re-lay out the screen */
        &:focus { border: round $accent; }
    }
    """

    def __init__(
        self,
        *,
        now: Callable[[], datetime] | None = None,
        tz: tzinfo | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._now = now or _utc_now
        """Returns the time certificates are checked against (injected in tests)."""
        self._tz = tz
        """The zone timestamps are shown in; None means the local zone."""
        self._flow: Flow | None = None
        self._signature: tuple[object, ...] | None = None
        self._theme: str | None = None
        self._rendered_widths = (0, 0)
        self._sections: dict[str, SafeText] = {}
        self._lines: list[Strip] = []
        self._deferred = False
        self.border_title = "Connection"

    @property
    def flow(self) -> Flow | None:
        """The flow shown, or None."""
        return self._flow

    @property
    def sections(self) -> dict[str, SafeText]:
        """The texts shown: `flow`, and for a flow its `client` and `server` sides."""
        return dict(self._sections)

    @property
    def stacked(self) -> bool:
        """True when the pane is too narrow for the two sides next to each other."""
        return self.size.width < NARROW_WIDTH

    @property
    def lines(self) -> list[Strip]:
        """Every line of the pane, scrolled out of view or not."""
        return list(self._lines)

    def on_mount(self) -> None:
        self._render_flow()

    def on_resize(self, event: events.Resize) -> None:
        """Re-wrap for the new width (and stack the sides when narrow)."""
        if self._widths() != self._rendered_widths:
            self._render_flow()

    def _widths(self) -> tuple[int, int]:
        """(flow section width, width of each side) for the current size."""
        width = self.scrollable_content_region.width or NARROW_WIDTH
        side = width if self.stacked else (width - GAP) // 2
        return width, side

    def show_flow(self, flow: Flow | None) -> None:
        """Show `flow` (None: the empty state); does nothing when nothing visible changed."""
        signature = _signature(flow)
        if flow is self._flow and signature == self._signature:
            return
        self._flow, self._signature = flow, signature
        if not self.is_mounted:
            return
        if all(node.display for node in self.ancestors_with_self if isinstance(node, Widget)):
            self._render_flow()
        else:
            self._deferred = True  # behind the Messages tab: drawn when it is shown

    def on_show(self) -> None:
        """Draw the flow that arrived while the pane was hidden."""
        if self._deferred:
            self._deferred = False
            self._render_flow()

    def notify_style_update(self) -> None:
        """Another theme: draw again in its colours."""
        super().notify_style_update()
        if self.is_mounted and self._theme is not None and self._theme != self.app.theme:
            self._render_flow()

    def _render_flow(self) -> None:
        self._theme = self.app.theme
        use_theme(self.app.get_css_variables())
        flow = self._flow
        width, side = self._rendered_widths = self._widths()
        sections = {"flow": flow_text(flow, tz=self._tz, width=width)}
        lines = self._lines_of(sections["flow"], width)
        if flow is not None:
            now = self._now()
            t0 = flow.client_conn.timestamp_start
            for name, conn in (("client", flow.client_conn), ("server", flow.server_conn)):
                sections[name] = connection_text(conn, t0=t0, now=now, tz=self._tz, width=side)
            client = self._lines_of(sections["client"], side)
            server = self._lines_of(sections["server"], side)
            blank = Strip.blank(width)
            if self.stacked:
                lines += [blank, *client, blank, *server]
            else:
                lines.append(blank)
                gap = Segment(" " * GAP)
                for i in range(max(len(client), len(server))):
                    left = client[i] if i < len(client) else Strip.blank(side)
                    right = server[i] if i < len(server) else Strip.blank(side)
                    lines.append(Strip([*left, gap, *right], side * 2 + GAP))
        self._sections, self._lines = sections, lines
        set_virtual_size(self, Size(width, len(lines)))
        self.refresh()

    def _lines_of(self, text: SafeText, width: int) -> list[Strip]:
        """`text` as lines exactly `width` cells wide (wrapped, or cropped if no_wrap)."""
        width = max(width, 1)
        console = self.app.console
        options = console.options.update_width(width)
        return [
            Strip(line, width)
            for line in console.render_lines(text, options, pad=True, new_lines=False)
        ]

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        return self._lines[index].apply_style(base).crop_extend(scroll_x, scroll_x + width, base)


def _signature(flow: Flow | None) -> tuple[object, ...]:
    """The cheap facts whose change means the pane must be redrawn."""
    if flow is None:
        return ()
    return (
        flow.id,
        flow.marked,
        flow.comment,
        flow.intercepted,
        flow.live,
        flow.error.msg if flow.error else None,
        len(flow.metadata),
        len(flow.messages) if isinstance(flow, MessageFlow) else -1,
        flow.client_conn.timestamp_end,
        flow.server_conn.timestamp_end,
        flow.server_conn.error,
        len(flow.server_conn.certificate_list),
    )
