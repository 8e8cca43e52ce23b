"""HAR 1.2 (HTTP Archive) from HTTP flows: the format browser devtools save and
mitmproxy's ``save.har`` writes, so a capture can be opened in devtools, Charles, Fiddler
or any HAR viewer.

Field by field this follows mitmproxy 11's export (the tests compare against it), with
these deliberate differences, each where mitmproxy departs from the HAR 1.2 text:

* ``creator`` names flowtui and its version.
* ``headersSize`` is the size of the message head as it is written on the wire in
  HTTP/1 (first line, headers, the blank line); mitmproxy counts the characters of the
  Python ``repr`` of its headers object.
* ``response.content.size`` is the size of the decoded body and ``compression`` the
  bytes the content coding saved (HAR 1.2 and devtools); mitmproxy gives the encoded
  size and the negative saving.
* ``timings`` also has ``blocked`` and ``dns`` as ``-1`` (not known), which HAR 1.2
  lists and devtools write.
* A response cookie's ``expires`` attribute is kept (as an ISO 8601 date) when it
  parses; mitmproxy drops it.
* A byte that is not UTF-8 (a Latin-1 ``café`` in a header, a stray byte in a text
  body) is written as the Latin-1 character it stands for; mitmproxy writes a lone
  surrogate escape (``\\udce9``), which is not valid Unicode and which strict JSON
  readers refuse.
* ``postData`` is also written for a request of another method that has a body
  (a ``DELETE`` with a JSON body, say); mitmproxy writes it only for POST, PUT and PATCH.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from flowtui import __version__
from flowtui.core import Flow, HTTPFlow, Message, Response
from flowtui.export.errors import ExportError
from flowtui.export.raw import head

__all__ = ["har_bytes", "har_entry", "har_log", "is_mostly_binary"]

_HAR_SPEC = "1.2"
"""The HAR specification written (log.version)."""

_FORM_METHODS = ("POST", "PUT", "PATCH")
"""Methods whose request always gets ``postData``, even with an empty body."""


def is_mostly_binary(data: bytes) -> bool:
    """Whether a body looks binary: more than 30% of its first 100 bytes are control
    characters other than tab, newline, vertical tab, form feed and carriage return, or
    bytes above 126. The same test mitmproxy's HAR export applies."""
    head = data[:100]
    if not head:
        return False
    odd = sum(1 for b in head if b < 9 or 13 < b < 32 or b > 126)
    return odd / len(head) > 0.3


def _pairs(items: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in items]


def head_size(message: Message) -> int:
    """Bytes of the message head in HTTP/1 form: first line, headers, blank line."""
    return len(head(message))


def _decoded(message: Message) -> bytes | None:
    try:
        return message.content
    except ValueError:
        return message.raw_content


def _expires(value: str | None) -> str | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat()


def _response_cookies(response: Response) -> list[dict[str, Any]]:
    out = []
    for name, (value, attrs) in response.cookies.items(multi=True):
        cookie: dict[str, Any] = {
            "name": name,
            "value": value,
            "path": attrs.get("path", "/"),
            "domain": attrs.get("domain", ""),
            "httpOnly": "httponly" in attrs,
            "secure": "secure" in attrs,
        }
        expires = _expires(attrs.get("expires"))
        if expires is not None:
            cookie["expires"] = expires
        if "samesite" in attrs:
            cookie["sameSite"] = attrs["samesite"]
        out.append(cookie)
    return out


def _response(flow: HTTPFlow) -> dict[str, Any]:
    response = flow.response
    if response is None:
        return {
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "headers": [],
            "cookies": [],
            "content": {},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_transferSize": 0,
            "_error": flow.error.msg if flow.error else None,
        }
    body = _decoded(response)
    raw_size = len(response.raw_content or b"")
    size = len(body or b"")
    content: dict[str, Any] = {
        "size": size,
        "compression": size - raw_size,
        "mimeType": response.headers.get("content-type", ""),
    }
    if body and is_mostly_binary(body):
        content["text"] = base64.b64encode(body).decode("ascii")
        content["encoding"] = "base64"
    else:
        content["text"] = response.get_text(strict=False) or ""
    return {
        "status": response.status_code,
        "statusText": response.reason,
        "httpVersion": response.http_version,
        "cookies": _response_cookies(response),
        "headers": _pairs(response.headers.items(multi=True)),
        "content": content,
        "redirectURL": response.headers.get("location", ""),
        "headersSize": head_size(response),
        "bodySize": raw_size,
    }


def _ms(start: float | None, end: float | None) -> float:
    return 1000 * (end - start) if start is not None and end is not None else 0


