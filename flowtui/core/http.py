"""HTTP flows (with WebSockets), mirroring `mitmproxy.http`: `Request`, `Response`,
`HTTPFlow`, and `Headers` from `flowtui.core.headers`.

Names, semantics and the `get_state()` layout are mitmproxy 11's, so a script written
for mitmproxy's objects runs on flowtui's. The raw bytes of a message are kept as read
(`raw_content`); `content` and `text` decode them on access, and a body that does not
decode raises mitmproxy's `ValueError` (or, with `strict=False`, comes back as is).
A state with wrong types is refused with `ValueError`, so the reader keeps such a
record verbatim as an `UnknownFlow` instead of modelling half of it.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import json
import os
import time
import urllib.parse
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from email.utils import formatdate, mktime_tz, parsedate_tz
from http import HTTPStatus
from typing import Any, ClassVar, Self

from flowtui.core import cookies, encoding, urls
from flowtui.core.connection import Client, Server
from flowtui.core.flow import Flow
from flowtui.core.headers import (
    Headers,
    assemble_content_type,
    infer_content_encoding,
    parse_content_type,
    to_bytes,
)
from flowtui.core.multidict import MultiDictView
from flowtui.core.multipart import decode_multipart, encode_multipart
from flowtui.core.serializable import Serializable, State
from flowtui.core.websocket import WebSocketData

__all__ = ["HTTPFlow", "Headers", "Message", "Request", "Response"]


def _utf8(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _ascii(value: str | bytes) -> bytes:
    """What mitmproxy's constructors accept: bytes, or ASCII-only text."""
    return value.encode("ascii", "strict") if isinstance(value, str) else value


def _always_str(value: str | bytes, codec: str, errors: str = "strict") -> str:
    return value.decode(codec, errors) if isinstance(value, bytes) else value


# -- state checks: a field of the wrong type refuses the state ----------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float)  # mitmproxy's type check accepts bool as int


def _header_fields(value: Any, name: str) -> tuple[tuple[bytes, bytes], ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"Invalid value for {name}. Expected a list of fields.")
    out = []
    for field in value:
        if (
            not isinstance(field, list | tuple)
            or len(field) != 2
            or not isinstance(field[0], bytes)
            or not isinstance(field[1], bytes)
        ):
            raise ValueError(f"Invalid value for {name}. Expected (bytes, bytes) fields.")
        out.append((field[0], field[1]))
    return tuple(out)


_CHECKS: dict[str, tuple[str, Any]] = {
    "http_version": ("bytes", lambda v: isinstance(v, bytes)),
    "content": ("bytes or None", lambda v: v is None or isinstance(v, bytes)),
    "timestamp_start": ("float", _is_number),
    "timestamp_end": ("float or None", lambda v: v is None or _is_number(v)),
    "host": ("str", lambda v: isinstance(v, str)),
    "port": ("int", lambda v: isinstance(v, int)),
    "method": ("bytes", lambda v: isinstance(v, bytes)),
    "scheme": ("bytes", lambda v: isinstance(v, bytes)),
    "authority": ("bytes", lambda v: isinstance(v, bytes)),
    "path": ("bytes", lambda v: isinstance(v, bytes)),
    "status_code": ("int", lambda v: isinstance(v, int)),
    "reason": ("bytes", lambda v: isinstance(v, bytes)),
}


_ASCII_FIELDS = frozenset({"http_version", "method", "scheme", "authority", "path", "reason"})


def _accepted(name: str, value: Any) -> Any:
    """What mitmproxy's constructors make of a state value: ASCII text where bytes are
    stored, and a bytes host, are converted (anything else is left for the type check)."""
    try:
        if name in _ASCII_FIELDS and isinstance(value, str):
            return value.encode("ascii", "strict")
        if name == "host" and isinstance(value, bytes):
            return value.decode("idna", "strict")
    except UnicodeError as e:
        raise ValueError(f"Invalid value for {name}: {e}") from None
    return value


@functools.cache
def _field_names(cls: type[MessageData]) -> tuple[str, ...]:
    """The state keys of a message class, in state order (computed once per class)."""
    return tuple(f.name for f in fields(cls))


