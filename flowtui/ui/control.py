"""Acting on flows: one interface, a local and a live implementation.

Why: each action of the main screen used to repeat "live or local, read-only check,
backup, update". The screen now asks a `FlowControl`; `LocalControl` calls the model's
own methods on flows read from files (a backup first, so `V` undoes it), and
`LiveControl` sends the command to the proxy, whose ``flows/update`` then changes the
row. Both refuse unreadable records the same way. No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from flowtui.core import ControlException, Error, Flow, UnknownFlow
from flowtui.live.held import held_changes
from flowtui.live.notes import detached_reason
from flowtui.store import FlowStore

__all__ = ["FlowControl", "LiveControl", "LocalControl", "Said"]


@dataclass(frozen=True, slots=True)
class Said:
    """What an action tells the user instead of (or after) acting."""

    text: str
    severity: str = "warning"


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


class FlowControl(Protocol):
    """What the screens do to flows; each returns what to tell the user, or None."""

    def mark(self, flow: Flow, marker: str) -> Said | None: ...
    def unmark_all(self) -> Said | None: ...
    def comment(self, flow: Flow, text: str) -> Said | None: ...
    def intercept(self, flow: Flow) -> Said | None: ...
    def resume(self, flow: Flow) -> Said | None: ...
    def resume_all(self) -> Said | None: ...
    def kill(self, flow: Flow) -> Said | None: ...
    def revert(self, flow: Flow) -> Said | None: ...


def read_only(flow: Flow, action: str) -> Said | None:
    """The refusal for an unreadable record, which is kept as it was read."""
    if isinstance(flow, UnknownFlow):
        return Said(f"Cannot {action}: unreadable records are kept read-only.")
    return None


class _Shared:
    """The checks and the local revert both implementations share."""

    def __init__(self, store: FlowStore, note_change: Callable[[], None]) -> None:
        self.store = store
        """The session's flows."""
        self.note_change = note_change
        """Counts one change made here."""

    def _marked_ids(self) -> list[str]:
        store = self.store
        return [key for key in store.keys_in_order() if store.summary_of(key).marked]

    def revert(self, flow: Flow) -> Said | None:
        """Back to the backup (local in both modes: the proxy keeps no backups)."""
        if not flow.modified():
            return Said("Nothing to revert: this flow has no changes.", "information")
        flow.revert()
        self.note_change()
        self.store.update(flow)
        return None

    @staticmethod
    def _not_intercepted(flow: Flow) -> Said | None:
        if not flow.intercepted:
            return Said("This flow is not intercepted.", "information")
        return None


class LocalControl(_Shared):
    """Flows read from files: the model's own methods, a backup first."""

    def _change(self, flow: Flow, action: str, apply: Callable[[Flow], None]) -> Said | None:
        refused = read_only(flow, action)
        if refused is not None:
            return refused
        flow.backup()
        apply(flow)
        self.note_change()
        self.store.update(flow)
        return None

    def mark(self, flow: Flow, marker: str) -> Said | None:
        def set_mark(f: Flow) -> None:
            f.marked = marker

        return self._change(flow, "mark", set_mark)

    def unmark_all(self) -> Said | None:
        ids = self._marked_ids()
        for flow_id in ids:
            flow = self.store.get(flow_id)
            if flow is not None and not isinstance(flow, UnknownFlow):
                flow.backup()
                flow.marked = ""
                self.store.update(flow)
        if ids:
            self.note_change()
        return Said(f"Unmarked {_plural(len(ids), 'flow')}.", "information")

    def comment(self, flow: Flow, text: str) -> Said | None:
        def set_comment(f: Flow) -> None:
            f.comment = text

        return self._change(flow, "comment", set_comment)

    def intercept(self, flow: Flow) -> Said | None:
        return self._change(flow, "intercept", lambda f: f.intercept())

    def resume(self, flow: Flow) -> Said | None:
        return self._not_intercepted(flow) or self._change(flow, "resume", lambda f: f.resume())

    def resume_all(self) -> Said | None:
        paused = [f for f in self.store if f.intercepted and not isinstance(f, UnknownFlow)]
        for flow in paused:
            flow.backup()
            flow.resume()
            self.store.update(flow)
        if paused:
            self.note_change()
        return Said(f"Resumed {_plural(len(paused), 'intercepted flow')}.", "information")

    def kill(self, flow: Flow) -> Said | None:
        refused = read_only(flow, "kill")
        if refused is not None:
            return refused
        if not flow.killable:
            killed = flow.error is not None and flow.error.msg == Error.KILLED_MESSAGE
            why = (
                "already killed" if killed else "not live: flows loaded from a file can't be killed"
            )
            return Said(f"Cannot kill this flow: {why}.")
        flow.backup()
        try:
            flow.kill()
        except ControlException as e:
            return Said(f"Cannot kill this flow: {e}")
        self.note_change()
        self.store.update(flow)
        return None


class LiveControl(_Shared):
    """Flows of a live proxy: each command goes to the proxy through `send`; the row
    changes when the proxy's update arrives (a refusal is shown by the sender)."""

    def __init__(
        self,
        store: FlowStore,
        note_change: Callable[[], None],
        send: Callable[..., Any],
    ) -> None:
        super().__init__(store, note_change)
        self.send = send
        """`send(kind, **args)`: one command to the proxy."""

    @staticmethod
    def _detached(flow: Flow, action: str) -> Said | None:
        """The refusal for a flow the proxy no longer has (it restarted)."""
        reason = detached_reason(flow)
        return Said(f"Cannot {action} this flow: {reason}.") if reason else None

    def _command(self, flow: Flow, action: str, kind: str, **args: Any) -> Said | None:
        refused = read_only(flow, action) or self._detached(flow, action)
        if refused is None:
            self.send(kind, id=flow.id, **args)
        return refused

    def mark(self, flow: Flow, marker: str) -> Said | None:
        return self._command(flow, "mark", "mark", marked=marker)

    def unmark_all(self) -> Said | None:
        ids = self._marked_ids()
        for flow_id in ids:
            self.send("mark", id=flow_id, marked="")
        return Said(f"Unmarking {_plural(len(ids), 'flow')}.", "information")

    def comment(self, flow: Flow, text: str) -> Said | None:
        return self._command(flow, "comment", "comment", comment=text)

    def intercept(self, flow: Flow) -> Said | None:
        return self._command(flow, "intercept", "intercept")

    def resume(self, flow: Flow) -> Said | None:
        return (
            self._detached(flow, "resume")
            or self._not_intercepted(flow)
            or self._command(flow, "resume", "resume")
        )

    def resume_all(self) -> Said | None:
        self.send("resume_all")
        return None

    def revert(self, flow: Flow) -> Said | None:
        """Held messages edited or dropped go back to what the peer sent (the proxy
        keeps the originals, `flowtui.live.held`); anything else reverts locally."""
        restore = held_changes(flow)
        if not restore or self._detached(flow, "revert"):
            return super().revert(flow)
        for index, original in restore.items():
            self.send("edit_message", id=flow.id, index=index, content=original)
        return Said(
            f"Restoring {_plural(len(restore), 'held message')} as received.", "information"
        )

    def kill(self, flow: Flow) -> Said | None:
        return self._command(flow, "kill", "kill")
