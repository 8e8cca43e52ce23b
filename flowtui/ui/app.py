"""The flowtui application and `make_app()`, the one factory for the CLI, tests and screenshots.

The app owns the flow store, loads the captures in a thread worker (flows show as they
arrive), saves through `flowtui.io` in a thread worker, and keeps count of unsaved
changes so quitting can ask first. Widgets live on `MainScreen`.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import get_current_worker

from flowtui.core import Flow
from flowtui.io import FlowWriteException, format_for_path, save_flows
from flowtui.io.spool import is_stream
from flowtui.store import FlowStore, LazyFlow, Removed, StoreEvent, StoreSnapshot
from flowtui.ui.attach import Attachment, capture_name
from flowtui.ui.loading import load_file
from flowtui.ui.messages import FlowsLoaded, LoadFinished, LoadProgress, SaveFinished
from flowtui.ui.safe_text import clean, notify
from flowtui.ui.screens.dialogs import QuitChoice, QuitDialog, SaveDialog
from flowtui.ui.screens.main import MainScreen
from flowtui.ui.screens.screenshot import (
    ScreenshotDialog,
    default_screenshot_path,
    save_screenshot,
)

__all__ = ["THREADED_FILTER", "FlowtuiApp", "make_app"]

THREADED_FILTER = 5000
"""From this many flows on, a filter that needs the flows is matched in a worker thread."""
CONVERT_BYTES = 200 * 1024 * 1024
CONVERT_FLOWS = 50_000
"""From this size or flow count on, the UI suggests converting a mitmproxy capture."""


class FlowtuiApp(App[int]):
    """Opens captures and lets the user read and steer their flows."""

    CSS_PATH = "flowtui.tcss"
    TITLE = "flowtui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit"),
    ]

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        now: Callable[[], datetime] | None = None,
        tz: tzinfo | None = None,
        detail_delay: float = 0.05,
        store: FlowStore | None = None,
        attach: str | None = None,
        token: str | None = None,
        max_memory: int | None = None,
    ) -> None:
        super().__init__()
        self.paths = [Path(p) for p in paths]
        """The captures to open, in order."""
        self.now = now
        """The clock for "expired" checks (injected in tests for stable pictures)."""
        self.tz = tz
        """The zone times are shown in (local when None)."""
        self.detail_delay = detail_delay
        """Seconds the detail panes wait for the cursor to settle (0: follow at once)."""
        self.store = store or FlowStore()
        """Every flow of the session."""
        if store is not None and attach is None:  # its flows are what was opened
            snap = store.snapshot()
            store.mark_saved(dict(zip(snap.ids, snap.revisions, strict=True)))
        self._noted = 0
        self.filter_text = ""
        """The view filter as typed."""
        self.formats: dict[str, str] = {}
        """The format each opened file was read in (`mitmproxy`, `flowtui`, `empty`)."""
        self.problems: dict[str, str] = {}
        """The load problem of each file that had one."""
        self.loaded: dict[str, int] = {}
        """How many flows each finished file gave."""
        self.progress: dict[str, LoadProgress] = {}
        """The latest progress of each file still loading."""
        self.deleted: list[Removed] = []
        """Deleted flows, as the store took them out, for `undelete`."""
        self.save_path: Path | None = self._first_save_path()
        """Where `w` proposes to save: the opened file; with several, a new name; never a
        pipe the capture was read from."""
        self.attachment = (
            Attachment(
                attach,
                self.store,
                token=token,
                on_health=self._health_changed,
                max_memory=max_memory,
            )
            if attach
            else None
        )
        """The live proxy connection (``flowtui attach``), or None for files."""

    def _first_save_path(self) -> Path | None:
        files = [p for p in self.paths if not is_stream(p)]
        if not files:
            return None
        if len(self.paths) > 1:  # the merged flows of several sources: none of them
            first = files[0]
            return first.with_name(f"{first.stem}-merged{first.suffix or '.flows'}")
        return files[0]

    @property
    def changes(self) -> int:
        """What a save would change (quit asks when non-zero): flows changed, added,
        deleted or moved since loading or the last save; a mark set then unset, or a
        flow reverted, is none. Attached to a proxy: the changes made here."""
        return self._noted if self.attachment is not None else self.store.unsaved_count

    @property
    def file_names(self) -> list[str]:
        """The opened files, as given."""
        return [str(p) for p in self.paths]

    @property
    def main(self) -> MainScreen:
        """The main screen (always at the bottom of the stack)."""
        screen = self.screen_stack[0] if self.screen_stack else None
        if not isinstance(screen, MainScreen):
            raise RuntimeError("the main screen is not installed")
        return screen

    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette commands, with a Screenshot that asks where to save."""
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":
                yield SystemCommand(
                    "Screenshot",
                    "Save an SVG screenshot of the current screen (asks where)",
                    self.action_screenshot_to,
                )
            else:
                yield command

    def action_screenshot_to(self) -> None:
        """Ask for a path, then save the screen below the dialog there."""

        def done(path: Path | None) -> None:
            if path is not None:
                # After the dialog has gone, so the picture is of the screen below it.
                self.set_timer(0.1, lambda: save_screenshot(self, path))

        self.push_screen(ScreenshotDialog(default_screenshot_path()), done)

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.store.subscribe(self._store_changed)
        if self.paths:
            self.load(self.paths)
        if self.attachment is not None:
            self._attached()

    def on_unmount(self) -> None:
        """Give what `gc.freeze()` kept back to the collector."""
        gc.unfreeze()

    def _store_changed(self, event: StoreEvent) -> None:
        self.call_later(self._refresh_status)

    def _refresh_status(self) -> None:
        if not self.screen_stack or not isinstance(self.screen_stack[0], MainScreen):
            return
        with contextlib.suppress(NoMatches):  # the screen is being torn down
            self.main.refresh_status()

    # -- attached to a live proxy ---------------------------------------------------------

    @work(exclusive=True, group="live", name="live")
    async def _attached(self) -> None:
        """Run the live client on the app's loop until the app ends (or it is refused)."""
        if self.attachment is not None:
            await self.attachment.run()

    def _health_changed(self, health: str) -> None:
        self.call_later(self._refresh_status)

    def live_command(self, kind: str, **args: Any) -> None:
        """Send a command to the proxy; its effect shows when the proxy's update arrives."""
        self._live_command(kind, args)

    @work(group="command", name="command")
    async def _live_command(self, kind: str, args: dict[str, Any]) -> None:
        if self.attachment is None:
            return
        error = await self.attachment.command(kind, **args)
        if error is not None:
            notify(
                self,
                clean(error, max_len=500),
                title=clean("The proxy refused"),
                severity="error",
                timeout=8,
            )

    # -- loading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", name="load")
    def load(self, paths: list[Path]) -> None:
        """Read each capture in turn, posting flows in batches (runs in a thread)."""
        worker = get_current_worker()
        for path in paths:
            if worker.is_cancelled:
                return
            load_file(path, self.post_message, lambda: worker.is_cancelled)

    def on_flows_loaded(self, message: FlowsLoaded) -> None:
        self.store.add_lazy((e.id, e.summary, e.ref) for e in message.entries)
        # Each batch joins the long-lived index at once (see `on_load_finished`): while a
        # large capture is indexed, full collections would otherwise rescan everything
        # indexed so far, holding the interpreter for about a second per 100,000 flows.
        gc.freeze()

    def on_load_progress(self, message: LoadProgress) -> None:
        self.progress[message.path] = message
        self._show_load_state()

    def on_load_finished(self, message: LoadFinished) -> None:
        # The index (a summary per flow: a million objects at 100,000 flows) lives as
        # long as the session: keep it out of the collector's full passes, which
        # otherwise scan it all and stopped the UI for 100-250 ms a dozen times while
        # paging through a 10,000-flow capture. Unfrozen when the app ends.
        gc.freeze()
        self.progress.pop(message.path, None)
        self.loaded[message.path] = message.flows
        if message.format:
            self.formats[message.path] = message.format
        if message.error:
            self.problems[message.path] = message.error
            read = f"{message.flows} flow{'s' if message.flows != 1 else ''} read"
            notify(
                self,
                clean(f"{message.error} ({read})", max_len=500),
                title=clean("Could not read the whole file"),
                severity="error",
                timeout=10,
            )
        elif message.format == "mitmproxy" and self._large(message):
            name = Path(message.path)
            notify(
                self,
                clean(
                    f"Large capture: `flowtui convert {name} {name.with_suffix('.flowtui')}` "
                    "makes a file that opens faster: it stores each flow's summary."
                ),
                title=clean("Tip"),
                timeout=10,
            )
        self._show_load_state()

    @staticmethod
    def _large(message: LoadFinished) -> bool:
        try:
            size = Path(message.path).stat().st_size
        except OSError:
            size = 0
        return size >= CONVERT_BYTES or message.flows >= CONVERT_FLOWS

    def _show_load_state(self) -> None:
        if self.progress:
            parts = []
            for p in self.progress.values():
                pct = f"{100 * p.done // p.total}%" if p.total else "…"
                parts.append(f"loading {Path(p.path).name} {pct} ({p.flows:,} flows)")
            state = "; ".join(parts)
        else:
            total = sum(self.loaded.values())
            state = f"loaded {total:,} flows" if self.loaded else ""
        problem = "; ".join(self.problems.values())
        self.main.status.set(loading=state, problem=problem)

    # -- the view filter ------------------------------------------------------------------

    def apply_filter(self, text: str, predicate: Callable[[Flow], bool] | None) -> None:
        """Filter the view; over `THREADED_FILTER` flows the matching runs in a worker."""
        self.filter_text = text
        self.workers.cancel_group(self, "filter")
        on_summaries = getattr(predicate, "on_summaries", False)
        if predicate is None or on_summaries or len(self.store) < THREADED_FILTER:
            self.store.set_filter(predicate)
            self.main.refresh_status()
            return
        self.main.status.set(filter=f"{text} (filtering…)")
        self._filter_worker(text, predicate, self.store.snapshot())

    @work(thread=True, exclusive=True, group="filter", name="filter")
    def _filter_worker(
        self,
        text: str,
        predicate: Callable[[Flow], bool],
        snapshot: StoreSnapshot,
    ) -> None:
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
                self.call_from_thread(self._filter_progress, text, pct)
        self.call_from_thread(self._filter_done, text, predicate, results)

    def _filter_progress(self, text: str, pct: int) -> None:
        if text == self.filter_text:
            self.main.status.set(filter=f"{text} (filtering… {pct}%)")

    def _filter_done(
        self,
        text: str,
        predicate: Callable[[Flow], bool],
        results: dict[str, tuple[int, bool]],
    ) -> None:
        if text != self.filter_text:
            return  # the user set another filter meanwhile
        # Flows changed (or added) while the worker ran are checked again by the store.
        store = self.store
        known = {i: ok for i, (rev, ok) in results.items() if store.revision(i) == rev}
        store.set_filter(predicate, known)
        self.main.refresh_status()

    # -- changes, delete ------------------------------------------------------------------

    def note_change(self) -> None:
        """Count one change made here (what `changes` says when attached to a proxy;
        for files the store knows what a save would change)."""
        self._noted += 1

    def delete_flow(self, flow: Flow) -> None:
        """Remove a flow from the store, remembering it for `undelete_flow`."""
        key = self.store.key_of(flow)
        if key is None:
            return
        self.deleted.append(self.store.detach(key))
        self.note_change()

    def undelete_flow(self) -> str | None:
        """Put the last deleted flow back where it was, unchanged and under its number;
        returns its key (None if nothing was deleted)."""
        while self.deleted:
            removed = self.deleted.pop()
            if removed.key not in self.store:  # else the same flow came back (live)
                self.note_change()
                return self.store.restore(removed)
        return None

    # -- saving -------------------------------------------------------------------------

    def save_format(self, path: Path) -> str:
        """The format to save `path` in: the format it was read in, else the first file's."""
        known = self.formats.get(str(path))
        if known in ("mitmproxy", "flowtui"):
            return known
        for fmt in self.formats.values():
            if fmt in ("mitmproxy", "flowtui"):
                return fmt
        return format_for_path(path).value

    def ask_save(self, then_quit: bool = False) -> None:
        """Ask for a path (prefilled with the opened file) and save there."""
        if self.save_path:
            path = str(self.save_path)
        elif self.attachment is not None:
            path = capture_name((self.now or datetime.now)())
        else:
            path = "flows.flows"

        def done(target: Path | None) -> None:
            if target is not None:
                self.save(target, then_quit=then_quit)

        fmt = self.save_format(Path(path))
        sources = {os.path.realpath(p): self.loaded.get(str(p), 0) for p in self.paths}
        self.push_screen(SaveDialog(path, len(self.store), fmt, sources), done)

    def save(self, path: Path, *, then_quit: bool = False) -> None:
        """Save every flow (shown or filtered out, not deleted) to `path` atomically;
        untouched lazy flows are copied from their capture byte for byte."""
        snap = self.store.snapshot()
        revisions = dict(zip(snap.ids, snap.revisions, strict=True))
        self._save(path, snap.items, self.save_format(path), then_quit, revisions)

    @work(thread=True, exclusive=True, group="save", name="save")
    def _save(
        self,
        path: Path,
        flows: list[Flow | LazyFlow],
        fmt: str,
        then_quit: bool,
        revisions: dict[str, int] | None,
    ) -> None:
        try:
            count = save_flows(path, flows, format=fmt)
        except FlowWriteException as e:
            self.post_message(SaveFinished(str(path), 0, str(e), then_quit))
        except OSError as e:
            self.post_message(SaveFinished(str(path), 0, f"{path}: {e}", then_quit))
        else:
            self.post_message(SaveFinished(str(path), count, None, then_quit, revisions))

    def on_save_finished(self, message: SaveFinished) -> None:
        if message.error:
            notify(
                self,
                clean(message.error, max_len=500),
                title=clean("Not saved"),
                severity="error",
                timeout=10,
            )
            return
        self._noted = 0
        if message.revisions is not None:
            self.store.mark_saved(message.revisions)
            if self.attachment is not None:
                self.attachment.mark_saved(message.revisions)
        self.save_path = Path(message.path)
        self.formats.setdefault(message.path, self.save_format(Path(message.path)))
        notify(self, clean(f"Saved {message.count} flows to {message.path}"))
        self.main.refresh_status()
        if message.then_quit:
            self.exit(0)

    # -- quitting -------------------------------------------------------------------------

    def request_quit(self) -> None:
        """Quit, asking first (save / discard / cancel) when there are unsaved changes.

        Attached to a proxy, flows captured (or changed) since the last save count too.
        """
        captured = self.attachment.unsaved() if self.attachment is not None else 0
        if self.changes == 0 and captured == 0:
            self.exit(0)
            return

        def done(choice: QuitChoice | None) -> None:
            if choice == "save":
                self.ask_save(then_quit=True)
            elif choice == "discard":
                self.exit(0)

        n = self.changes
        parts = []
        if captured:
            parts.append(
                f"{captured} captured flow{'s' if captured != 1 else ''} "
                f"{'is' if captured == 1 else 'are'} not saved."
            )
        if n:
            kinds = self.store.unsaved() if self.attachment is None else {}
            said = ", ".join(f"{v} flow{'s' if v != 1 else ''} {k}" for k, v in kinds.items() if v)
            changes = f"{n} unsaved change{'s' if n != 1 else ''}"
            parts.append(f"{changes}: {said}." if said else f"{changes}.")
        summary = " ".join(parts)
        self.push_screen(QuitDialog(summary), done)

    async def action_quit(self) -> None:
        if isinstance(self.screen, QuitDialog):
            return
        self.request_quit()


make_app = FlowtuiApp
"""The factory the CLI, the tests and the screenshot script share: the app's constructor.

With `attach` (a live socket address, and its `token` for TCP) the app opens with no
files and mirrors the proxy's flows.
"""
