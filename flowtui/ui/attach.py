"""Attaching the inspector to a live proxy: the `LiveClient`'s events into the flow store.

Why a module of its own: the app stays about files and screens, and this is the one
place that knows how live events map onto the store. The client runs as an asyncio
task on the app's own event loop (an async worker), so its callback may touch the
store directly; the store's subscribers then post messages to the widgets, and nothing
ever waits on the socket. Commands go out through the same client and their effect
comes back as the proxy's ``flows/update``: the UI shows what the proxy did, not what
it asked for.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from flowtui.core import Flow
from flowtui.live.budget import CUT_KEY
from flowtui.live.client import MAX_MEMORY, CommandError, LiveClient, LiveEvent
from flowtui.live.endpoints import parse_endpoint, read_token_file
from flowtui.live.notes import is_incomplete
from flowtui.live.recording import is_fetchable
from flowtui.store import FlowStore

FRAME = 1 / 60
"""Seconds the store's updates are held to coalesce them (one update per flow per
frame, however many messages a busy flow gained meanwhile)."""

FREEZE_STEP = 4 * 1024 * 1024
"""Mirrored bytes after which what was received joins `gc.freeze()`'s permanent set."""

__all__ = ["FRAME", "Attachment", "CommandError", "capture_name", "health_style", "read_token"]


def read_token(path: str | Path) -> str:
    """The token in a token file: `OSError` if unreadable, `ValueError` if empty or if
    other users could read it or own it (see `read_token_file`)."""
    return read_token_file(path)


def capture_name(when: datetime) -> str:
    """The default file `w` proposes in attach mode, e.g. ``flowtui-live-20261120-120000.flows``."""
    return f"flowtui-live-{when:%Y%m%d-%H%M%S}.flows"


def health_style(health: str) -> str:
    """The status bar style of a connection health text."""
    if health.startswith("connected"):
        return "bold green"
    if health.startswith("refused"):
        return "bold red"
    if health.startswith("lost"):
        return "bold yellow"
    return "yellow"


