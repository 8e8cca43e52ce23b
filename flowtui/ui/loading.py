"""Reading captures in a worker thread and handing flows to the UI in batches.

The thread never touches a widget or the store: it posts `FlowsLoaded`, `LoadProgress`
and `LoadFinished` (``post_message`` is thread-safe) and stops when `cancelled()` says
so. Batches go out every `BATCH` flows or `INTERVAL` seconds, so the first rows show
at once and a 100k-flow file does not flood the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.message import Message

from flowtui.core import Flow
from flowtui.io import FlowReader, FlowReadException
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
    """Read `path`, posting batches, progress and a final `LoadFinished`."""
    name = str(path)
    try:
        fileobj = path.open("rb")
    except OSError as e:
        post(LoadFinished(name, 0, f"{name}: cannot open: {e.strerror or e}"))
        return
    count = 0
    error: str | None = None
    reader = FlowReader(fileobj, name=name)
    with fileobj:
        try:
            total = path.stat().st_size
        except OSError:
            total = 0
        batch: list[Flow] = []
        last = time.monotonic()

        def flush() -> None:
            nonlocal batch, last
            if batch:
                post(FlowsLoaded(name, batch))
                batch = []
            post(LoadProgress(name, _tell(fileobj), total, count))
            last = time.monotonic()

        try:
            for flow in reader.stream():
                batch.append(flow)
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
    fmt = reader.format.value if reader.format is not None else None
    post(LoadFinished(name, count, error, fmt))


def _tell(fileobj: object) -> int:
    try:
        return int(fileobj.tell())  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):
        return 0
