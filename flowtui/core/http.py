"""HTTP flows (including WebSocket), kept as raw state: see `flowtui.core.opaque`."""

from __future__ import annotations

from typing import Any

from flowtui.core.opaque import OpaqueFlow

__all__ = ["HTTPFlow"]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


class HTTPFlow(OpaqueFlow):
    """An HTTP request/response pair, optionally upgraded to a WebSocket."""

    parts = ("request", "response", "websocket")
    required = ("request",)

    @property
    def method(self) -> str:
        """The request method, e.g. `GET`."""
        return _text(self._part("request").get("method"))

    @property
    def pretty_url(self) -> str:
        """The request URL: scheme, host (or authority), port when not the default, path."""
        req = self._part("request")
        scheme = _text(req.get("scheme")) or "http"
        host = _text(req.get("host")) or _text(req.get("authority"))
        port = req.get("port")
        default = {"http": 80, "https": 443}.get(scheme)
        hostport = host if port in (None, default) else f"{host}:{port}"
        return f"{scheme}://{hostport}{_text(req.get('path'))}"

    @property
    def status_code(self) -> int | None:
        """The response status code, or None without a response."""
        code = self._part("response").get("status_code")
        return code if isinstance(code, int) else None

    @property
    def websocket_messages(self) -> int | None:
        """How many WebSocket messages the flow holds, or None if it is not a WebSocket."""
        ws = self.raw.get("websocket")
        if not isinstance(ws, dict):
            return None
        messages = ws.get("messages")
        return len(messages) if isinstance(messages, list | tuple) else 0

    @property
    def timestamp_start(self) -> float:
        """*Read-only:* when the request started (falls back to the client connection)."""
        ts = self._part("request").get("timestamp_start")
        if isinstance(ts, int | float):
            return float(ts)
        return self.client_conn.timestamp_start