class Attachment:
    """One live connection to a proxy, mirrored into `store`."""

    def __init__(
        self,
        address: str,
        store: FlowStore,
        *,
        token: str | None = None,
        on_health: Callable[[str], None] | None = None,
        backoff: tuple[float, float] = (0.2, 5.0),
        max_memory: int | None = None,
    ) -> None:
        self.address = str(parse_endpoint(address))
        """The proxy's socket, normalised (``unix:/path`` or ``tcp://host:port``)."""
        self.store = store
        """The app's flow store: live flows join it like loaded ones."""
        self.health = "connecting"
        """The connection's state as shown in the status bar."""
        self.on_health = on_health
        """Called with the new `health` when it changes."""
        self.client = LiveClient(
            address,
            token=token,
            on_event=self.apply,
            backoff=backoff,
            max_memory=MAX_MEMORY if max_memory is None else max_memory,
        )
        """The socket client (plain asyncio); it holds at most `max_memory` bytes of
        message content, cutting the oldest flows' contents first (see `live.budget`)."""
        self.saved: dict[str, int] = {}
        """The store revision of each flow as last saved (see `unsaved`)."""
        self._pending: dict[str, Flow | None] = {}
        """Flows changed since the last `flush`, in arrival order (None: removed)."""
        self._flush_handle: asyncio.TimerHandle | None = None
        self.flushes = 0
        """How many times the pending changes were applied to the store."""
        self._frozen_at = 0
        """What the mirror held at the last `gc.freeze()`."""

    async def run(self) -> None:
        """Stay attached (reconnecting with back-off) until `stop()` or a refusal."""
        try:
            await self.client.run()
        finally:
            self.client.stop()
            self.flush()

    def stop(self) -> None:
        """Detach."""
        self.client.stop()

    async def command(self, kind: str, **args: Any) -> str | None:
        """Send a command; None when the proxy accepted it, else the error to show."""
        try:
            await self.client.command(kind, **args)
        except CommandError as e:
            return f"{kind}: {e}"
        return None

    def mark_saved(self, revisions: dict[str, int]) -> None:
        """Remember what a successful save wrote: flow ids and their store revisions."""
        self.saved = dict(revisions)

    def unsaved(self) -> int:
        """How many captured flows are new or changed since the last save (O(n), on quit).

        The proxy owns live flows, so mark and comment are not local "changes"; but what
        was captured exists only in this inspector until it is saved, so quitting asks.
        """
        self.flush()
        saved, snap = self.saved, self.store.snapshot()
        return sum(
            1 for i, rev in zip(snap.ids, snap.revisions, strict=True) if saved.get(i) != rev
        )

    def incomplete_warning(self, flows: Iterable[Any], fetch_key: str | None = None) -> str | None:
        """What `w` warns of before saving ``flows``: how many of them lack part of
        their content (dropped by the proxy, or cut to `max_memory` here), and where the
        proxy recorded them whole, if it says; with ``fetch_key`` (the key of
        ``flow.fetch``), how to fetch them from there first when the file is here. None
        when every flow is whole."""
        dropped = cut = fetchable = 0
        for flow in flows:
            metadata = getattr(flow, "metadata", None)
            if not isinstance(metadata, dict):
                continue
            if is_incomplete(flow):
                dropped += 1
            elif isinstance(metadata.get(CUT_KEY), dict):
                cut += 1
            else:
                continue
            fetchable += 1 if isinstance(flow, Flow) and is_fetchable(flow) else 0
        if not dropped and not cut:
            return None
        parts = []
        if dropped:
            parts.append(f"{dropped} incomplete (the proxy dropped part of them)")
        if cut:
            parts.append(f"{cut} cut to the inspector's --max-memory")
        text = "Of the flows to save, " + " and ".join(parts) + "; they are saved as shown"
        record = self.client.record
        if not record:
            return text + "."
        text += f". The full flows are in the proxy's recording {record}."
        if fetch_key and fetchable and Path(record).is_file():
            text += (
                f" To save them whole, fetch them from there first: {fetch_key} on a flow, "
                'or "Fetch every missing part" in the command palette (ctrl+p).'
            )
        return text

    def apply(self, event: LiveEvent) -> None:
        """Mirror one client event into the store (or the health).

        Flow changes are held for a frame (`FRAME`) and applied together by `flush`: a
        flow that gained a thousand messages meanwhile is updated once, so the UI's work
        per frame follows the flows that changed, not the messages that arrived."""
        if event.kind == "status":
            self.health = event.status.replace("refused: refused by peer: ", "refused: ")
            if self.on_health is not None:
                self.on_health(self.health)
            return
        pending = self._pending
        if event.kind == "remove":
            pending[event.flow_id] = None
        else:
            # reset, add, update: a known id updates that flow in place (a resync keeps
            # every row shown); the client keeps flows the proxy forgot.
            for flow in event.flows:
                pending[flow.id] = flow
        if self._flush_handle is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on a loop (a direct call): apply now
                self.flush()
                return
            self._flush_handle = loop.call_later(FRAME, self.flush)

    def flush(self) -> None:
        """Apply the pending changes to the store: one update per changed flow, the new
        flows as one batch (in arrival order)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        pending, self._pending = self._pending, {}
        if not pending:
            return
        self.flushes += 1
        store = self.store
        added: list[Flow] = []
        for flow_id, flow in pending.items():
            if flow is None:
                if added:
                    store.add(added)
                    added = []
                if flow_id in store:
                    store.remove(flow_id)
            elif flow_id in store:
                store.update(flow)
            else:
                added.append(flow)
        if added:
            store.add(added)
        # A flood brings hundreds of thousands of long-lived messages: full collections
        # would rescan them all, stopping the UI for half a second at a time. Received
        # flows join the frozen set as the app's loaded index does (unfrozen at exit).
        held = self.client.held
        if held - self._frozen_at >= FREEZE_STEP:
            gc.collect(1)  # the young garbage first (cheap): only what lives is frozen
            gc.freeze()
            self._frozen_at = held
        elif held < self._frozen_at:
            self._frozen_at = held
