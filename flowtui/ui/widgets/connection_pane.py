"""The connection pane: flow facts on top, client and server side by side below.

Unlike mitmproxy's console, which shows only the first certificate and no server TLS
details, it shows both sides' TLS and the whole certificate list of each. The content
is built by `conn_format` as Rich `Text` from sanitised strings, so nothing from a
capture is ever parsed as markup. Below ~100 columns the two sides stack vertically.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from flowtui.core import Flow
from flowtui.core.messages import MessageFlow
from flowtui.ui.widgets.conn_format import connection_text, flow_text

__all__ = ["NARROW_WIDTH", "ConnectionPane"]

NARROW_WIDTH = 100
"""Below this width the client and server columns are stacked."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ConnectionPane(VerticalScroll):
    """Everything known about the focused flow's connections and certificates."""

    DEFAULT_CSS = """
    ConnectionPane {
        border: round $foreground 30%;
        border-title-color: $text;
        &:focus { border: round $accent; }
        #conn-flow { height: auto; margin-bottom: 1; }
        #conn-sides { height: auto; }
        .conn-side { width: 1fr; height: auto; }
        #conn-client { margin-right: 2; }
        &.-narrow #conn-sides { layout: vertical; }
        &.-narrow #conn-client { margin-right: 0; margin-bottom: 1; }
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
        self._rendered_widths = (0, 0)
        self._lines: dict[str, int] = {}
        self._deferred = False
        self.border_title = "Connection"

    @property
    def flow(self) -> Flow | None:
        """The flow shown, or None."""
        return self._flow

    def compose(self) -> ComposeResult:
        yield Static(id="conn-flow")
        with Horizontal(id="conn-sides"):
            yield Static(id="conn-client", classes="conn-side")
            yield Static(id="conn-server", classes="conn-side")

    def on_mount(self) -> None:
        self._render_flow()

    def on_resize(self, event: events.Resize) -> None:
        """Stack the two sides when the pane is narrow, and re-wrap for the new width."""
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")
        if self._widths() != self._rendered_widths:
            self._render_flow()

    def _widths(self) -> tuple[int, int]:
        """(flow section width, width of each side) for the current size."""
        width = self.scrollable_content_region.width or NARROW_WIDTH
        side = width if width < NARROW_WIDTH else (width - 2) // 2
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
            self._render_flow(relayout=False)
        else:
            # Behind the Messages tab: draw it when it is shown, not on every cursor rest
            # (each draw can cost a screen layout).
            self._deferred = True

    def on_show(self) -> None:
        """Draw the flow that arrived while the pane was hidden."""
        if self._deferred:
            self._deferred = False
            self._render_flow()
            # A scrollbar may come or go with the new content: re-wrap to what is left.
            self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        if self._widths() != self._rendered_widths:
            self._render_flow()

    def _set(self, selector: str, text: Text, width: int, relayout: bool) -> None:
        """Update one section; re-lay out the screen only when its height changes (a
        layout pass costs tens of milliseconds, once per cursor rest)."""
        # `conn_format` wraps its own lines and the Text never wraps (no_wrap, crop):
        # its height is its line count, no need to lay it out to find out.
        lines = (
            text.plain.count("\n") + 1
            if text.no_wrap
            else len(text.wrap(self.app.console, max(width, 1)))
        )
        layout = relayout or self._lines.get(selector) != lines
        self._lines[selector] = lines
        self.query_one(selector, Static).update(text, layout=layout)

    def _render_flow(self, relayout: bool = True) -> None:
        flow = self._flow
        width, side = self._rendered_widths = self._widths()
        self._set("#conn-flow", flow_text(flow, tz=self._tz, width=width), width, relayout)
        sides = self.query_one("#conn-sides")
        sides.display = flow is not None
        if flow is None:
            return
        now = self._now()
        t0 = flow.client_conn.timestamp_start
        client = connection_text(flow.client_conn, t0=t0, now=now, tz=self._tz, width=side)
        server = connection_text(flow.server_conn, t0=t0, now=now, tz=self._tz, width=side)
        self._set("#conn-client", client, side, relayout)
        self._set("#conn-server", server, side, relayout)


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
