"""flowtui's filters against mitmproxy's own `mitmproxy.flowfilter`, flow by flow.

Every capture of the shared fixtures and of the test data is read twice, by flowtui's
reader and by mitmproxy's `FlowReader`; each expression is compiled by both and applied
to both readings of every flow: the answers must be equal. Where flowtui answers from
summaries (`on_summaries`), the summary of the decoded flow and the summary the index
pass made without decoding (`CaptureIndexer`) must answer the same.

flowtui's documented differences are kept out of the comparison, not hidden: its
regexes are case-insensitive everywhere (so mitmproxy gets each argument with `(?i)`),
and a bare word on a TCP or UDP flow searches the messages (mitmproxy: never matches),
so bare words are compared on HTTP and DNS flows only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from flowtui.core.filters import parse
from flowtui.core.summary import summarize
from flowtui.io import read_flows
from flowtui.io.lazy import CaptureIndexer

pytest.importorskip("mitmproxy.flowfilter")
from mitmproxy import flowfilter
from mitmproxy.io import FlowReader as MitmproxyReader

pytestmark = pytest.mark.mitmproxy

ROOT = Path(__file__).resolve().parent.parent.parent
SHARED = Path("/work/shared/fixtures")


def _captures() -> list[Path]:
    found: dict[str, Path] = {}
    paths = [*sorted(SHARED.glob("mitmproxy-*/*.flows"))] if SHARED.is_dir() else []
    paths += sorted((ROOT / "tests" / "data").glob("mitmproxy-*/*.flows"))
    paths.append(ROOT / "flowtui" / "sample" / "sample.flows")
    for path in paths:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        found.setdefault(digest, path)  # the same capture in both places: once
    return list(found.values())


CAPTURES = _captures()

NO_ARG = ["~all", "~e", "~marked", "~http", "~tcp", "~udp", "~dns", "~websocket", "~q", "~s"]
NO_ARG += ["~a", "~replay", "~replayq", "~replays"]

REGEX_ARGS: dict[str, list[str]] = {
    "u": ["127.0.0.1", "http://", "https", "nothing-here", "comment=", "^http", "/$", "google",
          "example", "localhost", "[0-9]+/", "dns", "ws", "json", "gzip", "zzz-none"],
    "d": ["127", "example", "^127.0.0.1$", "google", "localhost", "local", "zzz-none"],
    "m": ["GET", "POST", "^GET$", "put", "T$", "CONNECT", "OPTIONS", "zzz-none"],
    "h": ["host", "content-type", "^content-type: text", "gzip", "accept", "cookie",
          "upgrade", "set-cookie", "x-", "server: ", ": $", "zzz-none"],
    "hq": ["host", "user-agent", "accept-encoding", "cookie", "content-length", "upgrade",
           "zzz-none"],
    "hs": ["server", "content-encoding", "set-cookie", "date", "content-length", "zzz-none"],
    "t": ["json", "text", "html", "^text/plain", "charset", "octet", "form", "image",
          "multipart", "zzz-none"],
    "tq": ["json", "form", "text", "multipart", "zzz-none"],
    "ts": ["json", "text/html", "html", "plain", "image", "javascript", "css", "zzz-none"],
    "b": ["hello", "json", "ok", "a", "zzz-none", "{", "ping", "EHLO", "world", "[0-9]{3}"],
    "bq": ["hello", "name", "ping", "a", "zzz-none", "EHLO", "="],
    "bs": ["hello", "ok", "pong", "a", "zzz-none", "250", "html"],
    "src": ["127.0.0.1", "^127", ":[0-9]+$", "zzz-none"],
    "dst": ["127.0.0.1", "^127", "zzz-none", "google"],
    "comment": ["comment", "unicode", "zzz-none", "^$"],
    "marker": [":grapes:", "star", "zzz-none"],
}  # fmt: skip
CODES = [200, 201, 204, 301, 302, 304, 404, 418, 500, 101]
BARE = ["127.0.0.1", "example", "nothing", "google", "http", "zzz-none"]
COMBOS = [
    "~http & ~s",
    "~http & !~s",
    "~http & ~q",
    "~dns | ~websocket",
    "~t json | ~t html",
    "~m GET & ~c 200",
    "!~m GET & ~http",
    "~h gzip & ~bs hello",
    "~u 127 & !~c 404",
    "~tcp & ~b hello | ~udp & ~b hello",
    "~ts json & ~bq name",
    "~d 127 & ~t text",
    "~e & ~http",
    "~websocket & ~bs pong",
    "~websocket & ~bq ping",
    "~dns & ~s",
    "~dns & ~q",
    "~a | ~ts image",
    "~hq host & ~hs server",
    "!~http & !~tcp",
]

Expr = tuple[str, str, bool]
"""(flowtui expression, mitmproxy expression, compare on HTTP/DNS flows only)."""


def _expressions() -> list[Expr]:
    out: list[Expr] = [(e, e, False) for e in NO_ARG]
    for op, args in REGEX_ARGS.items():
        out += [(f'~{op} "{a}"', f'~{op} "(?i){a}"', False) for a in args]
    out += [(f"~c {c}", f"~c {c}", False) for c in CODES]
    out += [(w, f'"(?i){w}"', True) for w in BARE]
    for expr in COMBOS:  # arguments here are lower case where case could matter
        theirs = " ".join(
            f'"(?i){w}"' if not w.startswith(("~", "!", "(", "|", "&")) and not w.isdigit() else w
            for w in expr.split(" ")
        )
        out.append((expr, theirs, False))
    return out


EXPRESSIONS = _expressions()


def _mitmproxy_flows(path: Path) -> list[Any]:
    with path.open("rb") as f:
        return list(MitmproxyReader(f).stream())


@pytest.fixture(scope="module")
def readings() -> list[tuple[str, Any, Any, Any, Any]]:
    """(capture name, flowtui flow, mitmproxy flow, summary, index summary) per flow."""
    out = []
    for path in CAPTURES:
        ours, theirs = read_flows(path), _mitmproxy_flows(path)
        index = [e.summary for e in CaptureIndexer(path).entries()]
        assert [f.id for f in ours] == [f.id for f in theirs] == [f.id for f in ours]
        assert len(index) == len(ours)
        name = f"{path.parent.name}/{path.name}"
        out += [(name, o, t, summarize(o), s) for o, t, s in zip(ours, theirs, index, strict=True)]
    return out


def test_enough_expressions_and_flows(readings: list[Any]) -> None:
    assert len(EXPRESSIONS) >= 150
    kinds = {flow.type for _, flow, *_ in readings}
    assert {"http", "tcp", "udp", "dns"} <= kinds
    assert any(flow.type == "http" and flow.websocket for _, flow, *_ in readings)


@pytest.mark.parametrize(
    ("ours", "theirs", "http_only"), EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS]
)
def test_filter_answers_as_mitmproxy(
    ours: str, theirs: str, http_only: bool, readings: list[Any]
) -> None:
    flt = parse(ours)
    reference = flowfilter.parse(theirs)
    assert reference is not None, theirs
    matched = 0
    for name, flow, mflow, summary, indexed in readings:
        if http_only and flow.type not in ("http", "dns"):
            continue
        expected = bool(reference(mflow))
        assert flt(flow) == expected, (name, flow.id, flow.type)
        if flt.on_summaries:
            assert flt.match_summary(summary) == expected, (name, flow.id, "summary")
            assert flt.match_summary(indexed) == expected, (name, flow.id, "index")
        matched += expected
    assert matched >= 0


SUMMARY_FILTERS = ["~u x", "~d x", "~m GET", "~c 200", "~t json", "~tq json", "~ts json", "~a"]
SUMMARY_FILTERS += ["~q", "~s", "~dns", "~websocket", "~http & ~s & ~c 404 | ~u x"]


@pytest.mark.parametrize("expr", SUMMARY_FILTERS)
def test_http_summary_filters_need_no_decoding(expr: str, readings: list[Any]) -> None:
    flt = parse(expr)
    assert flt.on_summaries
    summaries = [indexed for *_, indexed in readings]
    expected = bytes(flt(flow) for _, flow, *_ in readings)
    assert flt.match_summaries(summaries) == expected


@pytest.mark.parametrize("expr", ["~h host", "~hq x", "~hs x", "~b x", "~bq x", "~bs x"])
def test_header_and_body_filters_need_the_flow(expr: str) -> None:
    assert not parse(expr).on_summaries
