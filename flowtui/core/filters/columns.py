"""Summary filters over every flow at once: a field at a time, each distinct value once.

Calling a tree of Python tests per flow costs about 1 µs a flow, 100 ms over 100k
flows; even one pass that reads a field of 100k summaries costs 5-15 ms, because they
lie scattered over the heap. So `SummaryColumns` keeps the summaries of a store column
by column as they arrive: per field, its distinct values (a capture has few hosts,
SNIs, versions) and one small code per row. A leaf of a filter then tests each
distinct value once and maps the codes to a mask (`bytes.translate` while a field has
at most 256 values); `&`, `|`, `!` combine masks as integers. A mask holds one byte per
row, 1 or 0 (row `k` is byte `k`, little-endian), so it turns into `bytes` for
`itertools.compress`, and bitwise operators on the integers act byte by byte.

The answers are exactly those of the per-summary tests (`Node.on_summary`): a leaf is
one pure test of one field's value (`FieldTest`), applied to that value.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Any, cast

from flowtui.core.summary import FlowSummary

__all__ = ["INDEXED_FIELDS", "ColumnTest", "FieldTest", "SummaryColumns"]

INDEXED_FIELDS = (
    "type",
    "marked",
    "comment",
    "meta",
    "src",
    "dst",
    "sni",
    "alpn",
    "tls",
    "replay",
    "websocket",
    "error",
    "size",
)
"""The summary fields filters test, kept as columns from the first row on (any other
field becomes a column the first time a filter reads it)."""


class FieldTest:
    """A test of one summary field's value: the per-summary test and the column test
    are built from the same function, so they cannot disagree."""

    __slots__ = ("field", "get", "test")

    def __init__(self, field: str, test: Callable[[Any], bool]) -> None:
        self.field = field
        """The `FlowSummary` attribute tested."""
        self.test = test
        """The test of its value (pure: equal values give equal answers)."""
        self.get = operator.attrgetter(field)

    def __call__(self, summary: FlowSummary) -> bool:
        return bool(self.test(self.get(summary)))


class _Column:
    """One field of every row: its distinct values and a code per row."""

    __slots__ = ("codes", "lookup", "texts", "values")

    def __init__(self) -> None:
        self.values: list[Any] = []
        """Code -> value (the first of equal values seen)."""
        self.lookup: dict[Any, int] = {}
        """Value -> code."""
        self.codes: bytearray | array[int] = bytearray()
        """Row -> code: bytes while there are at most 256 values, then 32-bit."""
        self.texts: dict[Any, None] = {}
        """Every item of the values that are tuples (a field of texts: its distinct texts)."""

    def code(self, value: Any) -> int:
        code = self.lookup.get(value)
        if code is None:
            code = self.lookup[value] = len(self.values)
            self.values.append(value)
            if type(value) is tuple:
                self.texts.update(dict.fromkeys(value))
            if code == 256 and isinstance(self.codes, bytearray):
                self.codes = array("I", list(self.codes))  # not the bytes: their values
        return code

    def mask(self, answers: bytes) -> int:
        """The rows whose value's answer (`answers[code]`, 1 or 0) is 1."""
        codes = self.codes
        if isinstance(codes, bytearray):
            return int.from_bytes(codes.translate(answers.ljust(256, b"\0")), "little")
        # A list's item look-up is about twice as fast as that of bytes.
        return int.from_bytes(bytes(map(list(answers).__getitem__, codes)), "little")


