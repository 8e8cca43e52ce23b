"""Every `~operator`: its name, the argument it takes, its help line and how it is built.

mitmproxy's operators keep mitmproxy's names and meaning; `~sni ~tls ~alpn ~cert ~size`
are flowtui's additions for TCP and TLS traffic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, AnyStr, Literal

from flowtui.core.filters import content, http, nodes, tls
from flowtui.core.filters.columns import FieldTest
from flowtui.core.filters.nodes import Const, Node, Predicate, TextRegex
from flowtui.core.filters.regex import compile_pattern

__all__ = ["OPERATORS", "Arg", "ArgKind", "Operator"]

ArgKind = Literal["none", "regex", "code", "size", "version"]


@dataclass(frozen=True)
class Arg:
    """An operator's argument as written, with where each character came from."""

    op: str
    """The operator it belongs to, e.g. `~b` (for messages)."""
    value: str
    """The text, unquoted."""
    pos: int
    """Offset of the argument (its opening quote, if quoted) in the expression."""
    offsets: list[int]
    """Offset in the expression of each character of `value`."""

    def regex(self, kind: type[AnyStr], flags: int = 0) -> re.Pattern[AnyStr]:
        """The argument compiled as a case-insensitive regex (FilterError if it is bad)."""
        return compile_pattern(
            self.value, kind, flags=flags, what=self.op, pos=self.pos, offsets=self.offsets
        )


@dataclass(frozen=True)
class Operator:
    """One `~name` of the filter language."""

    name: str
    """The name after the `~`."""
    arg: ArgKind
    """What follows it: nothing, a regex, a status code, a size comparison, or an
    optional TLS version."""
    help: str
    """One line for help screens."""
    build: Callable[[Any], Node]
    """Makes the node, from an `Arg` (None for operators without argument)."""


def _pred(
    test: Callable[[Any], bool],
    name: str,
    field: str | None = None,
    value_test: Callable[[Any], bool] = bool,
) -> Callable[[Any], Node]:
    """An operator without argument; with `field`, summaries answer it: `value_test` of
    that field's value."""
    summary = None if field is None else FieldTest(field, value_test)
    return lambda _arg: Predicate(name, test, summary)


def _texts(
    name: str,
    texts: Callable[[Any], Any],
    flags: int = 0,
    field: str | None = None,
    field_texts: Callable[[Any], Any] | None = None,
) -> Callable[[Any], Node]:
    """A regex operator; with `field`, summaries answer it from that field's texts
    (`field_texts` of its value, or the value itself when it is a tuple of texts)."""
    return lambda arg: TextRegex(name, arg.regex(str, flags), texts, field, field_texts)


def _meta_text(value: str) -> tuple[str, ...]:
    return (value,) if value else ()


def _body(name: str, side: str) -> Callable[[Any], Node]:
    return lambda arg: content.Body(name, arg.regex(bytes, re.DOTALL), side)


def _http(
    cls: type[http.BytesRegex], name: str, parts: str, flags: int = 0
) -> Callable[[Any], Node]:
    return lambda arg: cls(name, arg.regex(bytes, flags), parts)


def _tls(arg: Arg | None) -> Node:
    return tls.Tls(None if arg is None else arg.regex(str))


def _size(arg: Arg) -> Node:
    op, limit = content.parse_size(arg.value) or ("=", 0)  # validated by the parser
    return content.Size(op, limit)


