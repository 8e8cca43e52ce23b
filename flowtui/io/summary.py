"""A small digest of a flow state: enough to list a flow without keeping its whole state.

flowtui's format stores it beside each record; ``flowtui dump`` prints it. It is computed
from the state dict alone and is best effort: odd states give fewer keys, never an error.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SUMMARY_VERSION", "summarize_state"]

SUMMARY_VERSION = 1
"""Bumped when the meaning of a summary key changes (stored as ``"v"``)."""

_DNS_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
              33: "SRV", 65: "HTTPS", 255: "ANY"}  # fmt: skip


def summarize_state(state: Any) -> dict[str, Any]:
    """Digest a (format 21) flow state; see docs/format.md for the keys."""
    if not isinstance(state, dict):
        return {"v": SUMMARY_VERSION}
    s: dict[str, Any] = {"v": SUMMARY_VERSION}
    for key in ("type", "id", "timestamp_created", "marked", "comment", "intercepted"):
        if key in state:
            s[key] = state[key]
    error = state.get("error")
    if isinstance(error, dict):
        s["error"] = error.get("msg")
    client = state.get("client_conn")
    server = state.get("server_conn")
    if isinstance(client, dict):
        s["client"] = client.get("peername")
        s["client_tls"] = _tls(client)
        if client.get("proxy_mode") is not None:
            s["proxy_mode"] = client.get("proxy_mode")
    if isinstance(server, dict):
        s["server"] = server.get("address") or server.get("peername")
        s["server_tls"] = _tls(server)
        if server.get("error") is not None:
            s["server_error"] = server.get("error")
    messages = state.get("messages")
    if isinstance(messages, list):
        counts = [0, 0]
        sizes = [0, 0]
        for m in messages:
            if isinstance(m, list | tuple) and len(m) >= 2:
                side = 0 if m[0] else 1
                counts[side] += 1
                sizes[side] += len(m[1]) if isinstance(m[1], bytes | str) else 0
        s["messages"] = counts
        s["bytes"] = sizes
    if state.get("type") == "http":
        _http(state, s)
    elif state.get("type") == "dns":
        _dns(state, s)
    return s


def _tls(conn: dict[str, Any]) -> dict[str, Any] | None:
    """The TLS facts of a connection, or None without TLS."""
    if not conn.get("tls") and conn.get("tls_version") is None:
        return None
    tls: dict[str, Any] = {"version": conn.get("tls_version")}
    for key in ("sni", "alpn", "cipher"):
        if conn.get(key) is not None:
            tls[key] = conn[key]
    return tls


def _text(value: Any) -> str:
    """Bytes or text as text (bytes decoded leniently)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)


def _http(state: dict[str, Any], s: dict[str, Any]) -> None:
    """Request line and status of an HTTP flow."""
    request = state.get("request")
    if isinstance(request, dict):
        method = _text(request.get("method", b""))
        if request.get("authority") and method == "CONNECT":
            url = _text(request.get("authority"))
        else:
            scheme = _text(request.get("scheme", b""))
            host = _text(request.get("host", ""))
            port = request.get("port")
            default = {"http": 80, "https": 443}.get(scheme)
            hostport = host if port == default or port is None else f"{host}:{port}"
            if ":" in host and port is not None:
                hostport = f"[{host}]" if port == default else f"[{host}]:{port}"
            url = f"{scheme}://{hostport}{_text(request.get('path', b''))}"
        s["request"] = f"{method} {url}"
        if isinstance(request.get("content"), bytes):
            s["request_size"] = len(request["content"])
    response = state.get("response")
    if isinstance(response, dict):
        s["status"] = response.get("status_code")
        if isinstance(response.get("content"), bytes):
            s["response_size"] = len(response["content"])
    websocket = state.get("websocket")
    if isinstance(websocket, dict) and isinstance(websocket.get("messages"), list):
        counts = [0, 0]
        for m in websocket["messages"]:
            if isinstance(m, list | tuple) and len(m) >= 2:
                counts[0 if m[1] else 1] += 1
        s["websocket"] = counts


def _dns(state: dict[str, Any], s: dict[str, Any]) -> None:
    """Question and answer count of a DNS flow."""
    request = state.get("request")
    if isinstance(request, dict) and isinstance(request.get("questions"), list):
        s["questions"] = [
            f"{_text(q.get('name'))} {_dns_type(q.get('type'))}"
            for q in request["questions"]
            if isinstance(q, dict)
        ]
    response = state.get("response")
    if isinstance(response, dict) and isinstance(response.get("answers"), list):
        s["answers"] = len(response["answers"])


def _dns_type(value: Any) -> str:
    """A DNS record type number as its usual name (A, AAAA, ...) when known."""
    return _DNS_TYPES.get(value, str(value)) if isinstance(value, int) else str(value)