def _timings(flow: HTTPFlow, servers_seen: set[str]) -> dict[str, float]:
    server = flow.server_conn
    connect = ssl = -1.0
    if server.id not in servers_seen and server.timestamp_tcp_setup:
        assert server.timestamp_start is not None
        connect = 1000 * (server.timestamp_tcp_setup - server.timestamp_start)
        if server.timestamp_tls_setup:
            ssl = 1000 * (server.timestamp_tls_setup - server.timestamp_tcp_setup)
        servers_seen.add(server.id)
    request, response = flow.request, flow.response
    send = _ms(request.timestamp_start, request.timestamp_end) if request.timestamp_end else 0
    wait = 0.0
    receive = 0.0
    if response is not None and request.timestamp_end:
        wait = 1000 * (response.timestamp_start - request.timestamp_end)
    if response is not None and response.timestamp_end:
        receive = 1000 * (response.timestamp_end - response.timestamp_start)
    return {
        "blocked": -1.0,
        "dns": -1.0,
        "connect": connect,
        "ssl": ssl,
        "send": send,
        "receive": receive,
        "wait": wait,
    }


def har_entry(flow: HTTPFlow, servers_seen: set[str] | None = None) -> dict[str, Any]:
    """One HAR entry. `servers_seen` holds the ids of server connections already
    exported: a request on a reused connection gets no connect or TLS time."""
    timings = _timings(flow, set() if servers_seen is None else servers_seen)
    request = flow.request
    url = request.pretty_url
    if request.method == "CONNECT":
        url = f"https://{url}/"
    req: dict[str, Any] = {
        "method": request.method,
        "url": url,
        "httpVersion": request.http_version,
        "cookies": _pairs(request.cookies.items(multi=True)),
        "headers": _pairs(request.headers.items(multi=True)),
        "queryString": _pairs(request.query.items(multi=True)),
        "headersSize": head_size(request),
        "bodySize": len(_decoded(request) or b""),
    }
    if request.method in _FORM_METHODS or request.raw_content:
        req["postData"] = {
            "mimeType": request.headers.get("content-type", ""),
            "text": request.get_text(strict=False),
            "params": _pairs(request.urlencoded_form.items(multi=True)),
        }
    entry: dict[str, Any] = {
        "startedDateTime": datetime.fromtimestamp(request.timestamp_start, UTC).isoformat(),
        "time": sum(v for v in timings.values() if v >= 0),
        "request": req,
        "response": _response(flow),
        "cache": {},
        "timings": timings,
    }
    if flow.server_conn.peername:
        entry["serverIPAddress"] = str(flow.server_conn.peername[0])
    if flow.websocket is not None:
        entry["_resourceType"] = "websocket"
        entry["_webSocketMessages"] = [
            {
                "type": "send" if m.from_client else "receive",
                "time": m.timestamp,
                "opcode": int(m.type),
                "data": m.text if m.is_text else base64.b64encode(m.content).decode("ascii"),
            }
            for m in flow.websocket.messages
        ]
    return entry


def _finite(value: Any) -> bool:
    """Whether every number in `value` is finite (JSON has no NaN or infinity)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _checked_entry(flow: HTTPFlow, seen: set[str]) -> dict[str, Any]:
    try:
        entry = har_entry(flow, seen)
    except (OverflowError, OSError, ValueError) as e:  # a timestamp no date can hold
        raise ExportError(f"flow {flow.id[:8]}: a time cannot be written: {e}") from e
    if not _finite(entry):
        raise ExportError(f"flow {flow.id[:8]}: a time is not a finite number")
    return entry


def har_log(flows: Sequence[Flow]) -> dict[str, Any]:
    """The HAR document (``{"log": ...}``) for the HTTP flows among `flows`, in order;
    other flows are left out. ExportError for a flow whose times are not numbers."""
    seen: set[str] = set()
    entries = [_checked_entry(f, seen) for f in flows if isinstance(f, HTTPFlow)]
    return {
        "log": {
            "version": _HAR_SPEC,
            "creator": {"name": "flowtui", "version": __version__, "comment": ""},
            "pages": [],
            "entries": entries,
        }
    }


def _unescaped(text: str) -> str:
    """`text` with each surrogate escape (an undecodable byte) as its Latin-1 character."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: chr(ord(m.group()) - 0xDC00), text)


_SURROGATE = re.compile("[\udc80-\udcff]")
"""The surrogates Python's ``surrogateescape`` makes of bytes 0x80-0xff."""


def _valid_text(value: Any) -> Any:
    if isinstance(value, str):
        return _unescaped(value)
    if isinstance(value, dict):
        return {k: _valid_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_valid_text(v) for v in value]
    return value


def har_bytes(flows: Sequence[Flow]) -> bytes:
    """The HAR document as UTF-8 JSON."""
    text = json.dumps(_valid_text(har_log(flows)), indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8", errors="replace")
