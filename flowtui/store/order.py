"""The orders the flow list can be sorted in (mitmproxy console's `o` choices).

Each key is read from one summary column, so ordering 100,000 lazy flows decodes none
of them. A flow without a value (no start time, a duration not known yet) sorts before
every flow with one. Ties keep the store's order (the flows' numbers): Python's sort is
stable, and the view breaks ties by sequence number when it inserts one flow.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Sequence
from typing import Any

from flowtui.core.summary import FlowSummary

__all__ = ["OddValue", "OrderKey"]

_NONE_FIRST = float("-inf")


class OrderKey(enum.Enum):
    """What the list is ordered by; the value is the summary field read."""

    TIME = "start"
    """The flow's start (its client connection's, or the request's)."""
    SIZE = "size"
    """Total payload bytes, both directions (as `~size`)."""
    DURATION = "duration"
    """Seconds from the start to the last known timestamp."""
    SERVER = "server"
    """The SNI when known, else the server's address (the list's server column)."""
    TYPE = "type"
    """`dns`, `http`, `tcp`, `udp` (`?` for an unreadable record)."""

    @property
    def label(self) -> str:
        """The name mitmproxy's console shows: `time`, `size`..."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> OrderKey:
        """The key named `label` (ValueError if there is none)."""
        try:
            return cls[label.upper()]
        except KeyError:
            names = ", ".join(k.label for k in cls)
            raise ValueError(f"no order {label!r} (one of {names})") from None

    def value_of(self, summary: FlowSummary, ranked: bool = False) -> Any:
        """The summary's sort value under this key; `ranked`: as a (rank, value) pair,
        which orders values of any type (see `values`)."""
        value = getattr(summary, self.value)
        if ranked:
            return _ranked(value)
        if value is None:
            return _NONE_FIRST
        if type(value) not in _TYPES[self] or value != value:  # an odd stored summary, NaN
            raise OddValue(value)
        return value

    def values(self, summaries: Sequence[FlowSummary]) -> tuple[list[Any], bool]:
        """The sort values of many summaries (one pass over one field), and whether
        they are ranked: plain values when every one is of the field's type (a number
        for times, sizes and durations, text for servers and types), else (rank, value)
        pairs, which sort a summary of odd values (a damaged stored summary) among the
        others instead of failing."""
        values: list[Any] = list(map(operator.attrgetter(self.value), summaries))
        if None in values:
            values = [_NONE_FIRST if v is None else v for v in values]
        kinds = set(map(type, values))
        if kinds <= _TYPES[self]:
            try:
                if float not in kinds or not any(map(math.isnan, values)):
                    return values, False
            except OverflowError:  # an int too big for a float: odd too
                pass
        return [_ranked(getattr(s, self.value)) for s in summaries], True


class OddValue(Exception):
    """A value not of its field's type: the view switches to ranked values."""


_NUMBERS = frozenset({int, float})
_TYPES: dict[OrderKey, frozenset[type]] = {
    OrderKey.TIME: _NUMBERS,
    OrderKey.SIZE: _NUMBERS,
    OrderKey.DURATION: _NUMBERS,
    OrderKey.SERVER: frozenset({str}),
    OrderKey.TYPE: frozenset({str}),
}


def _ranked(value: Any) -> tuple[int, Any]:
    """A (rank, value) pair that compares with any other: no value first, then numbers,
    then texts, then anything else by its repr."""
    if value is None:
        return (0, 0)
    if type(value) in (int, float):
        return (0, _NONE_FIRST) if value != value else (1, value)
    if type(value) is str:
        return (2, value)
    return (3, repr(value))
