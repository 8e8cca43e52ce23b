"""HTTP flows as ``mitmdump -nr FILE`` prints them (its default detail): the client, the
method and the URL; the response's status, reason and size aligned under the method;
a WebSocket's messages and close; the error. `flowtui dump` prints HTTP flows this way,
so its output diffs cleanly against mitmdump's.

Differences, on purpose: a long URL is never cut (mitmdump cuts it to the terminal's
width); a flow with both a response and an error is printed once (mitmdump prints it
for each of the two events, so twice); every value read from a capture goes through
`flowtui.sanitize.clean`, which escapes more control characters than mitmdump does.
"""

from __future__ import annotations

from flowtui.core import HTTPFlow, format_address
from flowtui.core.http import REASONS
from flowtui.sanitize import SafeStr, clean

__all__ = ["mitmdump_lines", "pretty_size"]

_CLOSE_REASONS = {
    1000: "NORMAL_CLOSURE",
    1001: "GOING_AWAY",
    1002: "PROTOCOL_ERROR",
    1003: "UNSUPPORTED_DATA",
    1005: "NO_STATUS_RCVD",
    1006: "ABNORMAL_CLOSURE",
    1007: "INVALID_FRAME_PAYLOAD_DATA",
    1008: "POLICY_VIOLATION",
    1009: "MESSAGE_TOO_BIG",
    1010: "MANDATORY_EXT",
    1011: "INTERNAL_ERROR",
    1012: "SERVICE_RESTART",
    1013: "TRY_AGAIN_LATER",
    1015: "TLS_HANDSHAKE_FAILED",
}
"""WebSocket close codes by name (RFC 6455 section 7.4.1), for a close that is an error."""

_NORMAL_CLOSE = (1000, 1001, 1005)


def pretty_size(size: int) -> str:
    """A byte count in at most five characters: ``153b``, ``1.0k``, ``12m``."""
    if size < 1024:
        return f"{size}b"
    value: float = size
    for suffix in "kmgt":
        value /= 1024
        if value < 99.95:
            return f"{value:.1f}{suffix}"
        if value < 1024 or suffix == "t":
            return f"{value:.0f}{suffix}"
    raise AssertionError("unreachable")


def _request_line(flow: HTTPFlow) -> str:
    request = flow.request
    if flow.is_replay == "request":
        client = "[replay]"
    else:
        client = format_address(flow.client_conn.peername) if flow.client_conn.peername else ""
    method = request.method + (" PUSH_PROMISE" if "h2-pushed-stream" in flow.metadata else "")
    version = ""
    response_version = flow.response.http_version if flow.response else "HTTP/1.1"
    if not (request.is_http10 or request.is_http11) or request.http_version != response_version:
        version = " " + request.http_version
    return f"{client}: {method} {request.url}{version}"


def _response_line(flow: HTTPFlow) -> str:
    response = flow.response
    assert response is not None
    replay = "[replay]" if flow.is_replay == "response" else ""
    if response.is_http2 or response.is_http3:
        reason = REASONS.get(response.status_code, "")
    else:
        reason = response.reason
    raw = response.raw_content
    size = "(content missing)" if raw is None else pretty_size(len(raw))
    version = ""
    if not (response.is_http10 or response.is_http11) or (
        flow.request.http_version != response.http_version
    ):
        version = f"{response.http_version} "
    client = format_address(flow.client_conn.peername)
    pad = " " * max(0, len(client) - (2 + len(version) + len(replay)))
    return f"{replay}{pad} << {version}{response.status_code} {reason} {size}"


def _websocket_lines(flow: HTTPFlow) -> list[str]:
    ws = flow.websocket
    assert ws is not None
    client = format_address(flow.client_conn.peername)
    server = format_address(flow.server_conn.address) + flow.request.path
    lines = []
    for m in ws.messages:
        arrow = "->" if m.from_client else "<-"
        kind = getattr(m.type, "name", str(m.type)).lower()
        lines.append(f"{client} {arrow} WebSocket {kind} message {arrow} {server}")
    if ws.close_code in _NORMAL_CLOSE:
        side = "client" if ws.closed_by_client else "server"
        lines.append(f"WebSocket connection closed by {side}: {ws.close_code} {ws.close_reason}")
    else:
        name = _CLOSE_REASONS.get(ws.close_code or -1, f"UNKNOWN_ERROR={ws.close_code}")
        if ws.close_reason:
            name += f" (reason: {ws.close_reason})"
        lines.append(
            f"Error in WebSocket connection to {format_address(flow.server_conn.address)}: "
            f"WebSocket Error: {name}"
        )
    return lines


def mitmdump_lines(flow: HTTPFlow) -> list[SafeStr]:
    """The lines mitmdump prints for `flow`, each safe for a terminal."""
    lines = [_request_line(flow)]
    if flow.response is not None:
        lines.append(_response_line(flow))
    if flow.websocket is not None:
        lines += _websocket_lines(flow)
    if flow.error is not None:
        lines.append(f" << {flow.error.msg}")
    return [clean(line) for line in lines]
