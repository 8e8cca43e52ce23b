"""The flow list's cell formatting: sizes, durations, times, signs, narrow layouts."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

from rich.cells import cell_len
from ui.factories import T0, hostile_flow, tcp_flow

from flowtui.store import summarize
from flowtui.ui.widgets.flow_columns import (
    COLUMNS,
    fit,
    format_bytes,
    format_duration,
    format_time,
    layout,
    mark_sign,
    state_signs,
)


def test_format_bytes() -> None:
    assert [format_bytes(n) for n in (None, 0, 999, 1000, 1234, 99_949, 123_456, 1_234_567)] == [
        "-", "0", "999", "1.0k", "1.2k", "99.9k", "123k", "1.2M",
    ]  # fmt: skip


def test_format_duration() -> None:
    assert [format_duration(s) for s in (None, 0.0123, 1.234, 123.0, 7300.0)] == [
        "-", "12ms", "1.23s", "2m03s", "2h01m",
    ]  # fmt: skip


def test_format_time_uses_the_given_zone() -> None:
    assert format_time(T0 + 0.25, UTC) == "22:13:20.250"
    assert format_time(T0, timezone(timedelta(hours=2))) == "00:13:20.000"
    assert format_time(None, UTC) == "-"


def test_signs() -> None:
    s = summarize(tcp_flow(0))
    assert state_signs(s) == ""
    s = s._replace(marked=":default:", intercepted=True, error=True, modified=True, live=True)
    assert state_signs(s) == "●⏸!✎◉"
    assert state_signs(s._replace(killed=True)) == "●⏸✗✎◉"
    assert mark_sign(":grapes:") == "🍇" and mark_sign("x") == "x"
    assert mark_sign(":unknown_code:") == "●" and mark_sign("\x1b") == "●"


def test_layout_fills_the_width_and_drops_columns_when_narrow() -> None:
    for width in (60, 80, 120, 200):
        cols = layout(width)
        assert sum(w for _, w in cols) + len(cols) - 1 == width
    assert {c.key for c, _ in layout(200)} == {c.key for c in COLUMNS}
    narrow = {c.key for c, _ in layout(80)}
    assert "tls" not in narrow and {"index", "endpoints", "state"} <= narrow


def test_cells_are_clean_and_fit() -> None:
    s = summarize(hostile_flow())
    for col in COLUMNS:
        text = col.cell(s, 1, UTC)
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in text), col.key
    assert cell_len(fit("🍇🍇🍇", 4)) == 4 and fit("abc", 5, right=True) == "  abc"