@dataclass
class MessageData(Serializable):
    """The fields of a message, exactly as stored (`Message.data`)."""

    http_version: bytes
    headers: Headers
    content: bytes | None
    trailers: Headers | None
    timestamp_start: float
    timestamp_end: float | None

    @classmethod
    def _checked(cls, state: State) -> dict[str, Any]:
        """The constructor arguments for `state`; ValueError if it is not a valid state."""
        kind = cls.__name__.removesuffix("Data")
        if not isinstance(state, dict):
            raise ValueError(f"Invalid {kind} state: expected a dict.")
        names = _field_names(cls)
        missing = [n for n in names if n not in state]
        if missing:
            raise ValueError(f"Missing fields in {kind} state: {', '.join(missing)}")
        extra = sorted(k for k in state if k not in names)
        if extra:
            raise ValueError(f"Unexpected fields in {kind} state: {extra}")
        out = {}
        for name in names:
            value = state[name]
            if name == "headers":
                value = Headers(_header_fields(value, f"{kind}.headers"))
            elif name == "trailers":
                if value is not None:
                    value = Headers(_header_fields(value, f"{kind}.trailers"))
            else:
                value = _accepted(name, value)
                expected, ok = _CHECKS[name]
                if not ok(value):
                    raise ValueError(
                        f"Invalid value for {kind}.{name}. Expected {expected}, "
                        f"got {type(value).__name__}."
                    )
            out[name] = value
        return out

    @classmethod
    def from_state(cls, state: State) -> Self:
        return cls(**cls._checked(state))

    def get_state(self) -> State:
        state = {name: getattr(self, name) for name in _field_names(type(self))}
        state["headers"] = self.headers.get_state()
        if self.trailers is not None:
            state["trailers"] = self.trailers.get_state()
        return state

    def set_state(self, state: State) -> None:
        for name, value in self._checked(state).items():
            setattr(self, name, value)


@dataclass
class RequestData(MessageData):
    host: str
    port: int
    method: bytes
    scheme: bytes
    authority: bytes
    path: bytes


@dataclass
class ResponseData(MessageData):
    status_code: int
    reason: bytes


def _no_text_content(content: object) -> None:
    if isinstance(content, str):
        raise ValueError(f"Content must be bytes, not {type(content).__name__}")


def _make_headers(headers: Any) -> Headers:
    """`Headers` from what `make()` accepts: Headers, a dict, or `(name, value)` pairs."""
    if isinstance(headers, Headers):
        return headers
    if isinstance(headers, dict):
        return Headers((to_bytes(k), to_bytes(v)) for k, v in headers.items())
    if isinstance(headers, Iterable):
        return Headers(headers)
    raise TypeError(f"Expected headers to be an iterable or dict, but is {type(headers).__name__}.")


