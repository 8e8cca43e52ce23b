"""The one exception of the export package."""

from __future__ import annotations

__all__ = ["ExportError"]


class ExportError(ValueError):
    """A format that does not apply to a flow, or a flow that lacks what the format
    needs (a request body that is not text for curl, a response for raw_response);
    the message says which and why."""
