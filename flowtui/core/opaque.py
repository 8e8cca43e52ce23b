"""Flows whose protocol content flowtui keeps but does not model.

DNS flows appear in real captures beside TCP and HTTP ones. Until they are modelled,
flowtui keeps their protocol parts (`request`, `response`) as the raw state they were
read as and writes them back unchanged, while the common flow fields (connections,
error, mark, comment, ...) are modelled as usual.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from flowtui.core.connection import Client, Server
from flowtui.core.flow import Flow
from flowtui.core.serializable import State

__all__ = ["OpaqueFlow"]


class OpaqueFlow(Flow, register=False):
    """A flow with protocol parts kept as raw state, listed in `parts`."""

    parts: ClassVar[tuple[str, ...]] = ()
    """The state keys beyond the common flow fields, in state order."""
    required: ClassVar[tuple[str, ...]] = ()
    """The parts that must not be None."""

    def __init__(self, client_conn: Client, server_conn: Server, live: bool = False) -> None:
        super().__init__(client_conn, server_conn, live)
        self.raw: dict[str, Any] = dict.fromkeys(self.parts)
        """The protocol parts' raw states, by key."""

    def get_state(self) -> State:
        state = super().get_state()
        for key in self.parts:
            state[key] = copy.deepcopy(self.raw[key])
        return state

    def set_state(self, state: State) -> None:
        if not isinstance(state, dict):
            raise ValueError(f"Invalid {type(self).__name__} state: expected a dict.")
        raw = {}
        for key in self.parts:
            if key not in state:
                raise ValueError(f"Missing field in {type(self).__name__} state: {key}")
            value = state.pop(key)
            if value is None and key in self.required:
                raise ValueError(f"Attribute {key} must not be None.")
            if value is not None and not isinstance(value, dict):
                raise ValueError(f"Invalid value for {key}: expected a dict.")
            raw[key] = value
        super().set_state(state)
        self.raw = raw

    def _part(self, key: str) -> dict[str, Any]:
        value = self.raw.get(key)
        return value if isinstance(value, dict) else {}
