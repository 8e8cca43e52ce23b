"""A record that could be read from a capture but not understood as a flow.

Dropping it would lose the user's data on the next save, so it is kept verbatim: its
state is the record exactly as read, and writing it back reproduces it.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from typing import Any, Self

from flowtui.core.connection import Client, Server
from flowtui.core.flow import Error, Flow
from flowtui.core.serializable import State

__all__ = ["UnknownFlow"]

_UNREADABLE = uuid.UUID("5f0c2b1e-8f3a-4c7e-9d41-6a2b7c9e0f13")
"""Namespace of the ids given to unreadable records that have none (derived from the
record, so each read of it gives the same id)."""


_NO_CLIENT = "-"
"""The id of the stand-in client of a record whose client could not be read."""


def _lenient_connection(cls: type[Client] | type[Server], state: Any) -> Any:
    """The connection described by `state` if it is valid, else an empty one."""
    try:
        return cls.from_state(copy.deepcopy(state))
    except Exception:  # any bad state means "not shown", never a crash
        if cls is Client:
            return Client(peername=("", 0), sockname=("", 0), timestamp_start=0.0, id=_NO_CLIENT)
        return Server(address=None)


class UnknownFlow(Flow, register=False):
    """A flow record of an unknown type or an invalid layout, preserved as read."""

    def __init__(self, client_conn: Client, server_conn: Server, live: bool = False) -> None:
        super().__init__(client_conn, server_conn, live)
        self.raw_state: dict[str, Any] = {}
        """The record exactly as read."""
        self.reason: str = ""
        """Why the record could not be loaded as a flow."""
        self.source: str | None = None
        """The file the record was read from, if known."""
        self.offset: int | None = None
        """The record's byte offset in `source`, if known."""
        self.index: int | None = None
        """The record's 0-based position in `source`, if known."""

    @classmethod
    def from_raw(
        cls,
        state: dict[str, Any],
        reason: str,
        *,
        source: str | None = None,
        offset: int | None = None,
        index: int | None = None,
    ) -> Self:
        """Wrap a record that `Flow.from_state` rejected, keeping it for writing back;
        `source`, `offset` and `index` say where it was read (for `location`)."""
        f = cls(
            _lenient_connection(Client, state.get("client_conn")),
            _lenient_connection(Server, state.get("server_conn")),
        )
        f.raw_state = copy.deepcopy(state)
        f.reason = reason
        f.source, f.offset, f.index = source, offset, index
        # Reading the same record twice must give the same flow (a lazy capture lists a
        # record once and decodes it again when opened): no random id, no "now".
        if isinstance(state.get("id"), str):
            f.id = state["id"]
        else:
            f.id = str(uuid.uuid5(_UNREADABLE, repr(state)))
        created = state.get("timestamp_created")
        f.timestamp_created = float(f.client_conn.timestamp_start or 0.0)
        if isinstance(created, int | float) and not isinstance(created, bool):
            with contextlib.suppress(OverflowError):  # an int no float holds
                f.timestamp_created = float(created)
        f.error = Error(f"unreadable flow: {reason}", f.timestamp_created)
        return f

    @property
    def location(self) -> str:
        """Where the record was read, as errors name it: `x.flows: flow #3 at byte 812`."""
        where = []
        if self.index is not None:
            where.append(f"flow #{self.index}")
        if self.offset is not None:
            where.append(f"at byte {self.offset}")
        parts = [self.source or "<stream>", " ".join(where)]
        return ": ".join(p for p in parts if p)

    @property
    def raw_type(self) -> str:
        """The `type` the record claims, as text."""
        return str(self.raw_state.get("type", "?"))

    def get_state(self) -> State:
        return copy.deepcopy(self.raw_state)

    def set_state(self, state: State) -> None:
        raise ValueError("An unreadable flow record cannot be changed.")

    @classmethod
    def from_state(cls, state: State) -> Self:
        return cls.from_raw(state, "kept as read")

    def backup(self, force: bool = False) -> None:
        """Unreadable records are read-only: there is nothing to back up."""

    @property
    def timestamp_start(self) -> float:
        """*Read-only:* the client connection's start time if it could be read, else the
        record's creation time (the stand-in connection's start means nothing)."""
        if self.client_conn.id == _NO_CLIENT:
            return self.timestamp_created
        return self.client_conn.timestamp_start
