"""The record: one framed flow state read from a capture, not yet decoded into a Flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RawRecord", "RecordDecodeError"]


class RecordDecodeError(ValueError):
    """The bytes of a framed record do not decode; ``offset`` is relative to the record."""

    def __init__(self, reason: str, offset: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


@dataclass(slots=True)
class RawRecord:
    """A framed record: where it is, its bytes, and how to decode them (as often as needed)."""

    index: int
    """0-based position of the record in the file."""
    offset: int
    """Byte offset of the record's first byte."""
    payload: bytes
    """The encoded state (for tnetstring: the whole record, prefix and tag included)."""
    decoder: Callable[[bytes], Any] = field(repr=False)
    """Turns ``payload`` into a fresh state; raises RecordDecodeError."""
    payload_offset: int = 0
    """Byte offset of ``payload`` in the file (error offsets are relative to it)."""
    summary: dict[str, Any] | None = None
    """The per-record summary, for formats that store one."""
    state_length: int = -1
    """The encoded state's length in the file (-1: `len(payload)`; differs when the
    state was skipped rather than read)."""

    def decode(self) -> Any:
        """A freshly decoded state (a new object on every call)."""
        return self.decoder(self.payload)
