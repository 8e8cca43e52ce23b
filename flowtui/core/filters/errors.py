"""The one exception a filter expression can raise, with the position of the mistake."""

from __future__ import annotations

from flowtui.core.exceptions import FlowtuiException

__all__ = ["FilterError"]


class FilterError(FlowtuiException, ValueError):
    """A filter expression that cannot be used, and where it goes wrong.

    A `ValueError` too, as mitmproxy's `flowfilter.parse` raises, so code written for
    mitmproxy keeps working. `str()` is one line the UI can show as it is.
    """

    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(msg, pos)
        self.msg = msg
        """What is wrong, without the position."""
        self.pos = pos
        """0-based offset in the expression where the mistake is (may equal its length)."""

    def __str__(self) -> str:
        return f"{self.msg} at {self.pos}"