class SummaryColumns:
    """The summaries of a store's flows, in its order, kept column by column.

    The store appends, replaces, inserts and deletes rows as flows come and go; each
    costs a few dict look-ups per field (deleting or inserting: a move of the codes).
    Distinct values stay known until `clear()`.
    """

    def __init__(self, rows: Iterable[FlowSummary] = ()) -> None:
        self.rows: list[FlowSummary] = []
        """Every summary, in order."""
        self._columns: dict[str, _Column] = {}
        self._get = operator.attrgetter(*INDEXED_FIELDS)
        self._ones = (0, 0)
        self.clear()
        self.extend(rows)

    def __len__(self) -> int:
        return len(self.rows)

    # -- keeping up with the store ----------------------------------------------------------

    def append(self, summary: FlowSummary) -> None:
        """Add a row at the end."""
        self.rows.append(summary)
        for column, value in zip(self._columns.values(), self._values(summary), strict=True):
            code = column.code(value)
            column.codes.append(code)

    def extend(self, summaries: Iterable[FlowSummary]) -> None:
        """Add rows at the end: a field at a time, known values looked up in C."""
        rows = list(summaries)
        self.rows.extend(rows)
        for field, column in self._columns.items():
            values = list(map(operator.attrgetter(field), rows))
            known = list(map(column.lookup.get, values))
            codes = cast("list[int]", known)
            if None in known:  # values never seen before (may widen `column.codes`)
                pairs = zip(known, values, strict=True)
                codes = [column.code(v) if c is None else c for c, v in pairs]
            column.codes.extend(codes)

    def insert(self, pos: int, summary: FlowSummary) -> None:
        """Add a row before row `pos`."""
        self.rows.insert(pos, summary)
        for column, value in zip(self._columns.values(), self._values(summary), strict=True):
            code = column.code(value)
            column.codes.insert(pos, code)

    def replace(self, pos: int, summary: FlowSummary) -> None:
        """Row `pos` has a new summary."""
        self.rows[pos] = summary
        for column, value in zip(self._columns.values(), self._values(summary), strict=True):
            code = column.code(value)
            column.codes[pos] = code

    def delete(self, pos: int) -> None:
        """Remove row `pos`."""
        del self.rows[pos]
        for column in self._columns.values():
            del column.codes[pos]

    def clear(self) -> None:
        """Forget every row and value."""
        self.rows = []
        self._columns = {f: _Column() for f in INDEXED_FIELDS}
        self._ones = (0, 0)

    def _values(self, summary: FlowSummary) -> tuple[Any, ...]:
        if len(self._columns) == len(INDEXED_FIELDS):
            values: tuple[Any, ...] = self._get(summary)
            return values
        return tuple(getattr(summary, f) for f in self._columns)

    def _column(self, field: str) -> _Column:
        column = self._columns.get(field)
        if column is None:  # a field no filter read before: a column from now on
            column = _Column()
            codes = [column.code(getattr(row, field)) for row in self.rows]
            column.codes.extend(codes)
            self._columns[field] = column
        return column

    # -- masks ------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """How many rows (the masks' length in bytes)."""
        return len(self.rows)

    @property
    def ones(self) -> int:
        """The mask of every row."""
        size, ones = self._ones
        if size != len(self.rows):
            ones = int.from_bytes(b"\x01" * len(self.rows), "little")
            self._ones = (len(self.rows), ones)
        return ones

    def field_mask(self, field: str, test: Callable[[Any], bool]) -> int:
        """The rows whose `field` passes `test`, testing each distinct value once."""
        column = self._column(field)
        return column.mask(bytes(1 if test(v) else 0 for v in column.values))

    def compare_mask(self, field: str, compare: Callable[[Any, Any], bool], limit: Any) -> int:
        """The rows where `compare(value, limit)` holds (`compare` returns a bool, as the
        `operator` functions do): no Python code per value, for numbers are many."""
        column = self._column(field)
        return column.mask(bytes(map(compare, column.values, repeat(limit))))

    def search_mask(self, field: str, search: Callable[[str], object]) -> int:
        """The rows whose `field` (a tuple of texts) has a text where `search` finds
        something: each distinct text searched once, no Python code per value (a
        client's `host:port` is nearly unique per flow)."""
        column = self._column(field)
        texts = column.texts
        found = dict(zip(texts, map(bool, map(search, texts)), strict=True))
        return column.mask(bytes(map(any, map(map, repeat(found.__getitem__), column.values))))

    def each_mask(self, test: Callable[[FlowSummary], bool]) -> int:
        """The rows passing a test of the whole summary (one call per row)."""
        return int.from_bytes(bytes(1 if test(s) else 0 for s in self.rows), "little")

    def flags(self, mask: int) -> bytes:
        """A mask as one byte (1 or 0) per row, for `itertools.compress`."""
        return mask.to_bytes(len(self.rows), "little")


ColumnTest = Callable[[SummaryColumns], int]
"""A node's test over a whole table: the mask of matching rows."""