class Message(Serializable):
    """What requests and responses share: version, headers, body, trailers, timestamps."""

    data: MessageData
    _data_class: ClassVar[type[MessageData]] = MessageData

    stream: Any = False
    """Whether the proxy streams the body (kept for API compatibility; unused here)."""

    @classmethod
    def from_state(cls, state: State) -> Self:
        m = cls.__new__(cls)
        m.data = cls._data_class.from_state(state)
        return m

    def get_state(self) -> State:
        return self.data.get_state()

    def set_state(self, state: State) -> None:
        self.data.set_state(state)

    @property
    def http_version(self) -> str:
        """The HTTP version, for example `HTTP/1.1`."""
        return _utf8(self.data.http_version)

    @http_version.setter
    def http_version(self, value: str | bytes) -> None:
        self.data.http_version = to_bytes(value)

    @property
    def is_http10(self) -> bool:
        return self.data.http_version == b"HTTP/1.0"

    @property
    def is_http11(self) -> bool:
        return self.data.http_version == b"HTTP/1.1"

    @property
    def is_http2(self) -> bool:
        return self.data.http_version == b"HTTP/2.0"

    @property
    def is_http3(self) -> bool:
        return self.data.http_version == b"HTTP/3"

    @property
    def headers(self) -> Headers:
        """The header fields."""
        return self.data.headers

    @headers.setter
    def headers(self, value: Headers) -> None:
        self.data.headers = value

    @property
    def trailers(self) -> Headers | None:
        """The trailer fields sent after the body, if any."""
        return self.data.trailers

    @trailers.setter
    def trailers(self, value: Headers | None) -> None:
        self.data.trailers = value

    @property
    def raw_content(self) -> bytes | None:
        """The body as sent (still compressed); never raises."""
        return self.data.content

    @raw_content.setter
    def raw_content(self, value: bytes | None) -> None:
        self.data.content = value

    @property
    def content(self) -> bytes | None:
        """The body without its Content-Encoding; ValueError if that does not decode."""
        return self.get_content()

    @content.setter
    def content(self, value: bytes | None) -> None:
        self.set_content(value)

    @property
    def text(self) -> str | None:
        """The decoded body as text in its charset; ValueError if it does not decode."""
        return self.get_text()

    @text.setter
    def text(self, value: str | None) -> None:
        self.set_text(value)

    def set_content(self, value: bytes | None) -> None:
        """Set the body, compressing it with the message's Content-Encoding (an unknown
        coding is removed) and updating Content-Length unless Transfer-Encoding is set."""
        if value is None:
            self.raw_content = None
            return
        if not isinstance(value, bytes):
            raise TypeError(
                f"Message content must be bytes, not {type(value).__name__}. "
                "Please use .text if you want to assign a str."
            )
        coding = self.headers.get("content-encoding")
        try:
            self.raw_content = encoding.encode(value, coding or "identity")
        except ValueError:
            del self.headers["content-encoding"]
            self.raw_content = value
        if "transfer-encoding" not in self.headers:
            self.headers["content-length"] = str(len(self.raw_content or b""))

    def get_content(self, strict: bool = True) -> bytes | None:
        """The decoded body; with `strict=False` a body that does not decode is returned
        as sent instead of raising ValueError."""
        raw = self.raw_content
        if raw is None:
            return None
        coding = self.headers.get("content-encoding")
        if not coding:
            return raw
        try:
            decoded = encoding.decode(raw, coding)
            if isinstance(decoded, str):  # a charset named as content coding, e.g. utf8
                raise ValueError(f"Invalid Content-Encoding: {coding}")
            return decoded  # type: ignore[no-any-return]
        except ValueError:
            if strict:
                raise
            return raw

    def set_text(self, text: str | None) -> None:
        """Set the body from text, in the Content-Type's charset (falling back to UTF-8
        and saying so in the Content-Type when the charset cannot encode it)."""
        if text is None:
            self.content = None
            return
        charset = infer_content_encoding(self.headers.get("content-type", ""))
        try:
            self.content = encoding.encode(text, charset)
        except ValueError:
            ct = parse_content_type(self.headers.get("content-type", "")) or ("text", "plain", {})
            ct[2]["charset"] = "utf-8"
            self.headers["content-type"] = assemble_content_type(*ct)
            self.content = text.encode("utf8", "surrogateescape")

    def get_text(self, strict: bool = True) -> str | None:
        """The body as text; with `strict=False` an undecodable body comes back as
        surrogate-escaped UTF-8 instead of raising ValueError."""
        content = self.get_content(strict)
        if content is None:
            return None
        charset = infer_content_encoding(self.headers.get("content-type", ""), content)
        try:
            text: str = encoding.decode(content, charset)
            return text
        except ValueError:
            if strict:
                raise
            return content.decode("utf8", "surrogateescape")

    @property
    def timestamp_start(self) -> float:
        """When the headers were received."""
        return self.data.timestamp_start

    @timestamp_start.setter
    def timestamp_start(self, value: float) -> None:
        self.data.timestamp_start = value

    @property
    def timestamp_end(self) -> float | None:
        """When the last byte was received."""
        return self.data.timestamp_end

    @timestamp_end.setter
    def timestamp_end(self, value: float | None) -> None:
        self.data.timestamp_end = value

    def decode(self, strict: bool = True) -> None:
        """Decode the body with its Content-Encoding and remove that header."""
        decoded = self.get_content(strict)
        self.headers.pop("content-encoding", None)
        self.content = decoded

    def encode(self, encoding: str) -> None:
        """Compress the body as it is now with `encoding` (gzip, deflate, br, zstd,
        identity), replacing any Content-Encoding; ValueError for an unknown one."""
        self.headers["content-encoding"] = encoding
        self.content = self.raw_content
        if "content-encoding" not in self.headers:
            raise ValueError(f"Invalid content encoding {encoding!r}")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON (`json.loads(**kwargs)`); TypeError without a body."""
        content = self.get_content(strict=False)
        if content is None:
            raise TypeError("Message content is not available.")
        return json.loads(content, **kwargs)


class Request(Message):
    """An HTTP request."""

    data: RequestData
    _data_class = RequestData

    def __init__(
        self,
        host: str | bytes,
        port: int,
        method: str | bytes,
        scheme: str | bytes,
        authority: str | bytes,
        path: str | bytes,
        http_version: str | bytes,
        headers: Headers | tuple[tuple[bytes, bytes], ...],
        content: bytes | None,
        trailers: Headers | tuple[tuple[bytes, bytes], ...] | None,
        timestamp_start: float,
        timestamp_end: float | None,
    ) -> None:
        if isinstance(host, bytes):
            host = host.decode("idna", "strict")
        _no_text_content(content)
        self.data = RequestData(
            host=host,
            port=port,
            method=_ascii(method),
            scheme=_ascii(scheme),
            authority=_ascii(authority),
            path=_ascii(path),
            http_version=_ascii(http_version),
            headers=headers if isinstance(headers, Headers) else Headers(headers),
            content=content,
            trailers=(
                trailers if trailers is None or isinstance(trailers, Headers) else Headers(trailers)
            ),
            timestamp_start=timestamp_start,
            timestamp_end=timestamp_end,
        )

    def __repr__(self) -> str:
        hostport = f"{self.host}:{self.port}" if self.host and self.port else ""
        return f"Request({self.method} {hostport}{self.path or ''})"

    @classmethod
    def make(
        cls,
        method: str,
        url: str,
        content: bytes | str = "",
        headers: Headers | dict[str | bytes, str | bytes] | Iterable[tuple[bytes, bytes]] = (),
    ) -> Request:
        """A request built from a method, a URL, a body (bytes or text) and headers."""
        now = time.time()
        req = cls(
            "",
            0,
            method.encode("utf-8", "surrogateescape"),
            b"",
            b"",
            b"",
            b"HTTP/1.1",
            _make_headers(headers),
            b"",
            None,
            now,
            now,
        )
        req.url = url
        if isinstance(content, bytes):
            req.content = content
        elif isinstance(content, str):
            req.text = content
        else:
            raise TypeError(
                f"Expected content to be str or bytes, but is {type(content).__name__}."
            )
        return req

    @property
    def first_line_format(self) -> str:
        """`authority` (CONNECT), `absolute` (with an authority) or `relative`."""
        if self.method == "CONNECT":
            return "authority"
        return "absolute" if self.authority else "relative"

    @property
    def method(self) -> str:
        """The request method, upper case, e.g. `GET`."""
        return _utf8(self.data.method).upper()

    @method.setter
    def method(self, value: str | bytes) -> None:
        self.data.method = to_bytes(value)

    @property
    def scheme(self) -> str:
        """The scheme, `http` or `https`."""
        return _utf8(self.data.scheme)

    @scheme.setter
    def scheme(self, value: str | bytes) -> None:
        self.data.scheme = to_bytes(value)

    @property
    def authority(self) -> str:
        """The request target's authority (HTTP/1) or the `:authority` (HTTP/2); empty
        for origin-form requests."""
        try:
            return self.data.authority.decode("idna")
        except UnicodeError:
            return _utf8(self.data.authority)

    @authority.setter
    def authority(self, value: str | bytes) -> None:
        if isinstance(value, bytes):
            self.data.authority = value
            return
        try:
            self.data.authority = value.encode("idna", "strict")
        except UnicodeError:
            self.data.authority = value.encode("utf8", "surrogateescape")

    @property
    def host(self) -> str:
        """The target server. Setting it updates the Host header and the authority."""
        return self.data.host

    @host.setter
    def host(self, value: str | bytes) -> None:
        self.data.host = _always_str(value, "idna")
        self._update_host_and_authority()

    @property
    def host_header(self) -> str | None:
        """The Host header, or for HTTP/2 and 3 the authority (the Host header if empty)."""
        header: str | None = self.data.headers.get("Host", None)
        if self.is_http2 or self.is_http3:
            return self.authority or header
        return header

    @host_header.setter
    def host_header(self, value: str | bytes | None) -> None:
        h2 = self.is_http2 or self.is_http3
        if value is None:
            if h2:
                self.data.authority = b""
            self.headers.pop("Host", None)
            return
        if h2:
            self.authority = value
        if not h2 or "Host" in self.headers:
            self.headers["Host"] = value

    @property
    def port(self) -> int:
        """The target port. Setting it updates the Host header and the authority."""
        return self.data.port

    @port.setter
    def port(self, value: int) -> None:
        if not isinstance(value, int):
            raise ValueError(f"Port must be an integer, not {value!r}.")
        self.data.port = value
        self._update_host_and_authority()

    def _update_host_and_authority(self) -> None:
        value = urls.hostport(self.scheme, self.host, self.port)
        if "Host" in self.data.headers:
            self.data.headers["Host"] = value
        if self.data.authority:
            self.authority = value

    @property
    def path(self) -> str:
        """The request target's path with its query, e.g. `/index.html?a=b` (or `*`)."""
        return _utf8(self.data.path)

    @path.setter
    def path(self, value: str | bytes) -> None:
        self.data.path = to_bytes(value)

    @property
    def url(self) -> str:
        """The full URL from scheme, host, port and path; setting it sets all four."""
        if self.first_line_format == "authority":
            return f"{self.host}:{self.port}"
        return urls.unparse(self.scheme, self.host, self.port, self.path)

    @url.setter
    def url(self, value: str | bytes) -> None:
        text = _always_str(value, "utf-8", "surrogateescape")
        scheme, host, port, path = urls.parse(text)
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path

    @property
    def pretty_host(self) -> str:
        """*Read-only:* the host from the Host header (or authority), else `host`."""
        authority = self.host_header
        if authority:
            return urls.parse_authority(authority, check=False)[0]
        return self.host

    @property
    def pretty_url(self) -> str:
        """*Read-only:* the URL with `pretty_host` (and its port) instead of `host`."""
        if self.first_line_format == "authority":
            return self.authority
        host_header = self.host_header
        if not host_header:
            return self.url
        host, port = urls.parse_authority(host_header, check=False)
        port = port or urls.default_port(self.scheme) or 443
        return urls.unparse(self.scheme, host, port, self.path)

    # -- views: query, cookies, forms ---------------------------------------------------

    def _get_query(self) -> tuple[tuple[str, str], ...]:
        return tuple(urls.query_decode(urllib.parse.urlparse(self.url).query))

    def _set_query(self, pairs: Sequence[tuple[str, str]]) -> None:
        query = urls.query_encode(pairs)
        _, _, path, params, _, fragment = urllib.parse.urlparse(self.url)
        self.path = urllib.parse.urlunparse(("", "", path, params, query, fragment))

    @property
    def query(self) -> MultiDictView[str, str]:
        """The query parameters, a view that reads and writes `path`."""
        return MultiDictView(self._get_query, self._set_query)

    @query.setter
    def query(self, value: Sequence[tuple[str, str]]) -> None:
        self._set_query(value)

    def _get_cookies(self) -> tuple[Any, ...]:
        return tuple(cookies.parse_cookie_headers(self.headers.get_all("Cookie")))

    def _set_cookies(self, value: Iterable[Sequence[Any]]) -> None:
        self.headers["cookie"] = cookies.format_cookie_header(value)

    @property
    def cookies(self) -> MultiDictView[str, str]:
        """The Cookie header's cookies, a view that reads and writes the headers."""
        return MultiDictView(self._get_cookies, self._set_cookies)

    @cookies.setter
    def cookies(self, value: Iterable[Sequence[Any]]) -> None:
        self._set_cookies(value)

    @property
    def path_components(self) -> tuple[str, ...]:
        """The URL path's non-empty segments, percent-decoded."""
        path = urllib.parse.urlparse(self.url).path
        return tuple(urls.unquote(part) for part in path.split("/") if part)

    @path_components.setter
    def path_components(self, components: Iterable[str]) -> None:
        path = "/" + "/".join(urls.quote(c, safe="") for c in components)
        _, _, _, params, query, fragment = urllib.parse.urlparse(self.url)
        self.path = urllib.parse.urlunparse(("", "", path, params, query, fragment))

    def anticache(self) -> None:
        """Remove the headers that could get a cached response (If-Modified-Since, ...)."""
        for name in ("if-modified-since", "if-none-match"):
            self.headers.pop(name, None)

    def anticomp(self) -> None:
        """Ask for an uncompressed response."""
        self.headers["accept-encoding"] = "identity"

    def constrain_encoding(self) -> None:
        """Keep only the Accept-Encoding codings that can be decoded here."""
        accept = self.headers.get("accept-encoding")
        if accept:
            known = {"gzip", "identity", "deflate", "br", "zstd"}
            self.headers["accept-encoding"] = ", ".join(e for e in known if e in accept)

    def _get_urlencoded_form(self) -> tuple[tuple[str, str], ...]:
        if "application/x-www-form-urlencoded" in self.headers.get("content-type", "").lower():
            return tuple(urls.query_decode(self.get_text(strict=False) or ""))
        return ()

    def _set_urlencoded_form(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.headers["content-type"] = "application/x-www-form-urlencoded"
        self.content = urls.query_encode(pairs, self.get_text(strict=False)).encode()

    @property
    def urlencoded_form(self) -> MultiDictView[str, str]:
        """The URL-encoded form fields (empty unless the Content-Type says so), a view
        that reads and writes the body."""
        return MultiDictView(self._get_urlencoded_form, self._set_urlencoded_form)

    @urlencoded_form.setter
    def urlencoded_form(self, value: Sequence[tuple[str, str]]) -> None:
        self._set_urlencoded_form(value)

    def _get_multipart_form(self) -> list[tuple[bytes, bytes]]:
        if "multipart/form-data" in self.headers.get("content-type", "").lower():
            content = self.content
            if content is not None:
                try:
                    return decode_multipart(self.headers.get("content-type"), content)
                except ValueError:
                    pass
        return []

    def _set_multipart_form(self, value: list[tuple[bytes, bytes]]) -> None:
        ct = self.headers.get("content-type", "")
        if not ct.lower().startswith("multipart/form-data"):
            boundary = "-" * 20 + binascii.hexlify(os.urandom(16)).decode()
            ct = f"multipart/form-data; boundary={boundary}"
            self.headers["content-type"] = ct
        self.content = encode_multipart(ct, value)

    @property
    def multipart_form(self) -> MultiDictView[bytes, bytes]:
        """The multipart/form-data fields as bytes (empty unless the Content-Type says
        so or the body does not parse), a view that reads and writes the body."""
        return MultiDictView(self._get_multipart_form, self._set_multipart_form)  # type: ignore[arg-type]

    @multipart_form.setter
    def multipart_form(self, value: list[tuple[bytes, bytes]]) -> None:
        self._set_multipart_form(value)


_REASONS_NOT_LISTED = {208, 226, 308, 421, 423, 424, 425, 426, 428, 429, 431, 451, 506, 508, 511}
REASONS: dict[int, str] = {
    **{s.value: s.phrase for s in HTTPStatus if s.value not in _REASONS_NOT_LISTED},
    205: "Reset Content.",
    408: "Request Time-out",
    413: "Payload Too Large",
    416: "Requested Range not satisfiable",
    418: "I'm a teapot",
    422: "Unprocessable Content",
    444: "No Response",
    499: "Client Closed Request",
    504: "Gateway Time-out",
    505: "HTTP Version not supported",
    507: "Insufficient Storage Space",
}
"""The reason phrase `Response.make` gives each status code (mitmproxy's table)."""


def _pretty_size(size: int) -> str:
    value: float = size
    if value < 1024:
        return f"{value}b"
    for suffix in "kmgt":
        value /= 1024
        if value < 99.95:
            return f"{value:.1f}{suffix}"
        if value < 1024 or suffix == "t":
            return f"{value:.0f}{suffix}"
    raise AssertionError("unreachable")


class Response(Message):
    """An HTTP response."""

    data: ResponseData
    _data_class = ResponseData

    def __init__(
        self,
        http_version: bytes,
        status_code: int,
        reason: bytes,
        headers: Headers | tuple[tuple[bytes, bytes], ...],
        content: bytes | None,
        trailers: Headers | tuple[tuple[bytes, bytes], ...] | None,
        timestamp_start: float,
        timestamp_end: float | None,
    ) -> None:
        _no_text_content(content)
        self.data = ResponseData(
            http_version=_ascii(http_version),
            status_code=status_code,
            reason=_ascii(reason),
            headers=headers if isinstance(headers, Headers) else Headers(headers),
            content=content,
            trailers=(
                trailers if trailers is None or isinstance(trailers, Headers) else Headers(trailers)
            ),
            timestamp_start=timestamp_start,
            timestamp_end=timestamp_end,
        )

    def __repr__(self) -> str:
        if self.raw_content:
            ct = self.headers.get("content-type", "unknown content type")
            details = f"{ct}, {_pretty_size(len(self.raw_content))}"
        else:
            details = "no content"
        return f"Response({self.status_code}, {details})"

    @classmethod
    def make(
        cls,
        status_code: int = 200,
        content: bytes | str = b"",
        headers: Headers | Mapping[str, str | bytes] | Iterable[tuple[bytes, bytes]] = (),
    ) -> Response:
        """A response built from a status code, a body (bytes or text) and headers."""
        now = time.time()
        resp = cls(
            b"HTTP/1.1",
            status_code,
            REASONS.get(status_code, "").encode(),
            _make_headers(headers),
            None,
            None,
            now,
            now,
        )
        if isinstance(content, bytes):
            resp.content = content
        elif isinstance(content, str):
            resp.text = content
        else:
            raise TypeError(
                f"Expected content to be str or bytes, but is {type(content).__name__}."
            )
        return resp

    @property
    def status_code(self) -> int:
        """The status code, e.g. `200`."""
        return self.data.status_code

    @status_code.setter
    def status_code(self, value: int) -> None:
        self.data.status_code = value

    @property
    def reason(self) -> str:
        """The reason phrase, e.g. `Not Found` (empty for HTTP/2), read as latin-1."""
        return self.data.reason.decode("ISO-8859-1")

    @reason.setter
    def reason(self, value: str | bytes) -> None:
        self.data.reason = value.encode("ISO-8859-1") if isinstance(value, str) else value

    def _get_cookies(self) -> tuple[Any, ...]:
        parsed = cookies.parse_set_cookie_headers(self.headers.get_all("set-cookie"))
        return tuple((name, (value, attrs)) for name, value, attrs in parsed)

    def _set_cookies(self, value: Iterable[tuple[str, Any]]) -> None:
        lines = [cookies.format_set_cookie_header([(k, v[0], v[1])]) for k, v in value]
        self.headers.set_all("set-cookie", lines)

    @property
    def cookies(self) -> MultiDictView[str, tuple[str, Any]]:
        """The Set-Cookie cookies: name -> `(value, attributes)`, where attributes is a
        `CookieAttrs` multidict (a flag such as HttpOnly has the value None). A view that
        reads and writes the headers; reassign the tuple to change attributes."""
        return MultiDictView(self._get_cookies, self._set_cookies)

    @cookies.setter
    def cookies(self, value: Iterable[tuple[str, Any]]) -> None:
        self._set_cookies(value)

    def refresh(self, now: float | None = None) -> None:
        """Shift the Date, Expires and Last-Modified headers and cookie expiry dates by
        the time since the response, so that a replayed response looks fresh."""
        if not now:
            now = time.time()
        delta = now - self.timestamp_start
        for name in ("date", "expires", "last-modified"):
            if name in self.headers:
                parsed = parsedate_tz(self.headers[name])
                if parsed:
                    with contextlib.suppress(OSError):  # out of range on some platforms
                        self.headers[name] = formatdate(mktime_tz(parsed) + delta, usegmt=True)
        refreshed = []
        for line in self.headers.get_all("set-cookie"):
            try:
                refreshed.append(_refresh_set_cookie(line, delta))
            except ValueError:
                refreshed.append(line)
        if refreshed:
            self.headers.set_all("set-cookie", refreshed)


def _refresh_set_cookie(line: str, delta: float) -> str:
    parsed = cookies.parse_set_cookie_headers([line])
    for name, value, attrs in parsed:
        if not name or not value:
            raise ValueError("Invalid Cookie")
        if "expires" in attrs:
            when = parsedate_tz(attrs["expires"] or "")
            if when:
                attrs.set_all("expires", [formatdate(mktime_tz(when) + delta, usegmt=True)])
            else:
                del attrs["expires"]
    return cookies.format_set_cookie_header(parsed)


class HTTPFlow(Flow):
    """One HTTP exchange: a request, its response if any, and, when the request
    upgraded the connection, the WebSocket that followed.

    A flow can have both a response and an `error` (say, the response arrived but could
    not be sent on to the client).
    """

    request: Request
    """The client's request."""
    response: Response | None
    """The server's response, if there was one."""
    websocket: WebSocketData | None
    """The WebSocket data, if this request opened a WebSocket."""

    def __init__(self, client_conn: Client, server_conn: Server, live: bool = False) -> None:
        super().__init__(client_conn, server_conn, live)
        self.response = None
        self.websocket = None

    def get_state(self) -> State:
        return {
            **super().get_state(),
            "request": self.request.get_state(),
            "response": self.response.get_state() if self.response else None,
            "websocket": self.websocket.get_state() if self.websocket else None,
        }

    def set_state(self, state: State) -> None:
        if not isinstance(state, dict):
            raise ValueError("Invalid HTTPFlow state: expected a dict.")
        missing = [k for k in ("request", "response", "websocket") if k not in state]
        if missing:
            raise ValueError(f"Missing fields in HTTPFlow state: {', '.join(missing)}")
        request_state = state.pop("request")
        if request_state is None:
            raise ValueError("Attribute request must not be None.")
        request = Request.from_state(request_state)
        response_state = state.pop("response")
        response = Response.from_state(response_state) if response_state else None
        websocket_state = state.pop("websocket")
        websocket = WebSocketData.from_state(websocket_state) if websocket_state else None
        super().set_state(state)
        self.request, self.response, self.websocket = request, response, websocket

    def __repr__(self) -> str:
        s = "<HTTPFlow"
        for name in ("request", "response", "websocket", "error", "client_conn", "server_conn"):
            value = getattr(self, name, None)
            if value:
                s += f"\r\n  {name} = {value}"
        return s + ">"

    @property
    def timestamp_start(self) -> float:
        """*Read-only:* the request's `timestamp_start`."""
        return self.request.timestamp_start

    @property
    def mode(self) -> str:
        """Deprecated in mitmproxy (use `client_conn.proxy_mode`); kept for old scripts."""
        warnings.warn("HTTPFlow.mode is deprecated.", DeprecationWarning, stacklevel=2)
        return getattr(self, "_mode", "regular")

    @mode.setter
    def mode(self, value: str) -> None:
        warnings.warn("HTTPFlow.mode is deprecated.", DeprecationWarning, stacklevel=2)
        self._mode = value

    # -- flowtui shorthands used by the list and the inspector (not in mitmproxy) -------

    @property
    def method(self) -> str:
        """Shorthand for `request.method`."""
        return self.request.method

    @property
    def pretty_url(self) -> str:
        """Shorthand for `request.pretty_url` (the URL as the client addressed it)."""
        return self.request.pretty_url

    @property
    def status_code(self) -> int | None:
        """The response's status code, or None without a response."""
        return self.response.status_code if self.response else None

    @property
    def websocket_messages(self) -> int | None:
        """How many WebSocket messages the flow holds, or None if it is not a WebSocket."""
        return len(self.websocket.messages) if self.websocket is not None else None
