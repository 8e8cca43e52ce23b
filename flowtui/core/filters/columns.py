"""Summary filters over every flow at once: a field at a time, each distinct value once.

Calling a tree of Python tests per flow costs about 1 µs a flow, 100 ms over 100k
flows. A capture has few distinct values per field (summaries intern their hosts, SNIs
and versions), so a leaf here reads its field's column in one C-level pass, tests each
distinct value once (a memo dict filled on a miss) and yields a mask; `&`, `|`, `!`
then combine masks as integers. A mask holds one byte per flow, 1 or 0 (flow `k` is
byte `k`, little-endian), so it turns into `bytes` for `itertools.compress` with no
per-flow Python code, and bitwise operators on the integers act byte by byte.

The answers are exactly those of the per-summary tests (`Node.on_summary`): a leaf is
one pure test of one field's value (`FieldTest`), evaluated on that value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any

from flowtui.core.summary import FlowSummary

__all__ = ["ColumnTest", "FieldTest", "SummaryTable"]


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


class _Memo(dict[Any, int]):
    """A field value -> 1 or 0, computed on the first look-up of each distinct value."""

    __slots__ = ("test",)

    def __init__(self, test: Callable[[Any], bool]) -> None:
        super().__init__()
        self.test = test

    def __missing__(self, value: Any) -> int:
        answer = self[value] = 1 if self.test(value) else 0
        return answer


class SummaryTable:
    """The summaries of some flows, in order, read column-wise (one per `match`)."""

    def __init__(self, summaries: Sequence[FlowSummary]) -> None:
        self.summaries = summaries
        """The rows."""
        self.size = len(summaries)
        """How many rows (the masks' length in bytes)."""
        self.ones = int.from_bytes(b"\x01" * self.size, "little")
        """The mask of every row."""
        self._columns: dict[str, list[Any]] = {}

    def column(self, field: str) -> list[Any]:
        """Every row's value of `field` (read once per table)."""
        values = self._columns.get(field)
        if values is None:
            values = self._columns[field] = list(map(operator.attrgetter(field), self.summaries))
        return values

    def field_mask(self, field: str, test: Callable[[Any], bool]) -> int:
        """The rows whose `field` passes `test`, testing each distinct value once."""
        column = self.column(field)
        try:
            flags = bytes(map(_Memo(test).__getitem__, column))
        except TypeError:  # unhashable values: test every row
            flags = bytes(1 if test(v) else 0 for v in column)
        return int.from_bytes(flags, "little")

    def compare_mask(self, field: str, compare: Callable[[Any, Any], bool], limit: Any) -> int:
        """The rows where `compare(value, limit)` holds: for numbers, mostly distinct, so
        compared directly (`compare` returns a bool, as the `operator` functions do)."""
        flags = bytes(map(compare, self.column(field), repeat(limit)))
        return int.from_bytes(flags, "little")

    def each_mask(self, test: Callable[[FlowSummary], bool]) -> int:
        """The rows passing a test of the whole summary (one call per row)."""
        return int.from_bytes(bytes(1 if test(s) else 0 for s in self.summaries), "little")

    def flags(self, mask: int) -> bytes:
        """A mask as one byte (1 or 0) per row, for `itertools.compress`."""
        return mask.to_bytes(self.size, "little")


ColumnTest = Callable[[SummaryTable], int]
"""A node's test over a whole table: the mask of matching rows."""
