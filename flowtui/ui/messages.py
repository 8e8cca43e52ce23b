"""App-level messages: small dataclasses posted by the loader thread and the store.

Attributes go down, messages come up. The loader runs in a thread and only ever posts
these (``post_message`` is thread-safe); the store is touched on the UI thread alone.
High-rate messages define ``can_replace`` so a burst collapses into the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from flowtui.io.lazy import IndexEntry
from flowtui.store import StoreEvent

__all__ = [
    "CommandRun",
    "FlowsLoaded",
    "LoadFinished",
    "LoadProgress",
    "SaveFinished",
    "StoreChanged",
]


@dataclass
class FlowsLoaded(Message):
    """A batch of flows indexed in `path`, to add to the store in order."""

    path: str
    """The file the flows came from."""
    entries: list[IndexEntry] = field(default_factory=list)
    """The flows' index entries (id, summary, record), in file order."""


@dataclass
class LoadProgress(Message):
    """How far the loader got in `path` (bytes read out of the file size)."""

    path: str
    """The file being read."""
    done: int
    """Bytes read so far."""
    total: int
    """The file's size in bytes (0 if unknown)."""
    flows: int
    """Flows read from this file so far."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LoadProgress) and message.path == self.path


@dataclass
class LoadFinished(Message):
    """`path` is done: `flows` were read, and `error` says why reading stopped early."""

    path: str
    """The file that was read."""
    flows: int
    """How many flows were read from it."""
    error: str | None = None
    """A one-line message (file, flow index, byte offset, reason) or None."""
    format: str | None = None
    """The detected capture format (`mitmproxy`, `flowtui`, `empty`) if known."""


@dataclass
class StoreChanged(Message):
    """The flow store announced a change (wraps the store's plain callback)."""

    event: StoreEvent
    """What changed."""


@dataclass
class SaveFinished(Message):
    """A save worker is done: `count` flows written to `path`, or `error`."""

    path: str
    """The target file."""
    count: int
    """How many flows were written."""
    error: str | None = None
    """A one-line message if the save failed (the old file is untouched)."""
    then_quit: bool = False
    """Quit after a successful save (the quit dialog's "save")."""
    revisions: dict[str, int] | None = None
    """Each saved flow's store revision at the time of saving (attach mode), else None."""
    what: str = ""
    """Which flows were saved, in words (``3 shown flows``); "" for all of them."""


@dataclass
class CommandRun(Message):
    """A command of `ui.commands` was run by id (the palette runs them so)."""

    command_id: str
    """The command's id."""