_M = re.MULTILINE
_ALL: list[Operator] = [
    Operator("all", "none", "all flows", lambda _arg: Const("~all", True)),
    Operator("e", "none", "flows with an error", _pred(nodes.has_error, "~e", "error")),
    Operator(
        "marked",
        "none",
        "marked flows",
        _pred(nodes.is_marked, "~marked", "marked"),
    ),
    Operator(
        "marker",
        "regex",
        "flows marked with a matching marker",
        _texts("~marker", nodes.marker_texts, field="marked", field_texts=nodes.one_text),
    ),
    Operator(
        "comment",
        "regex",
        "flow comment",
        _texts("~comment", nodes.comment_texts, _M, "comment", nodes.one_text),
    ),
    Operator(
        "meta",
        "regex",
        "flow metadata (`key: value` lines)",
        _texts("~meta", nodes.meta_texts, _M, "meta", _meta_text),
    ),
    Operator(
        "src",
        "regex",
        "client address `host:port`",
        _texts("~src", nodes.src_texts, field="src"),
    ),
    Operator(
        "dst",
        "regex",
        "server address `host:port`, or its SNI",
        _texts("~dst", nodes.dst_texts, field="dst"),
    ),
    Operator(
        "replay",
        "none",
        "replayed flows",
        _pred(nodes.is_replay, "~replay", "replay", lambda v: v is not None),
    ),
    Operator(
        "replayq",
        "none",
        "replayed client requests",
        _pred(nodes.is_replay_request, "~replayq", "replay", lambda v: v == "request"),
    ),
    Operator(
        "replays",
        "none",
        "replayed server responses",
        _pred(nodes.is_replay_response, "~replays", "replay", lambda v: v == "response"),
    ),
    Operator("tcp", "none", "TCP flows", _pred(nodes.is_tcp, "~tcp", "type", lambda v: v == "tcp")),
    Operator("udp", "none", "UDP flows", _pred(nodes.is_udp, "~udp", "type", lambda v: v == "udp")),
    Operator(
        "http", "none", "HTTP flows", _pred(nodes.is_http, "~http", "type", lambda v: v == "http")
    ),
    Operator("dns", "none", "DNS flows", _pred(nodes.is_dns, "~dns", "type", lambda v: v == "dns")),
    Operator(
        "websocket",
        "none",
        "WebSocket flows",
        _pred(nodes.is_websocket, "~websocket", "websocket"),
    ),
    Operator("b", "regex", "content sent either way", _body("~b", content.BOTH)),
    Operator("bq", "regex", "content sent by the client", _body("~bq", content.CLIENT)),
    Operator("bs", "regex", "content sent by the server", _body("~bs", content.SERVER)),
    Operator(
        "sni",
        "regex",
        "TLS server name (either side)",
        _texts("~sni", tls.sni_texts, field="sni"),
    ),
    Operator("tls", "version", "TLS established; `~tls 1.3`: that version", _tls),
    Operator(
        "alpn",
        "regex",
        "ALPN protocol, negotiated or offered",
        _texts("~alpn", tls.alpn_texts, field="alpn"),
    ),
    Operator(
        "cert", "regex", "certificate subject, issuer or SAN", _texts("~cert", tls.cert_texts)
    ),
    Operator("size", "size", "total content bytes, e.g. `>10k`, `<=512`", _size),
    Operator(
        "q",
        "none",
        "HTTP/DNS requests without a response",
        _pred(http.has_request_only, "~q", "response", http.summary_request_only),
    ),
    Operator(
        "s",
        "none",
        "HTTP/DNS flows with a response",
        _pred(http.has_response, "~s", "response", http.summary_has_response),
    ),
    Operator("d", "regex", "HTTP request domain", _texts("~d", http.domain_texts, field="domains")),
    Operator(
        "u",
        "regex",
        "HTTP URL (DNS: first question)",
        _texts("~u", http.url_texts, field="url", field_texts=http.optional_text),
    ),
    Operator("m", "regex", "HTTP method", lambda arg: http.Method(arg.regex(bytes))),
    Operator("c", "code", "HTTP response status code", lambda arg: http.StatusCode(int(arg.value))),
    Operator("h", "regex", "HTTP header line `name: value`", _http(http.Headers, "~h", "qs", _M)),
    Operator("hq", "regex", "HTTP request header", _http(http.Headers, "~hq", "q", _M)),
    Operator("hs", "regex", "HTTP response header", _http(http.Headers, "~hs", "s", _M)),
    Operator("t", "regex", "HTTP Content-Type", _http(http.ContentType, "~t", "qs")),
    Operator("tq", "regex", "HTTP request Content-Type", _http(http.ContentType, "~tq", "q")),
    Operator("ts", "regex", "HTTP response Content-Type", _http(http.ContentType, "~ts", "s")),
    Operator(
        "a",
        "none",
        "HTTP assets: CSS, JavaScript, images, fonts",
        _pred(http.is_asset, "~a", "content_type", http.asset_types),
    ),
]

OPERATORS: dict[str, Operator] = {op.name: op for op in _ALL}
"""The operators by name (without `~`), in help order."""
