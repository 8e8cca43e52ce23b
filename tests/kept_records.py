"""A lazy record for store tests that holds a flow instead of reading a file."""

from __future__ import annotations

from flowtui.core import Flow

__all__ = ["KeptRecord"]


class KeptRecord:
    """Loads a fresh copy of the flow it was made from (same id), as a file's record does."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow.copy()
        self.flow.id = flow.id

    def load(self) -> Flow:
        flow = self.flow.copy()
        flow.id = self.flow.id
        return flow

    def raw(self) -> bytes:
        return b""

    def load_head(self, messages: int, size: int) -> Flow | None:
        return None
