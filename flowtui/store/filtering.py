"""What the store asks of a filter.

Any `Predicate` (a function of a flow) filters the view, flow by flow, decoding lazy
flows. A filter that can answer from summaries alone (a parsed `Filter` whose operators
all read summary fields) is a `SummaryFilter`: the view then tests the summaries'
columns at once and decodes nothing. `summary_filter(predicate)` tells them apart,
once per filter, so the view holds a typed object instead of asking `getattr` per flow.
`Selection` is the view's choice of flows: the filter and the marked-only switch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Protocol, runtime_checkable

from flowtui.core.filters.columns import SummaryColumns
from flowtui.core.flow import Flow
from flowtui.core.summary import FlowSummary
from flowtui.store.table import SummaryTable

__all__ = ["Predicate", "Selection", "SummaryFilter", "summary_filter"]

Predicate = Callable[[Flow], bool]
"""A filter as the view takes it: true for the flows to show."""


@runtime_checkable
class SummaryFilter(Protocol):
    """A filter that may answer from flow summaries (`flowtui.core.filters.Filter`)."""

    on_summaries: bool
    """True if the summary tests answer exactly as calling the filter on the flow."""

    def __call__(self, flow: Flow) -> bool: ...

    def match_summary(self, summary: FlowSummary) -> bool:
        """The filter applied to one summary."""
        ...

    def match_summaries(self, summaries: Sequence[FlowSummary]) -> bytes:
        """One byte per summary, 1 where it matches."""
        ...

    def match_columns(self, columns: SummaryColumns) -> bytes:
        """As `match_summaries`, on summaries kept column by column."""
        ...


def summary_filter(predicate: Predicate | None) -> SummaryFilter | None:
    """`predicate` as a summary filter if it answers from summaries, else None (a plain
    function, or a filter that needs the flows: content, HTTP fields)."""
    if isinstance(predicate, SummaryFilter) and predicate.on_summaries is True:
        return predicate
    return None


class Selection:
    """Which flows a view shows: a filter (a `SummaryFilter` tested on the summaries'
    columns, else flow by flow) and the marked-only switch. A flow-by-flow filter's
    answers are kept, so switching marked-only or re-ordering never runs it again
    (a content filter decodes every lazy flow)."""

    def __init__(self, table: SummaryTable, flow: Callable[[str], Flow]) -> None:
        self._table = table
        self._flow = flow
        """The flow under a key, decoded if lazy (for a filter that needs it)."""
        self._filter: Predicate | None = None
        self._summary_filter: SummaryFilter | None = None
        self._answers: dict[str, bool] = {}
        """A flow-by-flow filter's answers so far; empty for a summary filter."""
        self.marked_only = False
        """True when only marked flows are shown (mitmproxy console's `M`)."""

    @property
    def filter(self) -> Predicate | None:
        """The predicate (None shows every flow)."""
        return self._filter

    def set_filter(self, predicate: Predicate | None) -> None:
        self._filter = predicate
        self._summary_filter = summary_filter(predicate)
        self._answers = {}

    def known(self, known: Mapping[str, bool]) -> Mapping[str, bool]:
        """`known` over the answers kept (what a rebuild need not ask again)."""
        return {**self._answers, **known} if self._answers else known

    def forget(self, key: str) -> None:
        """The flow left the store."""
        self._answers.pop(key, None)

    def clear(self) -> None:
        self._answers = {}

    def flags(self, known: Mapping[str, bool]) -> bytes | None:
        """One byte per row of the table, 1 for a shown flow; None: every flow."""
        table = self._table
        flt = self._summary_filter
        flags: bytes | None = None
        if self._filter is None:
            if known:
                flags = bytes(1 if known.get(k, True) else 0 for k in table.ids)
        elif flt is not None:
            # The fast path: the summaries column by column (or in one list if keeping
            # the columns failed), tested field by field: nothing decoded.
            try:
                if table.columns_ok:
                    flags = flt.match_columns(table.columns)
                else:
                    flags = flt.match_summaries(table.summaries())
            except Exception:  # a filter must never break the store: go flow by flow
                flags = None
            if flags is None or len(flags) != len(table):
                flags = self._each(known)
            elif known:
                flags = self._with_known(flags, known)
        else:
            flags = self._each(known)
        if self.marked_only:
            marked = self._marked_flags()
            if flags is None:
                flags = marked
            else:
                ones = int.from_bytes(flags, "little") & int.from_bytes(marked, "little")
                flags = ones.to_bytes(len(marked), "little")
        return flags

    def _each(self, known: Mapping[str, bool]) -> bytes:
        """The filter flow by flow (`known` answers first); a plain filter's answers
        are kept."""
        match = self._test
        answers = [known[k] if k in known else match(k) for k in self._table.ids]
        if self._summary_filter is None:
            self._answers = dict(zip(self._table.ids, answers, strict=True))
        return bytes(answers)

    def _marked_flags(self) -> bytes:
        table = self._table
        if table.columns_ok:
            with suppress(Exception):  # an odd mark: one by one, below
                return table.columns.flags(table.columns.field_mask("marked", bool))
        return bytes(bool(s.marked) for s in table.summaries())

    def _with_known(self, flags: bytes, known: Mapping[str, bool]) -> bytes:
        """`flags` with the answers in `known` instead."""
        patched = bytearray(flags)
        for key, ok in known.items():
            if key in self._table:
                patched[self._table.row(key)] = 1 if ok else 0
        return bytes(patched)

    def _test(self, key: str) -> bool:
        """The filter alone on one flow: on its summary where the filter allows, else on
        the flow (decoding a lazy one)."""
        if self._filter is None:
            return True
        try:
            if self._summary_filter is not None:  # the summary of the flow's revision
                return bool(self._summary_filter.match_summary(self._table.summary(key)))
            return bool(self._filter(self._flow(key)))
        except Exception:  # a filter must never break the store; treat as "no match"
            return False

    def matches(self, key: str) -> bool:
        """Whether the flow would be shown now (filter and marked-only)."""
        if self.marked_only and not self._table.summary(key).marked:
            self._answers.pop(key, None)  # it may have changed: asked again when needed
            return False
        ok = self._test(key)
        if self._filter is not None and self._summary_filter is None:
            self._answers[key] = ok
        return ok
