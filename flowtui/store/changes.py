"""What a save would change: the `[+]` sign and the quit question's numbers.

A flow counts once, as one of: *changed* (its state differs from the one loaded or last
saved, a NaN equal to a NaN, its backup left out), *added* (in the store but not in
the file), *deleted* (in the file, no longer in the store), or *moved* (put back
elsewhere than it was). Marks and comments are changes like any other; a change undone
is no change. `ChangeTracker` owns these sets and the saved state it compares with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from flowtui.core.flow import Flow

__all__ = ["ChangeTracker"]


def _same_state(a: Any, b: Any) -> bool:
    """Equal states, a NaN equal to a NaN (a timestamp may be one)."""
    if a == b:
        return True
    if isinstance(a, float) and isinstance(b, float):
        return math.isnan(a) and math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same_state(x, y) for x, y in zip(a, b, strict=True))
    return False


def _content(flow: Flow) -> dict[str, Any]:
    """What a save writes of `flow`, but for its backup (a copy taken before a change
    that was then undone is no change of its own)."""
    state: dict[str, Any] = dict(flow.get_state())
    state.pop("backup", None)
    return state


class ChangeTracker:
    """The differences between the store and the file it was loaded from or saved to."""

    def __init__(self) -> None:
        self._base: set[str] = set()
        """Keys of the flows in the file (loaded, or written by the last save)."""
        self._base_state: dict[str, dict[str, Any] | None] = {}
        """The content in the file of those flows compared so far (None: unknown)."""
        self._changed: set[str] = set()
        self._added: set[str] = set()
        self._missing: set[str] = set()
        self._moved: set[str] = set()

    @property
    def count(self) -> int:
        """How many differences a save would write."""
        return len(self._changed) + len(self._added) + len(self._missing) + len(self._moved)

    def by_kind(self) -> dict[str, int]:
        """`count` by kind: changed, added, deleted, moved."""
        return {
            "changed": len(self._changed),
            "added": len(self._added),
            "deleted": len(self._missing),
            "moved": len(self._moved),
        }

    def in_file(self, key: str) -> bool:
        """True if the file holds a flow under `key` (so a new flow takes another key)."""
        return key in self._base

    def is_changed(self, key: str) -> bool:
        return key in self._changed

    # -- what happened ----------------------------------------------------------------------

    def loaded(self, key: str) -> None:
        """A flow read from the file: unchanged."""
        self._base.add(key)

    def added(self, key: str) -> None:
        """A flow made here (a live flow, a duplicate): not in the file."""
        self._added.add(key)

    def updated(self, key: str, flow: Flow, base: Callable[[], Flow | None]) -> None:
        """The flow under `key` changed: compare it with the file's (`base` reads that
        flow from its record the first time, None if there is none)."""
        if key not in self._base:
            return  # added since: counted as added
        if key not in self._base_state:
            try:
                loaded = base()
                self._base_state[key] = None if loaded is None else _content(loaded)
            except Exception:  # its record went bad: count the flow as changed
                self._base_state[key] = None
        saved = self._base_state[key]
        if saved is not None and _same_state(_content(flow), saved):
            self._changed.discard(key)
        else:
            self._changed.add(key)

    def removed(self, key: str) -> None:
        self._changed.discard(key)
        self._moved.discard(key)
        if key in self._base:
            self._missing.add(key)
        else:
            self._added.discard(key)

    def restored(self, key: str, *, moved: bool, changed: bool) -> None:
        """A removed flow is back (`moved`: elsewhere than it was; `changed`: it differed
        from the file's when it was removed)."""
        if key in self._base:
            self._missing.discard(key)
            if moved:
                self._moved.add(key)
            if changed:
                self._changed.add(key)
        else:
            self._added.add(key)

    def saved(
        self,
        revisions: Mapping[str, int],
        present: Callable[[str], bool],
        revision: Callable[[str], int],
        resident: Callable[[str], Flow | None],
    ) -> None:
        """A save wrote the flows keyed in `revisions` at those revisions: they are now
        what counts as unchanged (flows changed since the save stay counted)."""
        for key in list(self._base):
            if key not in revisions:  # deleted before the save: not in the file
                self._base.discard(key)
                self._base_state.pop(key, None)
                self._missing.discard(key)
                self._changed.discard(key)
                self._moved.discard(key)
                if present(key):  # put back since: not in the file either
                    self._added.add(key)
        for key, rev in revisions.items():
            self._base.add(key)
            if not present(key):  # deleted after the save started: in the file
                self._missing.add(key)
                continue
            self._added.discard(key)
            self._moved.discard(key)
            flow = resident(key)
            if revision(key) != rev:
                self._base_state.pop(key, None)
                self._changed.add(key)
            elif flow is not None:
                self._base_state[key] = _content(flow)
                self._changed.discard(key)
            else:
                self._changed.discard(key)

    def clear(self) -> None:
        self._base_state.clear()
        for keys in (self._base, self._changed, self._added, self._missing, self._moved):
            keys.clear()
