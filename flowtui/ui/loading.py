"""Indexing captures in a worker thread and handing the index to the UI in batches.

The thread never touches a widget or the store: it posts `FlowsLoaded` (index entries:
id, summary, where the record is; flows are decoded only when opened), `LoadProgress`
and `LoadFinished` (``post_message`` is thread-safe) and stops when `cancelled()` says
so. The first batch goes out after `FIRST_INTERVAL` seconds (the first rows show at
once), later ones every `BATCH` flows or `INTERVAL` seconds: each batch repaints the
list and the status bar on the UI thread, which competes with this thread for the GIL,
so few big batches index a 100k-flow file several times faster than many small ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.message import Message

from flowtui.io import FlowReadException
from flowtui.io.lazy import CaptureIndexer, IndexEntry
from flowtui.io.spool import SpooledPipe
from flowtui.ui.messages import FlowsLoaded, LoadFinished, LoadProgress

__all__ = ["BATCH", "FIRST_INTERVAL", "INTERVAL", "load_file"]

BATCH = 5000
"""Most flows per batch."""
FIRST_INTERVAL = 0.02
"""Longest wait before the first batch is sent (seconds)."""
INTERVAL = 0.25
"""Longest wait before a later non-empty batch is sent (seconds)."""


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
    interval = FIRST_INTERVAL

    def flush() -> None:
        nonlocal batch, last, interval
        interval = INTERVAL
        if batch:
            post(FlowsLoaded(name, batch))
            batch = []
        post(LoadProgress(name, indexer.tell(), total, count))
        last = time.monotonic()

    def before_waiting() -> None:
        if batch:
            flush()

    if isinstance(indexer.fileobj, SpooledPipe):  # a pipe that pauses shows what came first
        indexer.fileobj.on_wait = before_waiting
        indexer.fileobj.cancelled = cancelled
    try:
        for entry in indexer.entries():
            batch.append(entry)
            count += 1
            if len(batch) >= BATCH or time.monotonic() - last >= interval:
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
