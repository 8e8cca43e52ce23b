"""HTTP and DNS operators (`~d ~u ~m ~c ~h ~hq ~hs ~t ~tq ~ts ~a ~q ~s`).

HTTP flows are modelled: these operators read the model as mitmproxy's read theirs
(`request.pretty_url`, `request.data.method`, the header fields, the decoded body). DNS
flows' names and columns are read through their state in mitmproxy's layout
(`http_part`, as the index reads them); their bodies through the model. Every operator
here except the header ones (`~h ~hq ~hs`) also answers from the flow's summary
columns (`FlowSummary.url`, `.method`, `.status`, `.content_type`, ...), which
`flowtui.core.summary` computes from the same model properties: the flow list filters
a lazy capture without decoding a record. Every field is type-checked, a wrong type
just doesn't match.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Sequence
from typing import Any

from flowtui.core import DNSFlow, Flow, HTTPFlow
from flowtui.core.filters.columns import ColumnTest, FieldTest
from flowtui.core.filters.nodes import Node, SummaryTest
from flowtui.core.http import Message
from flowtui.core.summary import dns_columns

__all__ = [
    "ASSET_TYPES",
    "BytesRegex",
    "StatusCode",
    "asset_types",
    "decoded_content",
    "domain_texts",
    "optional_text",
    "summary_has_response",
    "summary_request_only",
    "url_texts",
]

MAX_DECODED = 64 * 1024 * 1024
"""Largest decompressed body searched; a bigger one is searched up to this size."""


def _dns_part(flow: DNSFlow, key: str) -> dict[str, Any] | None:
    """The state of a DNS flow's `request` or `response`, as the summary reads it."""
    part = flow.raw.get(key)
    return part if isinstance(part, dict) else None


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


def url_texts(flow: Flow) -> Sequence[str]:
    """`~u`: the pretty URL of an HTTP request, the first question of a DNS query (as
    the summary's `url`)."""
    if isinstance(flow, HTTPFlow):
        try:
            return (flow.request.pretty_url,)
        except ValueError:
            return ()
    if isinstance(flow, DNSFlow):
        url = dns_columns(_dns_part(flow, "request"), None)["url"]
        return () if url is None else (url,)
    return ()


def optional_text(value: str | None) -> Sequence[str]:
    """A summary field holding one text or None, as texts to search."""
    return () if value is None else (value,)


def domain_texts(flow: Flow) -> Sequence[str]:
    """`~d`: the request's host and its pretty host (from the Host header), as the
    summary's `domains`."""
    if not isinstance(flow, HTTPFlow):
        return ()
    host = flow.request.host
    try:
        pretty = flow.request.pretty_host
    except ValueError:
        pretty = host
    return (host, pretty) if pretty != host else (host,)


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


def _model_content_types(message: Message | None) -> list[bytes]:
    if message is None:
        return []
    return [v for k, v in message.headers.fields if k.lower() == b"content-type"]


def _encoded(texts: Sequence[str]) -> list[bytes]:
    """Summary texts back to the bytes they were decoded from."""
    return [t.encode("utf-8", "surrogateescape") for t in texts]


def is_asset(flow: Flow) -> bool:
    """`~a`: the response's Content-Type names a script, style sheet, image or font."""
    if not isinstance(flow, HTTPFlow):
        return False
    values = _model_content_types(flow.response)
    return any(rx.search(v) for rx in ASSET_TYPES for v in values)


def asset_types(texts: tuple[str, ...]) -> bool:
    """`~a` on the summary's response `content_type`."""
    values = _encoded(texts)
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
    return _dns_part(flow, "response") is not None


class BytesRegex(Node):
    """An HTTP operator searching byte strings of the request and/or the response
    (``parts``: ``q``, ``s`` or both); each subclass reads its own from the model."""

    def __init__(self, name: str, regex: re.Pattern[bytes], parts: str) -> None:
        self.name, self.regex, self.parts = name, regex, parts

    def dump(self) -> str:
        return f"{self.name}({self.regex.pattern!r})"


class Headers(BytesRegex):
    """`~h`, `~hq`, `~hs`: a regex over the `name: value` header lines (mitmproxy's
    `bytes(headers)`), read from the model's fields."""

    def __call__(self, flow: Flow) -> bool:
        if not isinstance(flow, HTTPFlow):
            return False
        search = self.regex.search
        for key in self.parts:
            message = flow.request if key == "q" else flow.response
            if message is not None and search(_header_lines(message)):
                return True
        return False


def _header_lines(message: Message) -> bytes:
    lines = [name + b": " + value for name, value in message.headers.fields]
    return b"\r\n".join(lines) + b"\r\n" if lines else b""


_CT_FIELDS = {"q": "request_content_type", "s": "content_type"}


class ContentType(BytesRegex):
    """`~t`, `~tq`, `~ts`: a regex over each Content-Type header value (summaries: the
    `request_content_type` and `content_type` columns)."""

    def __call__(self, flow: Flow) -> bool:
        if not isinstance(flow, HTTPFlow):
            return False
        search = self.regex.search
        for key in self.parts:
            message = flow.request if key == "q" else flow.response
            if any(search(v) for v in _model_content_types(message)):
                return True
        return False

    def _value_test(self, texts: tuple[str, ...]) -> bool:
        search = self.regex.search
        return any(search(v) for v in _encoded(texts))

    def on_summary(self) -> SummaryTest | None:
        tests = [FieldTest(_CT_FIELDS[key], self._value_test) for key in self.parts]
        if len(tests) == 1:
            return tests[0]
        return lambda s: any(t(s) for t in tests)

    def on_columns(self) -> ColumnTest | None:
        fields = [_CT_FIELDS[key] for key in self.parts]
        test = self._value_test

        def select(table: Any) -> int:
            mask = 0
            for field in fields:
                mask |= table.field_mask(field, test)
            return mask

        return select


class Method(Node):
    """`~m`: a regex over the request method as sent (summaries: `method`)."""

    def __init__(self, regex: re.Pattern[bytes]) -> None:
        self.regex = regex

    def __call__(self, flow: Flow) -> bool:
        return isinstance(flow, HTTPFlow) and bool(self.regex.search(flow.request.data.method))

    def on_summary(self) -> SummaryTest | None:
        search = self.regex.search
        return FieldTest(
            "method",
            lambda v: v is not None and bool(search(v.encode("utf-8", "surrogateescape"))),
        )

    def dump(self) -> str:
        return f"~m({self.regex.pattern!r})"


class StatusCode(Node):
    """`~c CODE`: the response status code equals CODE (summaries: `status`)."""

    def __init__(self, code: int) -> None:
        self.code = code

    def __call__(self, flow: Flow) -> bool:
        return isinstance(flow, HTTPFlow) and flow.status_code == self.code

    def on_summary(self) -> SummaryTest | None:
        code = self.code
        return FieldTest("status", lambda v: v == code)

    def dump(self) -> str:
        return f"~c({self.code})"


def summary_has_response(value: bool | None) -> bool:
    """`~s` on the summary's `response` column (None: neither HTTP nor DNS)."""
    return value is True


def summary_request_only(value: bool | None) -> bool:
    """`~q` on the summary's `response` column."""
    return value is False
