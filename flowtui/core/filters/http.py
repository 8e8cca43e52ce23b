"""HTTP and DNS operators (`~d ~u ~m ~c ~h ~hq ~hs ~t ~tq ~ts ~a ~q ~s`).

flowtui keeps DNS flows as the raw state they were read as (`flow.raw`); HTTP flows are
modelled, and these operators read their parts' states (`http_part`). The fields
mitmproxy's filters read (`pretty_url`, `pretty_host`, header lines, decoded bodies) are
rebuilt here from that state, the way mitmproxy computes them. Every field is
type-checked, a wrong type just doesn't match.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from flowtui.core import DNSFlow, Flow, HTTPFlow
from flowtui.core.filters.nodes import Node
from flowtui.core.http import Message
from flowtui.core.serializable import Serializable

__all__ = [
    "ASSET_TYPES",
    "BytesRegex",
    "StatusCode",
    "content_type_values",
    "decoded_content",
    "dns_names",
    "domain_texts",
    "header_block",
    "http_part",
    "url_texts",
]

MAX_DECODED = 64 * 1024 * 1024
"""Largest decompressed body searched; a bigger one is searched up to this size."""

_AUTHORITY = re.compile(r"^(?P<host>[^:]+|\[.+\])(?::(?P<port>\d+))?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value if isinstance(value, str) else ""


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else b""


def http_part(flow: Flow, key: str) -> dict[str, Any] | None:
    """The state of the `request`, `response` or `websocket` of an HTTP or DNS flow, or None."""
    if isinstance(flow, HTTPFlow):
        message = getattr(flow, key, None)
        return message.get_state() if isinstance(message, Serializable) else None
    if not isinstance(flow, DNSFlow):
        return None
    part = flow.raw.get(key)
    return part if isinstance(part, dict) else None


def _fields(message: dict[str, Any]) -> Iterator[tuple[bytes, bytes]]:
    headers = message.get("headers")
    if not isinstance(headers, list | tuple):
        return
    for field in headers:
        if isinstance(field, list | tuple) and len(field) == 2:
            yield _bytes(field[0]), _bytes(field[1])


def header_block(message: dict[str, Any]) -> bytes:
    """The header lines as mitmproxy's `bytes(headers)`: `name: value\\r\\n` each."""
    lines = [name + b": " + value for name, value in _fields(message)]
    return b"\r\n".join(lines) + b"\r\n" if lines else b""


