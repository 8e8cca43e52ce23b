"""The session: what was opened, what changed since, what deleting undoes, what saving writes.

Why apart from the app: these are facts about flows and files (which capture each flow
came from, in which format, what a save would change and where it goes), not about
screens; keeping them free of Textual lets the app stay about workers and dialogs and
lets tests read the session's answers directly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from flowtui.core import Flow
from flowtui.io import format_for_path
from flowtui.io.spool import is_stream
from flowtui.store import FlowStore, LazyFlow, Removed
from flowtui.ui.attach import Attachment, capture_name
from flowtui.ui.messages import LoadFinished, LoadProgress

__all__ = ["SAVE_CHOICES", "UNDOABLE_CLEAR", "SaveChoice", "Selection", "Session"]

SaveChoice = Literal["shown", "marked", "all"]
"""Which flows `w` saves: the listed ones (mitmproxy's `w`), the marked ones, or all."""
SAVE_CHOICES: tuple[SaveChoice, ...] = ("shown", "marked", "all")
UNDOABLE_CLEAR = 20_000
"""Up to this many flows, clearing the list removes them one by one (`U` undoes it)."""


def plural(n: int, what: str) -> str:
    """``1 flow``, ``3 flows``."""
    return f"{n:,} {what}{'s' if n != 1 else ''}"


@dataclass(frozen=True, slots=True)
class Selection:
    """The flows a save writes, taken at one moment."""

    choice: SaveChoice
    keys: list[str]
    items: list[Flow | LazyFlow]
    revisions: dict[str, int]
    everything: bool
    """Every flow of the session (a save of it means nothing is unsaved after)."""

    def describe(self) -> str:
        """``3 shown flows`` / ``2 marked flows`` / ``all 30 flows``."""
        if self.choice == "all":
            return f"all {plural(len(self.keys), 'flow')}"
        return plural(len(self.keys), f"{self.choice} flow")


class Session:
    """The flows of one run of the app and the files behind them."""

    def __init__(
        self, paths: Sequence[Path], store: FlowStore, live: Attachment | None = None
    ) -> None:
        self.paths = [Path(p) for p in paths]
        """The captures opened, in order (`L` adds to them)."""
        self.store = store
        """Every flow of the session."""
        self.live = live
        """The live proxy connection, or None for files."""
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
        """Where `w` proposes to save: the opened file; with several, a new name; never
        a pipe the capture was read from."""
        self._noted = 0

    def _first_save_path(self) -> Path | None:
        files = [p for p in self.paths if not is_stream(p)]
        if not files:
            return None
        if len(self.paths) > 1:  # the merged flows of several sources: none of them
            first = files[0]
            return first.with_name(f"{first.stem}-merged{first.suffix or '.flows'}")
        return files[0]

    def add_path(self, path: Path) -> None:
        """A capture loaded into the session later (`L`): saving proposes a merged name."""
        self.paths.append(Path(path))
        self.save_path = self._first_save_path()

    @property
    def changes(self) -> int:
        """What a save would change (quit asks when non-zero): flows changed, added,
        deleted or moved since loading or the last save; a mark set then unset, or a
        flow reverted, is none. Attached to a proxy: the changes made here."""
        return self._noted if self.live is not None else self.store.unsaved_count

    def note_change(self) -> None:
        """Count one change made here (what `changes` says when attached to a proxy;
        for files the store knows what a save would change)."""
        self._noted += 1

    # -- loading --------------------------------------------------------------------------

    def finished(self, message: LoadFinished) -> None:
        """Record what loading one file gave."""
        self.progress.pop(message.path, None)
        self.loaded[message.path] = message.flows
        if message.format:
            self.formats[message.path] = message.format
        if message.error:
            self.problems[message.path] = message.error

    def load_state(self) -> str:
        """The status bar's loading text."""
        if self.progress:
            parts = []
            for p in self.progress.values():
                pct = f"{100 * p.done // p.total}%" if p.total else "…"
                parts.append(f"loading {Path(p.path).name} {pct} ({p.flows:,} flows)")
            return "; ".join(parts)
        total = sum(self.loaded.values())
        return f"loaded {total:,} flows" if self.loaded else ""

    # -- delete, undelete, clear ----------------------------------------------------------

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

    def shown_keys(self) -> list[str]:
        """The keys of the listed flows, in list order."""
        view = self.store.view
        return [view.id_at(i) for i in range(len(view))]

    def clear(self) -> int:
        """Remove every flow from the session (`z`, as mitmproxy's "clear flow list").
        Up to `UNDOABLE_CLEAR` flows, `U` puts them back one by one, last first; more
        than that, the session starts afresh (one reset, not one removal each).
        Returns how many were removed."""
        keys = self.store.keys_in_order()
        if len(keys) > UNDOABLE_CLEAR:
            self.store.clear()
            self.deleted.clear()
        else:
            self.deleted.extend(self.store.detach(key) for key in keys)
        if keys:
            self.note_change()
        return len(keys)

    # -- saving ---------------------------------------------------------------------------

    def save_format(self, path: Path) -> str:
        """The format to save `path` in: the format it was read in, else the first file's."""
        known = self.formats.get(str(path))
        if known in ("mitmproxy", "flowtui"):
            return known
        for fmt in self.formats.values():
            if fmt in ("mitmproxy", "flowtui"):
                return fmt
        return format_for_path(path).value

    def proposed_path(self, now: datetime) -> str:
        """The path `w` proposes: the opened file, a live capture name, or a default."""
        if self.save_path:
            return str(self.save_path)
        if self.live is not None:
            return capture_name(now)
        return "flows.flows"

    def sources(self) -> dict[str, int]:
        """The opened files (real paths) and how many flows each gave."""
        return {os.path.realpath(p): self.loaded.get(str(p), 0) for p in self.paths}

    def counts(self) -> dict[SaveChoice, int]:
        """How many flows each save choice would write."""
        return {
            "shown": len(self.store.view),
            "marked": self.store.marked_count,
            "all": len(self.store),
        }

    def select(self, choice: SaveChoice) -> Selection:
        """The flows `choice` saves, in session order (untouched lazy ones as records)."""
        snap = self.store.snapshot()
        store = self.store
        if choice == "all":
            wanted = None
        elif choice == "shown":
            wanted = set(self.shown_keys())
        else:
            wanted = {k for k in snap.ids if store.summary_of(k).marked}
        rows = [
            (key, rev, item)
            for key, rev, item in zip(snap.ids, snap.revisions, snap.items, strict=True)
            if wanted is None or key in wanted
        ]
        return Selection(
            choice,
            [r[0] for r in rows],
            [r[2] for r in rows],
            {r[0]: r[1] for r in rows},
            everything=len(rows) == len(snap),
        )

    def saved(self, path: Path, revisions: dict[str, int] | None) -> None:
        """A save of every flow succeeded: nothing is unsaved up to `revisions`.

        A save of part of the session (`revisions` None) leaves the session's changes
        counted: the other flows are still unsaved."""
        if revisions is not None:
            self._noted = 0
            self.store.mark_saved(revisions)
            if self.live is not None:
                self.live.mark_saved(revisions)
            self.save_path = path
        self.formats.setdefault(str(path), self.save_format(path))

    # -- quitting -------------------------------------------------------------------------

    def quit_summary(self) -> str | None:
        """What quitting would lose, in words; None when nothing would be."""
        captured = self.live.unsaved() if self.live is not None else 0
        n = self.changes
        if n == 0 and captured == 0:
            return None
        parts = []
        if captured:
            parts.append(
                f"{plural(captured, 'captured flow')} {'is' if captured == 1 else 'are'} not saved."
            )
        if n:
            kinds = self.store.unsaved() if self.live is None else {}
            said = ", ".join(plural(v, "flow") + f" {k}" for k, v in kinds.items() if v)
            changes = plural(n, "unsaved change")
            parts.append(f"{changes}: {said}." if said else f"{changes}.")
        return " ".join(parts)
