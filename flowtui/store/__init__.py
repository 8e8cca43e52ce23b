"""The viewer's model: the flows of a session, their summaries, and what the list shows.

Not part of mitmproxy's API (that is `flowtui.core`): this package holds what the viewer
needs on top of it. `FlowStore` is the facade the UI uses; it is made of objects that
own their data:

- `SummaryTable` (`table.py`): every flow's place, revision and summary, in columns;
- `RecordCache` (`records.py`): resident flows, lazy records, the recently opened;
- `ChangeTracker` (`changes.py`): what a save would change;
- `FlowView` (`view.py`): the filtered, ordered view (`OrderKey`, reverse, marked-only);
- `SummaryFilter` (`filtering.py`): what a filter answering from summaries offers.

It imports `flowtui.core` (and may import `flowtui.io`), never Textual or Rich.
"""

from __future__ import annotations

from flowtui.core.summary import FlowSummary, summarize
from flowtui.store.changes import ChangeTracker
from flowtui.store.filtering import Predicate, SummaryFilter, summary_filter
from flowtui.store.flow_store import EventKind, FlowStore, Removed, StoreEvent, StoreSnapshot
from flowtui.store.order import OrderKey
from flowtui.store.records import (
    OPEN_CACHE,
    OPEN_CACHE_BYTES,
    PREVIEW_BYTES,
    PREVIEW_MESSAGES,
    LazyFlow,
    RecordCache,
)
from flowtui.store.table import SummaryTable
from flowtui.store.view import FlowView

__all__ = [
    "OPEN_CACHE",
    "OPEN_CACHE_BYTES",
    "PREVIEW_BYTES",
    "PREVIEW_MESSAGES",
    "ChangeTracker",
    "EventKind",
    "FlowStore",
    "FlowSummary",
    "FlowView",
    "LazyFlow",
    "OrderKey",
    "Predicate",
    "RecordCache",
    "Removed",
    "StoreEvent",
    "StoreSnapshot",
    "SummaryFilter",
    "SummaryTable",
    "summarize",
    "summary_filter",
]
