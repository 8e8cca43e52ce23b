"""The detail panes following the list's cursor: when to show a flow, and decoding big
records off the UI thread.

Why apart from the main screen: the timing (show at once, then only once the cursor
rests) and the hand-over of a big record (its preview first, the whole from a worker)
are one piece of state — pending, decoding and shown flow — that the screen's actions
never touch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.timer import Timer
from textual.worker import get_current_worker

from flowtui.core import Flow
from flowtui.store import FlowStore

if TYPE_CHECKING:
    from textual.screen import Screen

__all__ = ["LARGE_RECORD", "PREVIEW_AT_ONCE", "DetailLoader"]

LARGE_RECORD = 1 << 20
"""Records of at least this many bytes are decoded in a worker thread when the cursor
rests on them (about 10–20 ms of decoding per MB: smaller ones are read at once); a TCP
or UDP flow shows its first messages meanwhile (`FlowStore.preview`)."""
PREVIEW_AT_ONCE = 8 << 20
"""Records up to this many bytes are previewed on the UI thread: a preview reads the
first MB of a record, or all of one laid out otherwise (8 MB: about 10 ms); bigger ones
are previewed by the decoding worker, first."""

Show = Callable[[Flow | None, int | None], None]
"""Hands a flow to the panes (with its message count when it is a preview)."""


class DetailLoader:
    """Decides which flow the detail panes show, and when."""

    def __init__(self, screen: Screen[None], store: FlowStore, delay: float, show: Show) -> None:
        self.screen = screen
        """The screen whose timers and workers this uses."""
        self.store = store
        """Where flows are read and decoded."""
        self.delay = delay
        """Seconds the panes wait for the cursor to settle (0: follow at once)."""
        self.show = show
        """Called with the flow to show."""
        self.pending_id: str | None = None
        """The flow under the cursor."""
        self.decoding_id: str | None = None
        """The big flow being decoded in a worker."""
        self.shown_id: str | None = None
        """The flow the panes show."""
        self.shown: Flow | None = None
        self._timer: Timer | None = None

    def shown_flow(self, flow: Flow | None) -> bool:
        """Record that the panes show `flow`; True when it was already shown."""
        same = flow is not None and flow is self.shown and flow.id == self.shown_id
        self.shown, self.shown_id = flow, flow.id if flow else None
        return same

    def highlighted(self, flow_id: str | None) -> None:
        """The cursor moved: follow a cursor that was at rest at once (one key, or the
        first of a burst), then not before it rests again for `delay` seconds: holding
        a key costs only the list's changed lines, and the flows passed over are not
        even decoded."""
        self.pending_id = flow_id
        if self.delay <= 0:
            self.show_pending()
            return
        if self._timer is None:
            self.show_pending()
        else:
            self._timer.stop()
        self._timer = self.screen.set_timer(self.delay, self._trailing)

    def _trailing(self) -> None:
        self._timer = None
        if self.pending_id != self.shown_id:
            self.show_pending()

    def show_pending(self) -> None:
        """Show the flow under the cursor: at once if small or decoded, else its preview
        now and the whole from a worker."""
        flow_id = self.pending_id
        store = self.store
        size = store.record_size(flow_id) if flow_id is not None else 0
        if flow_id is None or size < LARGE_RECORD:
            self.show(store.get(flow_id) if flow_id is not None else None, None)
            return
        decoding = flow_id == self.decoding_id  # the panes follow when it is decoded
        if decoding and (self.shown_id == flow_id or size > self._at_once(flow_id)):
            return
        self.decoding_id = flow_id
        if size > self._at_once(flow_id):
            self._decode(flow_id, preview=True)
            return
        preview = self._preview(flow_id)
        if preview is not None:  # its first messages at once (again, if back to it)
            self.show(preview, self._pending(flow_id))
        if decoding:
            return
        # The whole once the preview's frame is painted (the decoding thread would hold
        # the interpreter while it is).
        if preview is None:
            self._decode(flow_id)
        else:
            self.screen.call_after_refresh(self._decode_after_preview, flow_id)

    def _at_once(self, flow_id: str) -> int:
        """The biggest record previewed on the UI thread: any HTTP record (its preview
        reads only the first MB of each body, in either format, whatever the record's
        size), else `PREVIEW_AT_ONCE`."""
        return 1 << 62 if self.store.summary_of(flow_id).type == "http" else PREVIEW_AT_ONCE

    def _preview(self, flow_id: str) -> Flow | None:
        """The store's preview of a big flow: a message flow's first messages, or an
        HTTP flow with its bodies cut to their first MB."""
        return self.store.preview(flow_id)

    def _pending(self, flow_id: str) -> int:
        """What a preview is shown with: its message count (0 for a plain HTTP flow)."""
        return self.store.summary_of(flow_id).messages or 0

    def _decode_after_preview(self, flow_id: str) -> None:
        if self.decoding_id != flow_id:
            return  # another big flow is being decoded
        if self.pending_id != flow_id:
            self.decoding_id = None  # left before it started: decoded on a next visit
            return
        self._decode(flow_id)

    def _decode(self, flow_id: str, preview: bool = False) -> None:
        self.screen.run_worker(
            lambda: self._decode_in_background(flow_id, preview),
            thread=True,
            exclusive=True,
            group="detail-decode",
            exit_on_error=False,
        )

    def _decode_in_background(self, flow_id: str, preview: bool) -> None:
        """Decode a big record off the UI thread (a 100 MB flow takes seconds), so keys
        are answered meanwhile, its preview first if asked; a newer one cancels waiting
        for this one."""
        worker = get_current_worker()
        store, app = self.store, self.screen.app
        first = self._preview(flow_id) if preview else None
        if first is not None and not worker.is_cancelled:
            app.call_from_thread(self._previewed, flow_id, first)
        flow = store.decode(flow_id)
        if not worker.is_cancelled:
            app.call_from_thread(self._decoded, flow_id, flow)

    def _previewed(self, flow_id: str, flow: Flow) -> None:
        if self.pending_id != flow_id or self.decoding_id != flow_id:
            return  # the cursor moved on
        if self.store.loaded(flow_id) is None:  # else a change decoded the whole meanwhile
            self.show(flow, self._pending(flow_id))

    def _decoded(self, flow_id: str, flow: Flow) -> None:
        if self.decoding_id == flow_id:
            self.decoding_id = None
        self.store.remember(flow_id, flow)
        if self.pending_id == flow_id:
            self.show_pending()  # in memory now: shown at once
