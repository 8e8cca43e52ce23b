"""The view filter: at once over summaries or few flows, else matched in a worker thread.

Why apart from the app: the worker, its progress and the hand-back of results checked
against later changes are one piece of state (the filter text as typed) that nothing
else shares.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.worker import get_current_worker

from flowtui.core import Flow
from flowtui.store import StoreSnapshot, summary_filter

if TYPE_CHECKING:
    from flowtui.ui.app import FlowtuiApp

__all__ = ["THREADED_FILTER", "FilterRunner"]

THREADED_FILTER = 5000
"""From this many flows on, a filter that needs the flows is matched in a worker thread."""


class FilterRunner:
    """Applies the view filter to the app's store."""

    def __init__(self, app: FlowtuiApp) -> None:
        self.app = app
        """The app whose store, workers and status bar this uses."""
        self.text = ""
        """The view filter as typed."""

    def apply(self, text: str, predicate: Callable[[Flow], bool] | None) -> None:
        """Filter the view; over `THREADED_FILTER` flows the matching runs in a worker."""
        app, store = self.app, self.app.store
        self.text = text
        app.workers.cancel_group(app, "filter")
        if predicate is None or summary_filter(predicate) or len(store) < THREADED_FILTER:
            store.set_filter(predicate)
            app.main.refresh_status()
            return
        app.main.status.set(filter=f"{text} (filtering…)")
        snapshot = store.snapshot()
        app.run_worker(
            lambda: self._match(text, predicate, snapshot),
            thread=True,
            exclusive=True,
            group="filter",
            name="filter",
        )

    def _match(self, text: str, predicate: Callable[[Flow], bool], snapshot: StoreSnapshot) -> None:
        """Match every flow off the UI thread, decoding lazy ones one at a time."""
        worker = get_current_worker()
        results: dict[str, tuple[int, bool]] = {}
        last = time.monotonic()
        may_match = getattr(predicate, "may_match", None)
        for done, (flow_id, revision, summary, item) in enumerate(snapshot.rows()):
            if worker.is_cancelled:
                return
            try:
                if isinstance(item, Flow):
                    results[flow_id] = (revision, bool(predicate(item)))
                elif may_match is not None and not may_match(summary, item.raw()):
                    results[flow_id] = (revision, False)  # cannot match: not decoded
                else:
                    results[flow_id] = (revision, bool(predicate(item.load())))
            except Exception:  # as the store does: a failing filter hides the flow
                results[flow_id] = (revision, False)
            if time.monotonic() - last > 0.25:
                last = time.monotonic()
                pct = 100 * done // max(len(snapshot), 1)
                self.app.call_from_thread(self._progress, text, pct)
        self.app.call_from_thread(self._done, text, predicate, results)

    def _progress(self, text: str, pct: int) -> None:
        if text == self.text:
            self.app.main.status.set(filter=f"{text} (filtering… {pct}%)")

    def _done(
        self,
        text: str,
        predicate: Callable[[Flow], bool],
        results: dict[str, tuple[int, bool]],
    ) -> None:
        if text != self.text:
            return  # the user set another filter meanwhile
        # Flows changed (or added) while the worker ran are checked again by the store.
        store = self.app.store
        known = {i: ok for i, (rev, ok) in results.items() if store.revision(i) == rev}
        store.set_filter(predicate, known)
        self.app.main.refresh_status()
