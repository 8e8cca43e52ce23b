"""Indexing captures in a worker thread and handing the index to the UI in batches.

The thread never touches a widget or the store: it posts `FlowsLoaded` (index entries:
id, summary, where the record is; flows are decoded only when opened), `LoadProgress`
and `LoadFinished` (``post_message`` is thread-safe) and stops when `cancelled()` says
so. Batches go out every `BATCH` flows or `INTERVAL` seconds, so the first rows show
at once and a 100k-flow file does not flood the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.message import Message

from flowtui.io import FlowReadException
from flowtui.io.lazy import CaptureIndexer, IndexEntry
from flowtui.ui.messages import FlowsLoaded, LoadFinished, LoadProgress

__all__ = ["BATCH", "INTERVAL", "load_file"]

BATCH = 200
"""Most flows per batch."""
INTERVAL = 0.05
"""Longest wait before a non-empty batch is sent (seconds)."""


def load_file(
    path: Path,
    post: Callable[[Message], object],
    cancelled: Callable[[], bool] = lambda: False,
) -> None:
    """Index `path`, posting batches, progress and a final `LoadFinished`."""
    name = str(path)
    try:
        indexer = CaptureIndexer(path)
    except FlowReadException as e:
        post(LoadFinished(name, 0, str(e)))
        return
    count = 0
    error: str | None = None
    try:
        total = path.stat().st_size
    except OSError:
        total = 0
    batch: list[IndexEntry] = []
    last = time.monotonic()

    def flush() -> None:
        nonlocal batch, last
        if batch:
            post(FlowsLoaded(name, batch))
            batch = []
        post(LoadProgress(name, indexer.tell(), total, count))
        last = time.monotonic()

    try:
        for entry in indexer.entries():
            batch.append(entry)
            count += 1
            if len(batch) >= BATCH or time.monotonic() - last >= INTERVAL:
                flush()
                if cancelled():
                    break
    except FlowReadException as e:
        error = str(e)
    except Exception as e:  # a reader bug must not kill the app: report it as a bad file
        error = f"{name}: flow #{count}: unexpected error: {type(e).__name__}: {e}"
    flush()
    fmt = indexer.format.value if indexer.format is not None else None
    post(LoadFinished(name, count, error, fmt))
