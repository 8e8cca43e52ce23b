"""The flow list: a Line-API `ScrollView` over the store's filtered view.

`DataTable` measures every cell of every row and froze for ~13 s at 100k rows
(TOOLKIT.md §4); this widget formats only the visible rows, caches each row's strip by
(flow id, revision, number, width, cursor) and refreshes one line when one flow changes.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from flowtui.core import Flow
from flowtui.store import FlowStore, FlowSummary, StoreEvent
from flowtui.ui.commands import bindings
from flowtui.ui.messages import StoreChanged
from flowtui.ui.safe_text import clean, join
from flowtui.ui.widgets.flow_columns import fit, layout
from flowtui.ui.widgets.virtual_size import set_virtual_size

__all__ = ["FlowList"]

_CACHE_LIMIT = 2000


class FlowList(ScrollView, can_focus=True):
    """Shows the store's view, one flow per line, under a header row."""

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("flow_list")]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "flowlist--header",
        "flowlist--cursor",
        "flowlist--cursor-blurred",
        "flowlist--marked",
        "flowlist--error",
        "flowlist--killed",
        "flowlist--intercepted",
        "flowlist--modified",
        "flowlist--readonly",
        "flowlist--status-1xx",
        "flowlist--status-2xx",
        "flowlist--status-3xx",
        "flowlist--status-4xx",
        "flowlist--status-5xx",
    }

    DEFAULT_CSS = """
    FlowList { height: 1fr; overflow-x: hidden; }
    FlowList > .flowlist--header { text-style: bold; background: $panel; }
    FlowList > .flowlist--cursor { background: $block-cursor-background; }
    FlowList > .flowlist--cursor-blurred { background: $block-cursor-blurred-background; }
    FlowList > .flowlist--marked { color: $warning; text-style: bold; }
    FlowList > .flowlist--error { color: $error; }
    FlowList > .flowlist--killed { color: $error; text-style: strike; }
    FlowList > .flowlist--intercepted { color: $warning; text-style: bold; }
    FlowList > .flowlist--modified { text-style: italic; }
    FlowList > .flowlist--readonly { color: $text-muted; }
    FlowList > .flowlist--status-1xx { color: $text-muted; }
    FlowList > .flowlist--status-2xx { color: $success; }
    FlowList > .flowlist--status-3xx { color: $accent; }
    FlowList > .flowlist--status-4xx { color: $warning; text-style: bold; }
    FlowList > .flowlist--status-5xx { color: $error; text-style: bold; }
    """

    class Highlighted(Message):
        """The cursor moved to another flow (or to none).

        It carries the flow's id: a lazy flow is decoded only when `flow` is read (the
        detail panes read it once the cursor rests, not on every move).
        """

        def __init__(self, flow_list: FlowList, flow_id: str | None) -> None:
            super().__init__()
            self.flow_list = flow_list
            self.flow_id = flow_id

        @property
        def flow(self) -> Flow | None:
            """The highlighted flow (decoded now if lazy), or None."""
            store = self.flow_list.store
            return store.get(self.flow_id) if self.flow_id is not None else None

        @property
        def control(self) -> FlowList:
            return self.flow_list

    def __init__(
        self,
        store: FlowStore,
        *,
        tz: tzinfo | None = None,
        follow: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        """The store whose view is listed."""
        self.tz = tz
        """The zone for the start-time column (local when None)."""
        self.follow = follow
        """Follow mode: new flows move the cursor to the newest (live captures)."""
        self.cursor: int = 0
        """The cursor's position in the view."""
        self._cursor_id: str | None = None
        self._cache: dict[tuple[object, ...], Strip] = {}
        self._shown = 0
        """How many flows the view showed when the list last took its size."""

    # -- store wiring ---------------------------------------------------------------------

    def on_mount(self) -> None:
        self.store.subscribe(self._store_callback)
        self._sync_size()
        self._set_cursor(self.cursor, force=True)

    def on_unmount(self) -> None:
        self.store.unsubscribe(self._store_callback)

    def _store_callback(self, event: StoreEvent) -> None:
        self.post_message(StoreChanged(event))

    def on_store_changed(self, message: StoreChanged) -> None:
        message.stop()
        event = message.event
        view = self.store.view
        shown = self._shown
        self._sync_size()
        if event.kind == "update" and self._cursor_id is not None:
            # Refresh just the changed rows (their revision changed, so the cache misses),
            # unless rows moved: an ordered view puts a changed flow at its new place,
            # and a flow shown or hidden moves the rows below it.
            keys = [self.store.key_of(flow) for flow in event.flows]  # ids may repeat
            if view.order is not None or len(view) != shown:
                self.refresh()
            else:
                for key in keys:
                    pos = view.position(key) if key is not None else None
                    if pos is not None:
                        self.refresh_line(pos + 1)
            pos = view.position(self._cursor_id)
            if pos is None:
                self._set_cursor(self.cursor, force=True)
            elif pos != self.cursor:
                self.cursor = pos  # the cursor stays on its flow wherever it went
                self._scroll_to_cursor()
            if self._cursor_id in keys:
                self.post_message(self.Highlighted(self, self._cursor_id))
            return
        if self.follow and event.kind in ("add", "reset"):
            # The newest flow shown, wherever the view's order puts it.
            self.show_newest()
            self.refresh()
            return
        # Keep the cursor on its flow; the detail panes hear only when that flow changes.
        pos = view.position(self._cursor_id) if self._cursor_id else None
        self._set_cursor(self.cursor if pos is None else pos)
        self.refresh()

    def _sync_size(self) -> None:
        self._shown = len(self.store.view)
        # While a capture is indexed (a batch every 0.25 s) or a proxy streams flows:
        # no screen layout for a longer list.
        set_virtual_size(self, Size(self.scrollable_content_region.width, len(self.store.view) + 1))

    # -- cursor ---------------------------------------------------------------------------

    @property
    def flow(self) -> Flow | None:
        """The flow under the cursor."""
        view = self.store.view
        return view[self.cursor] if 0 <= self.cursor < len(view) else None

    def select_flow(self, flow_id: str) -> None:
        """Move the cursor to a flow, if it is shown."""
        pos = self.store.view.position(flow_id)
        if pos is not None:
            self._set_cursor(pos)

    def _set_cursor(self, pos: int, *, force: bool = False) -> None:
        count = len(self.store.view)
        pos = max(0, min(pos, count - 1)) if count else 0
        old = self.cursor
        self.cursor = pos
        new_id = self.store.view.id_at(pos) if count else None  # never decodes
        changed = new_id != self._cursor_id
        self._cursor_id = new_id
        self.refresh_line(old + 1)
        self.refresh_line(pos + 1)
        self._scroll_to_cursor()
        if changed or force:
            self.post_message(self.Highlighted(self, new_id))

    def _scroll_to_cursor(self) -> None:
        rows = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self._set_cursor(self.cursor - max(self.scrollable_content_region.height - 2, 1))

    def action_page_down(self) -> None:
        self._set_cursor(self.cursor + max(self.scrollable_content_region.height - 2, 1))

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self.store.view) - 1)

    def show_newest(self) -> None:
        """Move the cursor to the newest flow shown, wherever the view's order puts it
        (what follow mode does as flows arrive)."""
        newest = self.store.view.newest_position()
        if newest is not None:
            self._set_cursor(newest)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._set_cursor(int(self.scroll_y) + event.y - 1)

    def on_resize(self) -> None:
        self._sync_size()
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self.refresh_line(self.cursor + 1)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor + 1)

    # -- rendering ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header(width)
        index = int(self.scroll_y) + y - 1
        view = self.store.view
        if index >= len(view):
            return Strip.blank(width, self.rich_style)
        flow_id = view.id_at(index)  # rows need summaries only: no flow is decoded here
        cursor = index == self.cursor
        key = (
            flow_id,
            self.store.revision(flow_id),
            self.store.number(flow_id),
            width,
            self.store.protocol_count > 0,
            cursor,
            cursor and self.has_focus,
        )
        strip = self._cache.get(key)
        if strip is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            strip = self._row(flow_id, width, cursor)
            self._cache[key] = strip
        return strip

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("flowlist--header")
        text = join(
            clean(" "),
            (fit(c.header, w, c.right) for c, w in layout(width, self.store.protocol_count > 0)),
        )
        return Strip([Segment(fit(text, width), style)], width)

    def _row_style(self, s: FlowSummary, cursor: bool) -> Style:
        style = self.rich_style
        for on, name in (
            (s.read_only, "flowlist--readonly"),
            (s.error, "flowlist--error"),
            (s.killed, "flowlist--killed"),
            (s.intercepted, "flowlist--intercepted"),
            (s.modified, "flowlist--modified"),
        ):
            if on:
                style += self.get_component_rich_style(name, partial=True)
        if cursor:
            name = "flowlist--cursor" if self.has_focus else "flowlist--cursor-blurred"
            style += self.get_component_rich_style(name, partial=True)
        return style

    def _row(self, flow_id: str, width: int, cursor: bool) -> Strip:
        s = self.store.summary_of(flow_id)
        number = self.store.number(flow_id)
        style = self._row_style(s, cursor)
        marked = style + self.get_component_rich_style("flowlist--marked", partial=True)
        gap = Segment(" ", style)
        segments: list[Segment] = []
        # Every cell is a `SafeStr` (flow_columns cleaned each captured field).
        for col, w in layout(width, self.store.protocol_count > 0):
            if segments:
                segments.append(gap)
            cell_style = marked if col.key == "state" and s.marked else style
            if col.style is not None:
                name = col.style(s)
                if name is not None:
                    cell_style = style + self.get_component_rich_style(name, partial=True)
            segments.append(Segment(fit(col.cell(s, number, self.tz), w, col.right), cell_style))
        return Strip(segments).adjust_cell_length(width, style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