def _header(message: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in _fields(message):
        if key.lower() == name:
            return value
    return None


def content_type_values(message: dict[str, Any]) -> list[bytes]:
    """Every Content-Type header value."""
    return [v for k, v in _fields(message) if k.lower() == b"content-type"]


def _decode(data: bytes, encoding: str) -> bytes | None:
    """Body bytes without their Content-Encoding (gzip, deflate, br, zstd: those
    mitmproxy decodes), at most `MAX_DECODED` of them, so a decompression bomb in a
    capture costs a bounded amount; None when the coding is unknown or the data does not
    decode (mitmproxy's `get_content(strict=False)` then gives the body as sent)."""
    if encoding in ("", "identity", "none"):
        return data
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            return _inflate(data, encoding)
        if encoding == "br":
            return _unbrotli(data)
        if encoding == "zstd":
            return _unzstd(data)
    except Exception:  # every codec's own error type means: not decodable
        return None
    return None


def _inflate(data: bytes, encoding: str) -> bytes | None:
    if encoding == "deflate":
        wbits = zlib.MAX_WBITS if data[:1] == b"\x78" else -zlib.MAX_WBITS
    else:
        wbits = 16 + zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(data, MAX_DECODED)
    # A stream cut short decodes partly without an error; mitmproxy's decoder refuses it.
    if not inflater.eof and not inflater.unconsumed_tail:
        return None
    return out


_BROTLI_STEP = 4096
"""Compressed bytes fed to brotli at a time: one step's output stays bounded."""


def _unbrotli(data: bytes) -> bytes | None:
    import brotli

    decompressor = brotli.Decompressor()
    parts: list[bytes] = []
    size = 0
    for pos in range(0, len(data), _BROTLI_STEP):
        part: bytes = decompressor.process(data[pos : pos + _BROTLI_STEP])
        parts.append(part)
        size += len(part)
        if size >= MAX_DECODED:
            return b"".join(parts)[:MAX_DECODED]
    return b"".join(parts) if decompressor.is_finished() else None


def _unzstd(data: bytes) -> bytes | None:
    import zstandard

    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
        out: bytes = reader.read(MAX_DECODED)
    return out


def decoded_content(message: Message | None) -> bytes | None:
    """The body as mitmproxy's `get_content(strict=False)`: decoded when it can be.

    Reads the model's body and header directly: building the message's state for each
    flow a content filter looks at would copy every header field for nothing."""
    if message is None or message.raw_content is None:
        return None
    content = message.raw_content
    encoding = message.headers.get("content-encoding", "").strip().lower()
    decoded = _decode(content, encoding)
    return content if decoded is None else decoded


def _is_h2(request: dict[str, Any]) -> bool:
    return _text(request.get("http_version")) in ("HTTP/2.0", "HTTP/3")


def _host_header(request: dict[str, Any]) -> str | None:
    if _is_h2(request):
        authority = _text(request.get("authority"))
        if authority:
            return authority
    value = _header(request, b"host")
    return None if value is None else _text(value)


def _parse_authority(authority: str) -> tuple[str, int | None]:
    m = _AUTHORITY.match(authority)
    if not m:
        return authority, None
    host = m["host"]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(m["port"]) if m["port"] else None


def _hostport(scheme: str, host: str, port: Any) -> str:
    return host if _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"


def _pretty_url(request: dict[str, Any]) -> str:
    """mitmproxy's `Request.pretty_url`: the Host header preferred over the target host."""
    scheme, host, port = (
        _text(request.get("scheme")),
        _text(request.get("host")),
        request.get("port"),
    )
    path = _text(request.get("path"))
    if _text(request.get("method")).upper() == "CONNECT":
        return _text(request.get("authority"))
    host_header = _host_header(request)
    if host_header:
        host, parsed_port = _parse_authority(host_header)
        port = parsed_port or _DEFAULT_PORTS.get(scheme) or 443
    return f"{scheme}://{_hostport(scheme, host, port)}{'' if path == '*' else path}"


def dns_names(flow: Flow) -> list[str]:
    """The question names of a DNS query."""
    request = http_part(flow, "request") or {}
    questions = request.get("questions")
    if not isinstance(questions, list | tuple):
        return []
    return [_text(q.get("name")) for q in questions if isinstance(q, dict)]


def url_texts(flow: Flow) -> Sequence[str]:
    """`~u`: the pretty URL of an HTTP request, the first question of a DNS query."""
    if isinstance(flow, HTTPFlow):
        request = http_part(flow, "request")
        return (_pretty_url(request),) if request else ()
    if isinstance(flow, DNSFlow):
        return dns_names(flow)[:1]
    return ()


def domain_texts(flow: Flow) -> Sequence[str]:
    """`~d`: the request's host and its pretty host (from the Host header)."""
    request = http_part(flow, "request") if isinstance(flow, HTTPFlow) else None
    if request is None:
        return ()
    host = _text(request.get("host"))
    header = _host_header(request)
    return (host, _parse_authority(header)[0]) if header else (host,)


ASSET_TYPES = tuple(
    re.compile(p)
    for p in (
        rb"text/javascript",
        rb"application/x-javascript",
        rb"application/javascript",
        rb"text/css",
        rb"image/.*",
        rb"font/.*",
        rb"application/font.*",
    )
)
"""Response content types `~a` counts as assets (as mitmproxy)."""


def is_asset(flow: Flow) -> bool:
    response = http_part(flow, "response") if isinstance(flow, HTTPFlow) else None
    if response is None:
        return False
    values = content_type_values(response)
    return any(rx.search(v) for rx in ASSET_TYPES for v in values)


def has_request_only(flow: Flow) -> bool:
    """`~q`: an HTTP or DNS flow without a response (as mitmproxy)."""
    return isinstance(flow, HTTPFlow | DNSFlow) and not _has_response(flow)


def has_response(flow: Flow) -> bool:
    """`~s`: an HTTP or DNS flow with a response."""
    return isinstance(flow, HTTPFlow | DNSFlow) and _has_response(flow)


def _has_response(flow: HTTPFlow | DNSFlow) -> bool:
    # The model answers directly; a DNS flow is still raw state.
    if isinstance(flow, HTTPFlow):
        return flow.response is not None
    return http_part(flow, "response") is not None


class BytesRegex(Node):
    """An HTTP operator searching byte strings taken from the request and/or response."""

    def __init__(self, name: str, regex: re.Pattern[bytes], parts: str) -> None:
        self.name, self.regex, self.parts = name, regex, parts

    def values(self, message: dict[str, Any]) -> list[bytes]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, flow: Flow) -> bool:
        if not isinstance(flow, HTTPFlow):
            return False
        for key in self.parts:
            message = http_part(flow, "request" if key == "q" else "response")
            if message is not None and any(self.regex.search(v) for v in self.values(message)):
                return True
        return False

    def dump(self) -> str:
        return f"{self.name}({self.regex.pattern!r})"


class Headers(BytesRegex):
    """`~h`, `~hq`, `~hs`: a regex over the `name: value` header lines."""

    def values(self, message: dict[str, Any]) -> list[bytes]:
        return [header_block(message)]


class ContentType(BytesRegex):
    """`~t`, `~tq`, `~ts`: a regex over the Content-Type header."""

    def values(self, message: dict[str, Any]) -> list[bytes]:
        return content_type_values(message)


class Method(Node):
    """`~m`: a regex over the request method."""

    def __init__(self, regex: re.Pattern[bytes]) -> None:
        self.regex = regex

    def __call__(self, flow: Flow) -> bool:
        request = http_part(flow, "request") if isinstance(flow, HTTPFlow) else None
        return request is not None and bool(self.regex.search(_bytes(request.get("method"))))

    def dump(self) -> str:
        return f"~m({self.regex.pattern!r})"


class StatusCode(Node):
    """`~c CODE`: the response status code equals CODE."""

    def __init__(self, code: int) -> None:
        self.code = code

    def __call__(self, flow: Flow) -> bool:
        return isinstance(flow, HTTPFlow) and flow.status_code == self.code

    def dump(self) -> str:
        return f"~c({self.code})"
