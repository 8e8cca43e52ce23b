"""Exceptions of the capture-file layer, with structured fields the UI can show."""

from __future__ import annotations

__all__ = ["FlowReadException", "FlowWriteException"]


class FlowReadException(Exception):
    """A capture could not be read (further); every flow before ``index`` was delivered.

    The message names the file, the flow and the byte offset, e.g.
    ``capture.flows: flow #3 at byte 8123: truncated record (needs 512 bytes, 97 left)``.
    ``index`` counts flows from 0, so it is also the number of flows read before the error.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        offset: int | None = None,
        index: int | None = None,
    ) -> None:
        self.reason = reason
        """What is wrong, without the location."""
        self.path = path
        """The file's name as given by the caller (or ``None`` for an anonymous stream)."""
        self.offset = offset
        """Byte offset from the start of the file where the bad record or value starts."""
        self.index = index
        """0-based index of the flow that could not be read."""
        super().__init__(self.describe())

    def describe(self) -> str:
        """The one-line message: ``<path>: flow #<index> at byte <offset>: <reason>``."""
        parts = [self.path or "<stream>"]
        where = []
        if self.index is not None:
            where.append(f"flow #{self.index}")
        if self.offset is not None:
            where.append(f"at byte {self.offset}")
        if where:
            parts.append(" ".join(where))
        parts.append(self.reason)
        return ": ".join(parts)


class FlowWriteException(Exception):
    """A capture could not be written; an existing file at the target was left untouched."""

    def __init__(self, reason: str, *, path: str | None = None, index: int | None = None) -> None:
        self.reason = reason
        """What went wrong, without the location."""
        self.path = path
        """The target file."""
        self.index = index
        """0-based index of the flow that could not be serialised, if that was the problem."""
        where = path or "<stream>"
        if index is not None:
            where += f": flow #{index}"
        super().__init__(f"{where}: {reason}")
