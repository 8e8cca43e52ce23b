"""What the store asks of a filter.

Any `Predicate` (a function of a flow) filters the view, flow by flow, decoding lazy
flows. A filter that can answer from summaries alone (a parsed `Filter` whose operators
all read summary fields) is a `SummaryFilter`: the view then tests the summaries'
columns at once and decodes nothing. `summary_filter(predicate)` tells them apart,
once per filter, so the view holds a typed object instead of asking `getattr` per flow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from flowtui.core.filters.columns import SummaryColumns
from flowtui.core.flow import Flow
from flowtui.core.summary import FlowSummary

__all__ = ["Predicate", "SummaryFilter", "summary_filter"]

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
