"""The flow base class and `Error`, mirroring `mitmproxy.flow`.

A flow is one unit of traffic (a TCP connection, a UDP session, an HTTP exchange) with
the user's annotations: mark, comment, metadata, an interception flag and a backup that
`revert()` restores. Subclasses register themselves under a type name derived from the
class name (`TCPFlow` -> `"tcp"`), which is the `type` key of the state.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import time
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from flowtui.core.connection import Client, Server
from flowtui.core.exceptions import ControlException
from flowtui.core.serializable import FLOAT, STR, Serializable, SerializableDataclass, State, sfield
from flowtui.core.version import FLOW_FORMAT_VERSION

__all__ = ["Error", "Flow"]

_COMMON_KEYS = (
    "version", "type", "id", "error", "client_conn", "server_conn", "intercepted",
    "is_replay", "marked", "metadata", "comment", "timestamp_created",
)  # fmt: skip


@dataclass
class Error(SerializableDataclass):
    """An error outside normal protocol communication: a refused connect, a timeout, a kill.

    A protocol-level error response (say, HTTP 500) is a normal response, not an `Error`.
    """

    msg: str = sfield(STR)
    """Message describing the error."""
    timestamp: float = sfield(FLOAT, default_factory=time.time)
    """Unix timestamp of when this error happened."""

    KILLED_MESSAGE: ClassVar[str] = "Connection killed."

    def __str__(self) -> str:
        return self.msg

    def __repr__(self) -> str:
        return self.msg


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


class Flow(Serializable):
    """Base class of network flows: a collection of protocol objects plus user annotations."""

    client_conn: Client
    """The client that connected to the proxy."""
    server_conn: Server
    """The server the proxy connected to (`timestamp_start` is None if it never did)."""
    error: Error | None = None
    """A connection or protocol error affecting this flow."""
    intercepted: bool
    """True while the flow is paused by the proxy, waiting for a user action."""
    _marked: str | bool = ""
    is_replay: str | None
    """`"request"` or `"response"` when the flow was replayed in that direction, else None."""
    live: bool
    """True for a flow of an active connection; False when completed or loaded from disk."""
    timestamp_created: float
    """Unix timestamp of when this flow was created; unchanged on replay."""

    type: ClassVar[str]
    """The flow type, for example `"tcp"`, `"udp"` or `"http"`; derived from the class name."""

    __types: ClassVar[dict[str, builtins.type[Flow]]] = {}

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type = cls.__name__.removesuffix("Flow").lower()
        if register:
            Flow.__types[cls.type] = cls

    def __init__(self, client_conn: Client, server_conn: Server, live: bool = False) -> None:
        self.id: str = str(uuid.uuid4())
        """Unique flow identifier."""
        self.client_conn = client_conn
        self.server_conn = server_conn
        self.live = live
        self.timestamp_created = time.time()

        self.intercepted = False
        self._resume_event: asyncio.Event | None = None
        self._backup: dict[str, Any] | None = None
        self._marked = ""
        self.is_replay = None
        self.metadata: dict[str, Any] = {}
        """Free-form data (text keys); the only place in the state for extra data."""
        self.comment: str = ""
        """User comment."""

    @property
    def marked(self) -> str:
        """Non-empty marks the flow: `":default:"`, an emoji name like `":grapes:"`, or a
        character. Older mitmproxy writers stored a bool, which mitmproxy still reads: it
        is kept as read (so it saves unchanged) and `True` shows as `":default:"`."""
        marked = self._marked
        if isinstance(marked, bool):
            return ":default:" if marked else ""
        return marked

    @marked.setter
    def marked(self, value: str) -> None:
        self._marked = value

    # -- state ---------------------------------------------------------------------------

    def get_state(self) -> State:
        state: dict[str, Any] = {
            "version": FLOW_FORMAT_VERSION,
            "type": self.type,
            "id": self.id,
            "error": self.error.get_state() if self.error else None,
            "client_conn": self.client_conn.get_state(),
            "server_conn": self.server_conn.get_state(),
            "intercepted": self.intercepted,
            "is_replay": self.is_replay,
            "marked": self._marked,
            "metadata": copy.deepcopy(self.metadata),
            "comment": self.comment,
            "timestamp_created": self.timestamp_created,
        }
        state["backup"] = copy.deepcopy(self._backup) if self._backup != state else None
        return state

    def set_state(self, state: State) -> None:
        _check(
            isinstance(state, dict),
            f"Invalid flow state: expected a dict, got {type(state).__name__}.",
        )
        missing = [k for k in _COMMON_KEYS if k not in state]
        _check(not missing, f"Missing fields in flow state: {', '.join(missing)}")
        version = state.pop("version")
        _check(
            version == FLOW_FORMAT_VERSION,
            f"Flow format version {version!r} needs migrating to {FLOW_FORMAT_VERSION} first.",
        )
        typ = state.pop("type")
        _check(typ == self.type, f"Flow type mismatch: {typ!r} is not {self.type!r}.")
        flow_id = state.pop("id")
        _check(isinstance(flow_id, str), "Invalid value for id. Expected str.")
        error_state = state.pop("error")
        error = Error.from_state(error_state) if error_state else None
        self.client_conn.set_state(state.pop("client_conn"))
        self.server_conn.set_state(state.pop("server_conn"))
        intercepted = state.pop("intercepted")
        _check(isinstance(intercepted, bool), "Invalid value for intercepted. Expected bool.")
        is_replay = state.pop("is_replay")
        _check(is_replay is None or isinstance(is_replay, str), "Invalid value for is_replay.")
        marked = state.pop("marked")
        _check(isinstance(marked, str | bool), "Invalid value for marked. Expected str or bool.")
        metadata = state.pop("metadata")
        _check(isinstance(metadata, dict), "Invalid value for metadata. Expected dict.")
        comment = state.pop("comment")
        _check(isinstance(comment, str), "Invalid value for comment. Expected str.")
        created = state.pop("timestamp_created")
        _check(
            isinstance(created, int | float) and not isinstance(created, bool),
            "Invalid value for timestamp_created. Expected float.",
        )
        backup = state.pop("backup", None)
        _check(backup is None or isinstance(backup, dict), "Invalid value for backup.")
        _check(not state, f"Unexpected fields in flow state: {sorted(state)}")
        self.id, self.error, self.intercepted = flow_id, error, intercepted
        self.is_replay, self._marked, self.metadata = is_replay, marked, metadata
        self.comment, self.timestamp_created, self._backup = comment, created, backup

    @classmethod
    def from_state(cls, state: State) -> Self:
        """Build a flow of the right subclass from a format-21 state.

        Raises `ValueError` for an unknown `type` or an invalid state.
        """
        if not isinstance(state, dict):
            raise ValueError(f"Invalid flow state: expected a dict, got {type(state).__name__}.")
        try:
            flow_cls = Flow.__types[state["type"]]
        except (KeyError, TypeError):
            raise ValueError(f"Unknown flow type: {state.get('type')!r}") from None
        if not issubclass(flow_cls, cls):
            raise ValueError(f"{flow_cls.__name__} is not a {cls.__name__}")
        f = flow_cls(Client(peername=("", 0), sockname=("", 0)), Server(address=None))
        f.set_state(state)
        return f

    @classmethod
    def registered_types(cls) -> dict[str, builtins.type[Flow]]:
        """The flow types `from_state` knows, by type name."""
        return dict(Flow.__types)

    def copy(self) -> Self:
        """A copy of this flow with a new id and `live` set to False."""
        f = super().copy()
        f.live = False
        return f

    # -- user changes --------------------------------------------------------------------

    def modified(self) -> bool:
        """True if the flow has a backup that differs from its current state.

        As in mitmproxy, a flow counts as modified as soon as it has been backed up.
        """
        if self._backup:
            return bool(self._backup != self.get_state())
        return False

    def backup(self, force: bool = False) -> None:
        """Save the current state for `revert()`, unless a backup already exists."""
        if not self._backup:
            self._backup = self.get_state()

    def revert(self) -> None:
        """Restore the last backed-up state and drop the backup."""
        if self._backup:
            self.set_state(self._backup)
            self._backup = None

    # -- flow control --------------------------------------------------------------------

    @property
    def killable(self) -> bool:
        """*Read-only:* True if the flow can be killed (it is live and not killed yet)."""
        return self.live and not (self.error is not None and self.error.msg == Error.KILLED_MESSAGE)

    def kill(self) -> None:
        """Kill the flow: its traffic is no longer forwarded.

        Raises `ControlException` if the flow is not killable.
        """
        if not self.killable:
            raise ControlException("Flow is not killable.")
        self.error = Error(Error.KILLED_MESSAGE)
        self.intercepted = False
        self.live = False

    def intercept(self) -> None:
        """Pause the flow until `resume()` is called."""
        if self.intercepted:
            return
        self.intercepted = True
        if self._resume_event is not None:
            self._resume_event.clear()

    async def wait_for_resume(self) -> None:
        """Wait until the flow is resumed (returns at once if it is not intercepted)."""
        if not self.intercepted:
            return
        if self._resume_event is None:
            self._resume_event = asyncio.Event()
        await self._resume_event.wait()

    def resume(self) -> None:
        """Continue the flow after an `intercept()`."""
        if not self.intercepted:
            return
        self.intercepted = False
        if self._resume_event is not None:
            self._resume_event.set()

    @property
    def timestamp_start(self) -> float:
        """*Read-only:* start time of the flow (the client connection's start by default)."""
        return self.client_conn.timestamp_start
