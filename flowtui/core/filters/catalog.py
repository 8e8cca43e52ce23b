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
from flowtui.core.filters.nodes import Const, Node, Predicate, TextRegex
from flowtui.core.filters.regex import compile_pattern
from flowtui.core.summary import FlowSummary

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
    test: Callable[[Any], bool], name: str, summary: Callable[[FlowSummary], bool] | None = None
) -> Callable[[Any], Node]:
    return lambda _arg: Predicate(name, test, summary)


def _texts(
    name: str,
    texts: Callable[[Any], Any],
    flags: int = 0,
    summary: Callable[[FlowSummary], Any] | None = None,
) -> Callable[[Any], Node]:
    return lambda arg: TextRegex(name, arg.regex(str, flags), texts, summary)


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
    Operator("e", "none", "flows with an error", _pred(nodes.has_error, "~e", lambda s: s.error)),
    Operator(
        "marked",
        "none",
        "marked flows",
        _pred(nodes.is_marked, "~marked", lambda s: bool(s.marked)),
    ),
    Operator(
        "marker",
        "regex",
        "flows marked with a matching marker",
        _texts("~marker", nodes.marker_texts, summary=lambda s: (s.marked,)),
    ),
    Operator(
        "comment",
        "regex",
        "flow comment",
        _texts("~comment", nodes.comment_texts, _M, lambda s: (s.comment,)),
    ),
    Operator(
        "meta",
        "regex",
        "flow metadata (`key: value` lines)",
        _texts("~meta", nodes.meta_texts, _M, lambda s: (s.meta,) if s.meta else ()),
    ),
    Operator(
        "src",
        "regex",
        "client address `host:port`",
        _texts("~src", nodes.src_texts, summary=lambda s: s.src),
    ),
    Operator(
        "dst",
        "regex",
        "server address `host:port`, or its SNI",
        _texts("~dst", nodes.dst_texts, summary=lambda s: s.dst),
    ),
    Operator(
        "replay",
        "none",
        "replayed flows",
        _pred(nodes.is_replay, "~replay", lambda s: s.replay is not None),
    ),
    Operator(
        "replayq",
        "none",
        "replayed client requests",
        _pred(nodes.is_replay_request, "~replayq", lambda s: s.replay == "request"),
    ),
    Operator(
        "replays",
        "none",
        "replayed server responses",
        _pred(nodes.is_replay_response, "~replays", lambda s: s.replay == "response"),
    ),
    Operator("tcp", "none", "TCP flows", _pred(nodes.is_tcp, "~tcp", lambda s: s.type == "tcp")),
    Operator("udp", "none", "UDP flows", _pred(nodes.is_udp, "~udp", lambda s: s.type == "udp")),
    Operator(
        "http", "none", "HTTP flows", _pred(nodes.is_http, "~http", lambda s: s.type == "http")
    ),
    Operator("dns", "none", "DNS flows", _pred(nodes.is_dns, "~dns", lambda s: s.type == "dns")),
    Operator(
        "websocket",
        "none",
        "WebSocket flows",
        _pred(nodes.is_websocket, "~websocket", lambda s: s.websocket),
    ),
    Operator("b", "regex", "content sent either way", _body("~b", content.BOTH)),
    Operator("bq", "regex", "content sent by the client", _body("~bq", content.CLIENT)),
    Operator("bs", "regex", "content sent by the server", _body("~bs", content.SERVER)),
    Operator(
        "sni",
        "regex",
        "TLS server name (either side)",
        _texts("~sni", tls.sni_texts, summary=lambda s: s.sni),
    ),
    Operator("tls", "version", "TLS established; `~tls 1.3`: that version", _tls),
    Operator(
        "alpn",
        "regex",
        "ALPN protocol, negotiated or offered",
        _texts("~alpn", tls.alpn_texts, summary=lambda s: s.alpn),
    ),
    Operator(
        "cert", "regex", "certificate subject, issuer or SAN", _texts("~cert", tls.cert_texts)
    ),
    Operator("size", "size", "total content bytes, e.g. `>10k`, `<=512`", _size),
    Operator(
        "q", "none", "HTTP/DNS requests without a response", _pred(http.has_request_only, "~q")
    ),
    Operator("s", "none", "HTTP/DNS flows with a response", _pred(http.has_response, "~s")),
    Operator("d", "regex", "HTTP request domain", _texts("~d", http.domain_texts)),
    Operator("u", "regex", "HTTP URL (DNS: first question)", _texts("~u", http.url_texts)),
    Operator("m", "regex", "HTTP method", lambda arg: http.Method(arg.regex(bytes))),
    Operator("c", "code", "HTTP response status code", lambda arg: http.StatusCode(int(arg.value))),
    Operator("h", "regex", "HTTP header line `name: value`", _http(http.Headers, "~h", "qs", _M)),
    Operator("hq", "regex", "HTTP request header", _http(http.Headers, "~hq", "q", _M)),
    Operator("hs", "regex", "HTTP response header", _http(http.Headers, "~hs", "s", _M)),
    Operator("t", "regex", "HTTP Content-Type", _http(http.ContentType, "~t", "qs")),
    Operator("tq", "regex", "HTTP request Content-Type", _http(http.ContentType, "~tq", "q")),
    Operator("ts", "regex", "HTTP response Content-Type", _http(http.ContentType, "~ts", "s")),
    Operator(
        "a", "none", "HTTP assets: CSS, JavaScript, images, fonts", _pred(http.is_asset, "~a")
    ),
]

OPERATORS: dict[str, Operator] = {op.name: op for op in _ALL}
"""The operators by name (without `~`), in help order."""
