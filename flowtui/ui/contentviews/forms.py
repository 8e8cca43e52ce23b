"""Name/value tables: the query string, form-urlencoded and multipart bodies."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from flowtui.ui.contentviews.base import Styles, line
from flowtui.ui.safe_text import SafeText, clean

__all__ = ["table"]

NAME_WIDTH = 30
"""The name column is as wide as the widest name, up to this many cells."""


def table(rows: Sequence[tuple[str, str]]) -> Iterator[SafeText]:
    """`name  value` lines, names padded to one column."""
    names = [clean(name) for name, _ in rows]
    width = min(NAME_WIDTH, max((len(n) for n in names), default=0))
    gap = clean("  ")
    for name, (_, value) in zip(names, rows, strict=True):
        yield line((clean(name.ljust(width)), Styles.NAME), (gap, ""), (clean(value), ""))
