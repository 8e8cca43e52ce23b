"""The message document without Textual: rows, modes, direction, counts, search, previews,
live growth and freeing, seen through a plain in-memory window (`Window`), the smallest
real `Viewport`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flowtui.core import Client, Server, TCPFlow, TCPMessage
from flowtui.ui.message_document import GUTTER, MessageDocument, Viewport, reclaim
from flowtui.ui.safe_text import SafeStr
from flowtui.ui.widgets.message_rows import Kind, Row, build_rows

T0 = 1_700_000_000.0
ROOT = Path(__file__).resolve().parents[2]


class Window:
    """A viewport of `height` rows and `width` cells over the document: it scrolls as
    asked and counts repaints, as the widget does on screen."""

    def __init__(self, height: int = 20, width: int = 100) -> None:
        self.top = 0
        self.height = height
        self.width = width
        self.document: MessageDocument | None = None
        self.repaints = 0
        self.warnings: list[str] = []
        self.build_requests = 0

    @property
    def at_end(self) -> bool:
        assert self.document is not None
        return self.top >= max(0, len(self.document.rows) - self.height)

    def scroll_to(self, row: int) -> None:
        assert self.document is not None
        self.top = max(0, min(row, len(self.document.rows) - self.height))

    def scroll_to_start(self) -> None:
        self.top = 0

    def scroll_to_end(self) -> None:
        assert self.document is not None
        self.top = max(0, len(self.document.rows) - self.height)

    def changed(self) -> None:
        self.repaints += 1

    def build_later(self) -> None:
        self.build_requests += 1

    def warn(self, message: SafeStr) -> None:
        self.warnings.append(message)

    def shown(self) -> list[Row]:
        assert self.document is not None
        return self.document.rows[self.top : self.top + self.height]


def document(height: int = 20, width: int = 100) -> tuple[MessageDocument, Window]:
    window = Window(height, width)
    viewport: Viewport = window  # the protocol is all the document sees
    doc = MessageDocument(viewport)
    window.document = doc
    return doc, window


def make_flow(contents: list[bytes], flow_id: str = "flow-1") -> TCPFlow:
    """Alternating client and server messages, one second apart."""
    client = Client(peername=("127.0.0.1", 50000), sockname=("127.0.0.1", 8080), timestamp_start=T0)
    flow = TCPFlow(client, Server(address=("example.test", 443)))
    flow.id = flow_id
    flow.messages = [TCPMessage(i % 2 == 0, content, T0 + i) for i, content in enumerate(contents)]
    return flow


def big_flow(count: int = 3_000, flow_id: str = "big") -> TCPFlow:
    return make_flow([f"line {i} of the conversation\n".encode() for i in range(count)], flow_id)


def finish(doc: MessageDocument) -> int:
    """Run the background work as the view does, slice by slice; returns the slices."""
    for slices in range(1, 100_000):
        if not doc.build_slice(0.0):
            return slices
    raise AssertionError("the background work never ends")


def eager(doc: MessageDocument, flow: TCPFlow) -> list[Row]:
    return build_rows(
        flow.messages,
        first_index=0,
        mode=doc.mode,
        direction=doc.direction,
        text_width=doc.text_width,
        t0=T0,
    )


def test_the_document_loads_no_textual() -> None:
    code = (
        "import sys, flowtui.ui.message_document\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def test_a_small_flow_is_built_at_once_with_its_counts() -> None:
    doc, window = document()
    doc.show_flow(make_flow([b"hello\n", b"hi there\n", b"\x00\x01\x02binary"]))
    assert doc.complete and not doc.has_work and window.build_requests == 0
    headers = [str(r[2]) for r in doc.rows if r[0] == Kind.HEADER]
    assert [h[:2] for h in headers] == ["→ ", "← ", "→ "]
    assert headers[2].endswith("[hex]") and headers[0].endswith("[text]")
    s = doc.stats
    assert (s.total, s.client_msgs, s.server_msgs, s.client_bytes) == (3, 2, 1, 6 + 9)
    title, subtitle = doc.titles()
    assert str(title).startswith("TCP messages: 3  → 2 (") and "view: auto" in str(subtitle)
    assert window.repaints >= 1
    # hex rows need the hex width; text wraps at the window's width less the gutter
    assert doc.virtual_width(100) == 100 and doc.text_width == 100 - len(GUTTER)


def test_a_big_flow_builds_its_first_screens_then_the_rest_in_slices() -> None:
    doc, window = document(height=20)
    flow = big_flow()
    doc.show_flow(flow)
    assert not doc.complete and window.build_requests == 1
    assert 40 <= len(doc.rows) < len(eager(doc, flow))
    assert doc.stats.total == 3_000  # the counts are whole at once
    rows = doc.rows
    assert finish(doc) > 1
    assert doc.complete and doc.rows is rows and rows == eager(doc, flow)


def test_mode_and_direction_keep_the_top_message_and_modes_are_per_flow() -> None:
    doc, window = document()
    flow = big_flow()
    doc.show_flow(flow)
    finish(doc)
    window.scroll_to(1_000)
    top_message = doc.rows[window.top][1]
    doc.cycle_mode()  # auto -> text: other rows, the same message on top
    assert doc.mode == "text"
    assert doc.rows[window.top][1] == top_message and doc.rows[window.top][0] == Kind.HEADER
    doc.cycle_mode()
    assert doc.mode == "hex"
    finish(doc)
    assert doc.rows == eager(doc, flow) and any(r[0] == Kind.HEX for r in doc.rows)
    doc.show_flow(make_flow([b"x"], "other"))
    assert doc.mode == "auto"
    doc.show_flow(flow)
    assert doc.mode == "hex"  # remembered for that flow


def test_a_direction_that_hides_everything_says_so() -> None:
    doc, _ = document()
    doc.show_flow(make_flow([b"only the client speaks\n"]))
    doc.cycle_direction()
    assert doc.direction == "client" and doc.stats.shown == 1
    doc.cycle_direction()
    assert doc.direction == "server" and doc.stats.shown == 0 and doc.stats.total == 1
    assert doc.rows == [(Kind.NOTE, -1, "No messages in this direction (c to change).")]
    assert "showing 0" in str(doc.titles()[0])


def test_search_finishes_the_rows_and_walks_the_matches() -> None:
    doc, window = document(height=20)
    flow = big_flow()
    doc.show_flow(flow)
    revision = doc.revision
    doc.search("LINE 2999 ")
    assert doc.complete  # a search covers every row, built or not yet
    s = doc.search_state
    (match,) = s.matches
    assert s.current_row == match and window.top <= match < window.top + window.height
    assert doc.revision > revision  # painted rows must show the marks
    assert "1/1" in str(doc.titles()[1])
    doc.search("line 1")  # 1, 10-19, 100-199, 1000-1999: 1,111 text rows
    assert len(s.matches) == 1_111
    first = s.current
    doc.next_match(-1)
    assert s.current == (first - 1) % 1_111
    assert window.top <= s.matches[s.current] < window.top + window.height
    doc.search("no such text")
    assert s.matches == [] and window.warnings == ["No match."]


def _preview(whole: TCPFlow, count: int) -> TCPFlow:
    """The first `count` messages of `whole`, as the app's preview of a big flow holds."""
    return make_flow([m.content for m in whole.messages[:count]], whole.id)


