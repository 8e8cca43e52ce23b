"""The Request and Response panes: one side of an HTTP (or DNS) flow as lines, with its
body through the content views.

A Line-API `ScrollView`: the head (first line, headers, trailers, timings) is built at
once; the body's first screenfuls are rendered at once too (`render_lines` yields a big
JSON document's first lines before reading the rest), and the remaining lines are built
in a worker thread and appended in batches, so a 100 MB body shows its first lines in
the frame after the key. `b` (`detail.view`) cycles the content view; the pane's title
names the view shown and a decode error is shown with its reason above the hex dump.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from flowtui.core import DNSFlow, Flow, HTTPFlow
from flowtui.ui.contentviews import VIEW_NAMES, VIEW_TITLES, render_lines
from flowtui.ui.contentviews import Lines as ViewLines
from flowtui.ui.safe_text import SafeText, clean
from flowtui.ui.widgets.http_lines import Body, Side, body_of, detail_lines
from flowtui.ui.widgets.virtual_size import set_virtual_size

__all__ = ["FIRST_LINES", "MAX_BODY_LINES", "DetailPane"]

FIRST_LINES = 200
"""Body lines rendered on the UI thread when a flow is shown (a few screens)."""
BATCH = 4000
"""Body lines the worker hands over at a time."""
MAX_BODY_LINES = 200_000
"""Body lines built at most (the rest is not shown: save the body to read it all)."""
_CACHE_LIMIT = 400


class DetailPane(ScrollView, can_focus=True):
    """One side (request or response) of the shown flow."""

    DEFAULT_CSS = """
    DetailPane { height: 1fr; border: round $primary-darken-2; border-title-align: left; }
    DetailPane:focus { border: round $primary; }
    DetailPane > .detailpane--error { color: $error; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"detailpane--error"}

    def __init__(self, side: Side, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.side: Side = side
        self.flow: Flow | None = None
        self.preview = False
        """The flow shown is a preview of a big record (bodies may be cut)."""
        self.view = "auto"
        """The content view asked for (one of `VIEW_NAMES`)."""
        self.shown_view = "auto"
        """The view that made the body's lines (auto's choice)."""
        self.error: str | None = None
        self.head: list[SafeText] = []
        self.body: list[SafeText] = []
        self.body_complete = True
        """False while the worker still builds body lines."""
        self.dropped = 0
        """Body lines left out past `MAX_BODY_LINES` (-1: the rest was not even built)."""
        self.generation = 0
        self._max_width = 0
        self._cache: dict[tuple[int, int, int, int], Strip] = {}
        self._width = 0

    # -- showing --------------------------------------------------------------------------

    def show_flow(self, flow: Flow | None, *, preview: bool = False) -> None:
        """Show `flow`'s side (a new flow starts in the auto view)."""
        if flow is not None and self.flow is not None and flow.id != self.flow.id:
            self.view = "auto"
        if flow is self.flow and preview == self.preview and self.head:
            return
        same = flow is not None and self.flow is not None and flow.id == self.flow.id
        self.flow, self.preview = flow, preview
        self.rebuild()
        if not same:  # the whole after its preview keeps the reader's place
            self.scroll_to(0, 0, animate=False)

    def cycle_view(self) -> str:
        """The next content view for the body; returns its name."""
        self.view = VIEW_NAMES[(VIEW_NAMES.index(self.view) + 1) % len(VIEW_NAMES)]
        self.rebuild()
        return self.view

    def _message_body(self) -> Body | None:
        flow = self.flow
        if not isinstance(flow, HTTPFlow):
            return None
        message = flow.request if self.side == "request" else flow.response
        if message is None:
            return None
        return body_of(message, complete=not self.preview)

    def rebuild(self) -> None:
        """Build the head and the first body lines now; the rest in a worker."""
        self.generation += 1
        self._cache.clear()
        width = self._text_width()
        self._width = width
        self.head = detail_lines(self.flow, self.side, width)
        self.body, self.dropped, self.error = [], 0, None
        self.body_complete = True
        self.shown_view = self.view
        body = self._message_body()
        if body is not None:
            self._start_body(body, width)
        self._update_title()
        self._resize()
        self.refresh()

    def _start_body(self, body: Body, width: int) -> None:
        self.head.append(SafeText())
        if body.problem is not None:
            self.head.append(SafeText(body.problem, "italic"))
        if not body.data:
            self.head.append(SafeText(clean("Body: empty"), "bold underline"))
            return
        lines = render_lines(
            body.data,
            content_type=body.content_type,
            view=self.view,
            complete=body.complete,
            width=width,
        )
        self.shown_view = lines.view
        self.head.append(self._body_heading(body))
        first = self._take(lines, FIRST_LINES)
        self._add(first, lines)
        if len(first) == FIRST_LINES:
            self.body_complete = False
            generation = self.generation
            self.run_worker(
                lambda: self._build_rest(lines, generation),
                thread=True,
                exclusive=True,
                group=f"detail-body-{self.side}",
                exit_on_error=False,
            )

    def _body_heading(self, body: Body) -> SafeText:
        size = f"{body.size:,} byte" if body.size == 1 else f"{body.size:,} bytes"
        cut = "  (head of the body: the whole follows)" if not body.complete else ""
        view = VIEW_TITLES.get(self.shown_view, self.shown_view)
        return SafeText(clean(f"Body  {size}  ·  view: {view}{cut}"), "bold underline")

    @staticmethod
    def _take(lines: ViewLines, n: int) -> list[SafeText]:
        out: list[SafeText] = []
        for line in lines:
            out.append(line)
            if len(out) >= n:
                break
        return out

    def _add(self, batch: list[SafeText], lines: ViewLines) -> None:
        """Append body lines; when the view has failed, the failed view's lines go and
        the reason heads the hex dump that follows."""
        if lines.error is not None and self.error is None:
            self.error = str(lines.error)
            self.body = [SafeText(clean(f"⚠ {lines.view} view failed: {lines.error}"), "bold")]
            self.body[0].stylize(self.get_component_rich_style("detailpane--error"))
            self.body.append(SafeText(clean("shown as hex:")))
            self._update_title()
            hex_from = self._hex_start(batch)
            batch = batch[hex_from:]
        room = MAX_BODY_LINES - len(self.body)
        if room < len(batch):
            self.dropped += len(batch) - max(room, 0)
            batch = batch[: max(room, 0)]
        self.body.extend(batch)
        for line in batch:
            w = line.cell_len
            if w > self._max_width:
                self._max_width = w

    def _hex_start(self, batch: list[SafeText]) -> int:
        # Lines in a batch before the failure belong to the failed view: the hex dump's
        # lines start with an offset ("00000000").
        for i, line in enumerate(batch):
            if line.plain.startswith("0000"):
                return i
        return 0

    def _build_rest(self, lines: ViewLines, generation: int) -> None:
        worker = get_current_worker()
        while not worker.is_cancelled and generation == self.generation:
            batch = self._take(lines, BATCH)
            failed_now = lines.error is not None and self.error is None
            done = len(batch) < BATCH
            if batch or failed_now or done:
                self.app.call_from_thread(self._append, generation, batch, lines, done)
            if done:
                return
            if len(self.body) >= MAX_BODY_LINES:
                self.app.call_from_thread(self._count_dropped, generation, -1)
                return

    def _append(self, generation: int, batch: list[SafeText], lines: ViewLines, done: bool) -> None:
        if generation != self.generation:
            return
        self._add(batch, lines)
        if done:
            self.body_complete = True
            self._update_title()
        self._resize()
        self.refresh()

    def _count_dropped(self, generation: int, rest: int) -> None:
        if generation == self.generation:
            self.dropped = rest if rest < 0 else self.dropped + rest
            self.body_complete = True
            self._update_title()
            self._resize()
            self.refresh()

    # -- titles and size -------------------------------------------------------------------

    def _update_title(self) -> None:
        flow = self.flow
        name = "Request" if self.side == "request" else "Response"
        if isinstance(flow, DNSFlow):
            name = f"DNS {'query' if self.side == 'request' else 'response'}"
        title = name
        body = self._message_body()
        if isinstance(flow, HTTPFlow) and body is not None and body.data:
            view = self.shown_view if self.view == "auto" else self.view
            title += f" · view: {VIEW_TITLES.get(view, view)}"
            title += " (auto)" if self.view == "auto" else ""
            if self.error is not None:
                title += " · decode error: hex"
            if not self.body_complete:
                title += " · building…"
        self.border_title = SafeText(clean(title))
        self.border_subtitle = SafeText(clean("b: view") if isinstance(flow, HTTPFlow) else None)

    def _text_width(self) -> int:
        return max(20, (self.scrollable_content_region.width or 80) - 1)

    @property
    def line_count(self) -> int:
        return len(self.head) + len(self.body) + (1 if self.dropped else 0)

    def _resize(self) -> None:
        width = max(self._max_width, max((t.cell_len for t in self.head), default=0))
        set_virtual_size(self, Size(width, self.line_count))

    def on_resize(self, event: events.Resize) -> None:
        if self._text_width() != self._width and self.flow is not None:
            top = self.scroll_y
            self.rebuild()
            self.scroll_to(y=top, animate=False)

    # -- painting --------------------------------------------------------------------------

    def line_text(self, index: int) -> SafeText | None:
        """The text of line `index` (None past the end)."""
        head = self.head
        if index < len(head):
            return head[index]
        index -= len(head)
        if index < len(self.body):
            return self.body[index]
        if index == len(self.body) and self.dropped:
            more = "the rest" if self.dropped < 0 else f"{self.dropped:,} more lines"
            return SafeText(clean(f"… {more} not shown (W saves the body)"), "italic")
        return None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_y) + y
        x = int(self.scroll_x)
        key = (index, self.generation, width, x)
        strip = self._cache.get(key)
        if strip is not None:
            return strip
        text = self.line_text(index)
        if text is None:
            return Strip.blank(width, self.rich_style)
        segments = list(text.render(self.app.console))
        segments = [s for s in segments if s.text != "\n"]
        strip = Strip(segments).crop(x, x + width).adjust_cell_length(width)
        strip = strip.apply_style(self.rich_style)
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