def test_a_preview_is_searched_once_the_whole_flow_is_read() -> None:
    doc, window = document(height=20)
    whole = big_flow(500)
    doc.show_flow(_preview(whole, 50), pending=500)
    doc.search("line 499 ")
    assert doc.search_state.matches == [] and "when read" in str(doc.titles()[1])
    doc.show_flow(whole)  # the whole flow arrives, a new copy with the same id
    assert doc.pending is None and doc.complete
    (match,) = doc.search_state.matches
    assert doc.rows[match][1] == 499 and window.top <= match < window.top + window.height


def test_end_on_a_preview_lands_at_the_whole_flows_end() -> None:
    doc, window = document(height=20)
    whole = big_flow(500)
    doc.show_flow(_preview(whole, 50), pending=500)
    doc.go_to_end()
    assert window.at_end and doc.rows[window.top][1] < 50
    doc.show_flow(whole)
    assert window.at_end and doc.rows[-1][1] == 499


def test_a_preview_read_elsewhere_keeps_the_readers_place() -> None:
    doc, window = document(height=20)
    whole = big_flow(500)
    doc.show_flow(_preview(whole, 50), pending=500)
    window.scroll_to(30)
    top_message = doc.rows[30][1]
    doc.show_flow(whole)
    assert doc.rows[window.top][1] == top_message and not window.at_end


def test_a_live_flow_appends_rows_and_follows_its_end() -> None:
    doc, window = document(height=5)
    flow = make_flow([b"one\n", b"two\n"])
    doc.show_flow(flow)
    rows = doc.rows
    window.scroll_to_end()
    for i in range(10):
        flow.messages.append(TCPMessage(True, f"more {i}\n".encode(), T0 + 10 + i))
        doc.refresh_flow()
    assert doc.rows is rows  # appended, not rebuilt
    assert rows == eager(doc, flow)
    assert (doc.stats.total, doc.stats.client_msgs, doc.stats.server_msgs) == (12, 11, 1)
    assert window.at_end


def test_old_rows_are_freed_a_step_at_a_time_after_the_new_ones() -> None:
    doc, _ = document()
    doc.show_flow(big_flow(12_000))  # two rows per message: over one free step
    finish(doc)
    old = len(doc.rows)
    assert old > reclaim.STEP
    doc.cycle_mode()
    assert doc.reclaimer.pending == old and doc.has_work
    finish(doc)
    assert doc.complete and doc.reclaimer.pending == 0 and not doc.has_work


def test_a_narrower_view_rewraps_the_text() -> None:
    doc, window = document(width=100)
    doc.show_flow(make_flow([b"word " * 40]))
    assert len(doc.rows) == 1 + 3  # a header and 200 characters in lines of 98 cells
    window.width = 40
    doc.resize()
    assert doc.text_width == 38 and len(doc.rows) == 1 + 6
    doc.resize()  # the same width: nothing to do
    assert doc.text_width == 38
