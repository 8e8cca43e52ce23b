"""The filter language (`flowtui.core.filters`) on the real mitmproxy 11 captures.

Each operator is checked against the flows the fixture README says it should pick;
then grammar (precedence, juxtaposition, quoting, case), errors with exact positions,
random input (parse or FilterError, nothing else) and agreement with mitmproxy's own
`flowfilter` on the same captures.
"""

from __future__ import annotations

import copy
import functools
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowtui.core import Cert, Flow, HTTPFlow, TCPFlow, UnknownFlow, WebSocketMessage
from flowtui.core.filters import FILTER_HELP, MAX_LENGTH, Filter, FilterError, match, parse
from flowtui.core.filters.catalog import OPERATORS
from flowtui.io import read_flows

DATA = Path(__file__).parent.parent / "data" / "mitmproxy-11"
Key = tuple[str, int]


CAPTURES = [
    DATA / f"{name}.flows"
    for name in (
        "echo_basic", "empty", "errors", "kill_intercept_mark", "mixed_protocols",
        "smtp_dialogue", "tls_alpn_chain",
    )
]  # fmt: skip
"""The captures the expected matches below were written for (later captures, such as
http_bodies, have their own tests)."""


@functools.cache
def _flows() -> dict[Key, Flow]:
    out: dict[Key, Flow] = {}
    for path in CAPTURES:
        for i, flow in enumerate(read_flows(path)):
            out[(path.name.removesuffix(".flows"), i)] = flow
    return out


def fresh(name: str, index: int) -> Flow:
    """A private copy of one fixture flow, free to change."""
    flow = _flows()[(name, index)]
    return type(flow).from_state(flow.get_state())


def matching(expr: str) -> list[Key]:
    flt = parse(expr)
    return sorted(key for key, flow in _flows().items() if flt(flow))


ALL = sorted(_flows())

# -- each operator on real flows ----------------------------------------------------------

OPERATOR_CASES: list[tuple[str, str]] = [
    ("~all", "ALL"),
    ("~e", "errors 0 2 3 4; kill_intercept_mark 0"),
    ("~marked", "echo_basic 0 1; kill_intercept_mark 2; mixed_protocols 2 10; smtp_dialogue 0"),
    ("~marker grapes", "echo_basic 0; mixed_protocols 10; smtp_dialogue 0"),
    ("~marker '^x$'", "echo_basic 1; mixed_protocols 2"),
    ("~marker default", "kill_intercept_mark 2"),
    ("~comment 'not markup'", "echo_basic 1; errors 3; mixed_protocols 6"),
    ("~comment GRÜSSE|GRÜßE", "echo_basic 1; errors 3; mixed_protocols 6"),
    ("~meta tags", "kill_intercept_mark 2"),
    ("~meta '^flowtui-test: '", "kill_intercept_mark 2"),
    ("~src 127.0.0.1", "ALL"),
    ("~src '^10\\.'", ""),
    ("~dst legacy", "tls_alpn_chain 1"),
    ("~dst pop3", "mixed_protocols 5"),
    (
        "~tcp",
        "echo_basic 0 1 2; errors 0 1 2; kill_intercept_mark 0 1 2 3; mixed_protocols 1 5;"
        "smtp_dialogue 0 1 2; tls_alpn_chain 0 1 2",
    ),
    ("~udp", "mixed_protocols 10 11"),
    ("~http", "errors 3 4; mixed_protocols 0 2 6 7 8 9"),
    ("~dns", "mixed_protocols 3 4"),
    ("~websocket", "mixed_protocols 6"),
    ("~replay", ""),
    ("~b KILL-ME", "kill_intercept_mark 0"),
    ("~b websocket", "mixed_protocols 6"),
    ("~b '127\\.0\\.0\\.1'", "mixed_protocols 3"),
    ("~bq EHLO", "smtp_dialogue 0 1 2"),
    ("~bs '^220 '", "smtp_dialogue 0 1 2"),
    ("~bs EHLO", ""),
    ("~sni imap", "tls_alpn_chain 0"),
    ("~sni '^legacy\\.flowtui\\.test$'", "tls_alpn_chain 1"),
    ("~tls", "errors 2; mixed_protocols 5; tls_alpn_chain 0 1 2"),
    ("~tls 1.2", "tls_alpn_chain 1"),
    ("~tls TLSv1.3", "errors 2; mixed_protocols 5; tls_alpn_chain 0 1 2"),
    ("~tls 1.1", ""),
    ("~alpn imap", "tls_alpn_chain 0"),
    ("~alpn pop3", "mixed_protocols 5"),
    ("~alpn 'flowtui/1'", "errors 2; mixed_protocols 5; tls_alpn_chain 0 1"),
    ("~cert 'DNS:.*flowtui'", "mixed_protocols 5; tls_alpn_chain 0 1 2"),
    ("~cert '^\\*\\.flowtui\\.test$'", "mixed_protocols 5; tls_alpn_chain 0 1 2"),
    ("~cert client", "tls_alpn_chain 0"),
    ("~size >10k", "smtp_dialogue 2"),
    ("~size <=0", "errors 0 2 3 4"),
    ("~size > 1m", ""),
    ("~q", "errors 3"),
    ("~s", "errors 4; mixed_protocols 0 2 3 4 6 7 8 9"),
    ("~d 127.0.0.1", "errors 3 4; mixed_protocols 0 2 6 7 8 9"),
    ("~u /api", "mixed_protocols 7"),
    ("~u '^ipv6\\.'", "mixed_protocols 4"),
    ("~m post", "mixed_protocols 2"),
    ("~c 404", "mixed_protocols 9"),
    ("~h Server", "mixed_protocols 0 2 7 8 9"),
    ("~hq '^user-agent: curl'", "errors 3 4; mixed_protocols 0 2 7 8 9"),
    ("~hs '^user-agent'", ""),
    ("~t json", "mixed_protocols 7"),
    ("~a", ""),
    ("api", "mixed_protocols 7; smtp_dialogue 2"),
    ("XBURST", "smtp_dialogue 0"),
]


def keys(spec: str) -> list[Key]:
    """`"errors 0 2; echo_basic 1"` -> the flows it names; `"ALL"` for every flow."""
    if spec == "ALL":
        return ALL
    out = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, *indexes = part.split()
        out += [(name, int(i)) for i in indexes]
    return sorted(out)


@pytest.mark.parametrize(("expr", "expected"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
def test_operator_on_fixtures(expr: str, expected: str) -> None:
    assert matching(expr) == keys(expected)


def test_every_operator_is_exercised() -> None:
    used = {expr.split()[0].lstrip("~") for expr, _ in OPERATOR_CASES if expr.startswith("~")}
    assert set(OPERATORS) - used <= {"replayq", "replays", "tq", "ts"}


def test_replay_operators() -> None:
    flow = fresh("echo_basic", 2)
    assert not parse("~replay | ~replayq | ~replays")(flow)
    flow.is_replay = "request"
    assert parse("~replay & ~replayq & !~replays")(flow)


def test_content_type_sides() -> None:
    flow = fresh("mixed_protocols", 7)
    assert parse("~ts json")(flow) and not parse("~tq json")(flow)


# -- the parsed filter -----------------------------------------------------------------


def test_filter_interface() -> None:
    f = parse("~tcp & ~sni example")
    assert isinstance(f, Filter)
    assert f.pattern == str(f) == "~tcp & ~sni example"
    assert repr(f) == "Filter('~tcp & ~sni example')"
    assert f == parse("~tcp & ~sni example") and hash(f) == hash(parse("~tcp & ~sni example"))
    assert match("~tcp", fresh("echo_basic", 0)) and match(f, fresh("echo_basic", 0)) is False


@pytest.mark.parametrize(
    ("expr", "needs"),
    [
        ("~tcp", False), ("~b x", True), ("~tcp & ~bq x", True), ("!~bs x", True),
        ("word", True), ("~sni a | ~cert b | ~size >1", False), ("~h x ~u y ~m z", False),
        ("~e (~c 200 | ~b x)", True),
    ],
)  # fmt: skip
def test_needs_content(expr: str, needs: bool) -> None:
    assert parse(expr).needs_content is needs


def test_help_lists_every_operator() -> None:
    names = {row[0].split()[0] for row in FILTER_HELP}
    assert {f"~{name}" for name in OPERATORS} <= names
    assert {"!", "&", "|"} <= names


# -- grammar: precedence, juxtaposition, quoting, case ----------------------------------


@pytest.mark.parametrize(
    ("expr", "tree"),
    [
        ("!~tcp & ~e | ~marked", "Or(And(Not(~tcp), ~e), ~marked)"),
        ("~tcp | ~e & ~marked", "Or(~tcp, And(~e, ~marked))"),
        ("!!~tcp", "Not(Not(~tcp))"),
        ("!(~tcp | ~udp)", "Not(Or(~tcp, ~udp))"),
        ("~tcp ~e", "And(~tcp, ~e)"),
        (
            "~tcp ~e | ~marked",
            "And(~tcp, Or(~e, ~marked))",
        ),  # as mitmproxy: juxtaposition binds loosest
        ("(~tcp ~e) | ~marked", "Or(And(~tcp, ~e), ~marked)"),
        ("~tcp&~udp", "And(~tcp, ~udp)"),
        ("~TCP", "~tcp"),
        ("~b a|b", "~b(b'a|b')"),
        ("~b x!", "~b(b'x!')"),
        ("foo&bar", "word('foo&bar')"),
        ("~b 'a b'", "~b(b'a b')"),
        ('~b "say \\"hi\\""', "~b(b'say \"hi\"')"),
        ("~b '\\d+'", "~b(b'\\\\d+')"),
        ("~b 'x\\\\'", "~b(b'x\\\\\\\\')"),
        ("~b '(a)'~tcp", "And(~b(b'(a)'), ~tcp)"),
        ("~size >= 10k", "~size(>=10240)"),
        ("~size '!= 2m'", "~size(!=2097152)"),
        ("~size 512", "~size(=512)"),
        ("~tls 1.3 ~tcp", "And(~tls('1.3'), ~tcp)"),
        ("~tls example", "And(~tls, word('example'))"),
        ("~tls 'v1\\.[23]'", "~tls('v1\\\\.[23]')"),
    ],
)
def test_tree(expr: str, tree: str) -> None:
    assert parse(expr).root.dump() == tree


def test_precedence_semantics() -> None:
    plain_marked, killed, tls = (
        fresh("echo_basic", 0),
        fresh("kill_intercept_mark", 0),
        fresh("tls_alpn_chain", 0),
    )
    f = parse("!~tcp & ~e | ~marked")  # (!tcp & e) | marked
    assert f(plain_marked) and not f(killed) and not f(tls)
    assert parse("!(~tcp & ~e | ~marked)")(tls)
    assert (
        matching("~tcp ~e")
        == matching("~tcp & ~e")
        == [("errors", 0), ("errors", 2), ("kill_intercept_mark", 0)]
    )


def test_case_insensitive_by_default() -> None:
    assert matching("~sni IMAP") == matching("~sni imap") == [("tls_alpn_chain", 0)]
    assert matching("~b kill-me") == [("kill_intercept_mark", 0)]
    assert matching("~b '(?-i:kill-me)'") == []
    assert matching("~h server") == matching("~h SERVER")


def test_quoted_word_with_spaces_and_parens() -> None:
    assert matching("~comment 'grüße ✓'") == matching("~comment not") != []
    assert matching('~bs "\\(imap\\)"') == matching("~bs '\\(imap\\)'")


# -- robustness: strange flows, malformed certificates ---------------------------------


def test_malformed_certificate_does_not_match() -> None:
    flow = fresh("tls_alpn_chain", 2)
    assert parse("~cert flowtui")(flow)
    bad = Cert(pem=b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    flow.server_conn.certificate_list = [bad, bad]
    assert not parse("~cert flowtui | ~cert .")(flow)
    assert parse("~tls ~sni 127")(flow)


def _every_operator_answers(flow: Flow) -> None:
    for name, op in OPERATORS.items():
        arg = {"none": "", "regex": " .", "code": " 200", "size": " >0", "version": ""}[op.arg]
        assert parse(f"~{name}{arg}")(flow) in (True, False)
    assert parse("word")(flow) is False


def test_garbage_http_state_never_raises() -> None:
    """An HTTP record with wrong types is kept as an UnknownFlow, which every operator
    reads without raising."""
    state = fresh("mixed_protocols", 6).get_state()
    state["request"].update(headers="nope", method=5, content=[1], path=None, port="x")
    state["response"] = {"headers": [[1, 2, 3], [b"a"]], "content": "text", "status_code": "200"}
    state["websocket"] = {"messages": [None, [1], [1, True, "str"]]}
    with pytest.raises(ValueError):
        Flow.from_state(copy.deepcopy(state))
    _every_operator_answers(UnknownFlow.from_raw(state, "bad types"))


def test_odd_http_data_never_raises() -> None:
    """Bodies that do not decode, bytes that are not UTF-8, binary WebSocket messages."""
    flow = fresh("mixed_protocols", 6)
    assert isinstance(flow, HTTPFlow) and flow.response and flow.websocket
    flow.request.headers.insert(0, b"X-\xff", b"\xfe\x00")
    flow.request.headers["Content-Encoding"] = "gzip"
    flow.request.raw_content = b"not gzip"
    flow.response.headers["Content-Encoding"] = "utf8"
    flow.response.status_code = 0
    flow.websocket.messages.append(WebSocketMessage(2, False, b"\xff\xfe", 1.0))
    _every_operator_answers(flow)


def test_gzip_body_is_searched_decoded() -> None:
    import gzip

    flow = fresh("mixed_protocols", 0)
    assert isinstance(flow, HTTPFlow)
    assert flow.response is not None
    flow.response.headers["Content-Encoding"] = "gzip"
    flow.response.content = b"hidden treasure"
    assert gzip.decompress(flow.response.raw_content or b"") == b"hidden treasure"
    assert parse("~bs treasure")(flow) and not parse("~bq treasure")(flow)


def test_ipv6_addresses() -> None:
    flow = fresh("echo_basic", 2)
    flow.client_conn.peername = ("::1", 4000)
    assert parse("~src '^::1:4000$'")(flow) and parse("~src '\\[::1\\]:4000'")(flow)


def test_bare_word_on_tcp_searches_content_both_ways() -> None:
    flow = fresh("echo_basic", 2)
    assert isinstance(flow, TCPFlow)
    flow.messages[0].content = b"\x00\xffneedle"
    assert parse("needle")(flow) and parse("'\\x00\\xff'")(flow)


# -- errors: exact positions -----------------------------------------------------------

ERROR_CASES: list[tuple[str, str, int]] = [
    ("", "empty filter expression", 0),
    ("   ", "empty filter expression", 0),
    ("~tcp &", "expected an expression after '&'", 6),
    ("~tcp & ", "expected an expression after '&'", 7),
    ("~tcp | ", "expected an expression after '|'", 7),
    ("~tcp & & ~udp", "expected an expression after '&'", 7),
    ("!", "expected an expression after '!'", 1),
    ("& ~tcp", "expected an expression before '&'", 0),
    ("~tcp (| ~udp)", "expected an expression before '|'", 6),
    ("(~tcp", "'(' is never closed", 0),
    ("~e & ((~tcp)", "'(' is never closed", 5),
    ("~tcp)", "unexpected ')' without a matching '('", 4),
    ("()", "expected an expression after '('", 1),
    ("~x", "unknown filter '~x'", 0),
    ("~tcp ~snii foo", "unknown filter '~snii' (did you mean ~sni?)", 5),
    ("~tcp ~", "expected a filter name after '~'", 6),
    ("~b", "expected a regular expression after ~b", 2),
    ("~b (x)", "expected a regular expression after ~b", 3),
    ("~b !x", "expected a regular expression after ~b", 3),
    ("~sni & ~tcp", "expected a regular expression after ~sni", 5),
    ("~b [abc", "bad regular expression for ~b: unterminated character set", 3),
    ("~b 'ab[c'", "bad regular expression for ~b: unterminated character set", 6),
    ('~b "a\\"b[c"', "bad regular expression for ~b: unterminated character set", 8),
    ("~u a{2,1}", "bad regular expression for ~u: min repeat greater than max repeat", 5),
    ("~b 'abc", "unterminated string: no closing '", 3),
    ('~tcp "x', 'unterminated string: no closing "', 5),
    ("~c abc", "expected a status code (a number) after ~c", 3),
    ("~c", "expected a status code after ~c", 2),
    ("~size >x", "bad size '>x' after ~size: expected e.g. >10k, <=512 or 1m", 6),
    ("~size", "expected a size like >10k or <=512 after ~size", 5),
    ("~size 10q", "bad size '10q' after ~size: expected e.g. >10k, <=512 or 1m", 6),
    ("~tls '1.['", "bad regular expression for ~tls: unterminated character set", 8),
    ("~b '(a+)+$'", "regular expression for ~b repeats a group that itself repeats", 3),
    ("x" * (MAX_LENGTH + 1), "filter expression too long (max 10000 characters)", MAX_LENGTH),
    ("(" * 100 + "~tcp" + ")" * 100, "parentheses nested too deeply (max 64)", 64),
]


@pytest.mark.parametrize(
    ("expr", "msg", "pos"), ERROR_CASES, ids=[repr(c[0][:30]) for c in ERROR_CASES]
)
def test_error_position(expr: str, msg: str, pos: int) -> None:
    with pytest.raises(FilterError) as info:
        parse(expr)
    assert info.value.msg.startswith(msg)
    assert info.value.pos == pos
    assert str(info.value) == f"{info.value.msg} at {pos}"
    assert isinstance(info.value, ValueError)  # as mitmproxy's flowfilter raises


def test_error_message_example_from_the_ui() -> None:
    with pytest.raises(FilterError, match=r"^expected an expression after '&' at 6$"):
        parse("~tcp &")


def test_not_text() -> None:
    with pytest.raises(FilterError):
        parse(b"~tcp")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "pattern",
    ["(a*)*b", "(x+x+)+y", "(?:\\w+\\s?)+$", "(\\s*\\w+)*x", "(a|b+)*c", "((a+))+"],
)
def test_catastrophic_regexes_are_refused(pattern: str) -> None:
    with pytest.raises(FilterError, match="repeats a group"):
        parse(f"~b '{pattern}'")


@pytest.mark.parametrize(
    "pattern",
    [
        "(ab)+c",
        "a+b+",
        "(a{1,3})+",
        "(?>a+)+b",
        "(a++)+b",
        "((ab)*c)*d",
        "[a-z]+(,[a-z]+)*",
        "(\\d+\\.)+",
    ],
)
def test_safe_repeats_are_accepted(pattern: str) -> None:
    parse(f"~b '{pattern}'")


def test_deep_regex_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(FilterError) as info:
        parse("~b '" + "(" * 1000 + "a" + ")" * 1000 + "'")
    assert info.value.pos == 3


# -- random input: FilterError or a filter, nothing else, and quickly --------------------

_TOKENS = st.sampled_from(
    [*(f"~{name}" for name in OPERATORS), "!", "&", "|", "(", ")", "'", '"', "\\", " ", "~",
     "x", "1.3", ">10k", "<=", "200", "[", "]", "{2}", "?", "a|b", "é", "\x00"]
)  # fmt: skip

SMALL_FLOWS = [
    ("echo_basic", 1),
    ("tls_alpn_chain", 0),
    ("mixed_protocols", 3),
    ("mixed_protocols", 6),
]


def _check(text: str) -> None:
    start = time.perf_counter()
    try:
        flt = parse(text)
    except FilterError as e:
        assert 0 <= e.pos <= len(text)
        assert str(e)
    else:
        for key in SMALL_FLOWS:
            assert flt(_flows()[key]) in (True, False)
    assert time.perf_counter() - start < 5


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_random_text_parses_or_raises_filter_error(text: str) -> None:
    _check(text)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TOKENS, max_size=14).map("".join))
def test_random_token_soup_parses_or_raises_filter_error(text: str) -> None:
    _check(text)


# -- agreement with mitmproxy's own flowfilter -------------------------------------------

AGREE = [
    "~all", "~e", "~marked", "~marker grapes", "~marker '^x$'", "~comment markup", "~meta flowtui",
    "~meta tags", "~src 127.0.0.1", "~src ':5'", "~dst 127.0.0.1", "~tcp", "~udp", "~http", "~dns",
    "~websocket", "~replay", "~q", "~s", "~a", "~b MARK", "~b KILL-ME", "~b websocket",
    "~b flowtui", "~b \\x00", "~bq EHLO", "~bs 220", "~bq hello", "~bs hello", "~d 127",
    "~d flowtui",
    "~u /api", "~u flowtui.test", "~u 'https?://'", "~m POST", "~m get", "~c 200", "~c 404",
    "~h Server", "~hq User-Agent", "~hs Content-Type", "~t json", "~t text", "/api", "/missing",
    "!~tcp & ~e | ~marked", "~tcp ~e", "~http ~c 200 | ~c 404", "!~http ~marked", "~udp | ~dns",
]  # fmt: skip


@functools.cache
def _mitmproxy_flows() -> dict[str, object]:
    from mitmproxy import io as mitmproxy_io

    out: dict[str, object] = {}
    for path in CAPTURES:
        with path.open("rb") as fh:
            for flow in mitmproxy_io.FlowReader(fh).stream():
                out[flow.id] = flow
    return out


@pytest.mark.mitmproxy
@pytest.mark.parametrize("expr", AGREE)
def test_agrees_with_mitmproxy(expr: str) -> None:
    flowfilter = pytest.importorskip("mitmproxy.flowfilter")
    theirs = _mitmproxy_flows()
    ours = parse(expr)
    reference = flowfilter.parse(expr)
    assert len(theirs) == len(_flows()) == 30
    verdicts = {
        key: (ours(flow), bool(reference(theirs[flow.id]))) for key, flow in _flows().items()
    }
    assert {k: v for k, v in verdicts.items() if v[0] != v[1]} == {}


@pytest.mark.mitmproxy
@pytest.mark.parametrize(
    "expr", ["~h server", "~hq user-agent", "~comment MARKUP", "flowtui", "~b '\\x00'"]
)
def test_where_we_differ_we_match_more(expr: str) -> None:
    """Case-insensitivity, bare words on TCP content, backslashes kept in quotes: flowtui
    finds every flow mitmproxy finds, and more."""
    flowfilter = pytest.importorskip("mitmproxy.flowfilter")
    theirs = _mitmproxy_flows()
    ours = parse(expr)
    reference = flowfilter.parse(expr)
    mitm = {key for key, flow in _flows().items() if reference(theirs[flow.id])}
    mine = {key for key, flow in _flows().items() if ours(flow)}
    assert mitm < mine


HTTP_BODIES = DATA / "http_bodies.flows"
"""A real capture with gzip, deflate, br and zstd bodies, a body that claims gzip and is
not, forms and a WebSocket (scripts/record_http_capture.py)."""


@pytest.mark.mitmproxy
@pytest.mark.parametrize(
    "expr",
    ["~b items", "~bs items", "~bq items", "~b name", "~bq 'a=1'", "~b \\x00", "~bs \\x00",
     "~bq \\x00", "~b \\x8b", "~bq \\x8b", "~bs \\x28\\xb5\\x2f\\xfd"],
)  # fmt: skip
def test_body_filters_decode_every_content_encoding_as_mitmproxy(expr: str) -> None:
    """`~b` looks at the body as `get_content(strict=False)` gives it: br and zstd bodies
    decoded too, a body that does not decode searched as sent."""
    flowfilter = pytest.importorskip("mitmproxy.flowfilter")
    from mitmproxy import io as mitmproxy_io

    with HTTP_BODIES.open("rb") as fh:
        theirs = {f.id: f for f in mitmproxy_io.FlowReader(fh).stream()}
    ours, reference = parse(expr), flowfilter.parse(expr)
    flows = read_flows(HTTP_BODIES)
    assert len(flows) == len(theirs) > 10
    verdicts = {f.id: (ours(f), bool(reference(theirs[f.id]))) for f in flows}
    assert any(mine for mine, _ in verdicts.values()) or "\\x" in expr
    assert {k: v for k, v in verdicts.items() if v[0] != v[1]} == {}


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_a_body_that_decodes_past_the_bound_is_searched_up_to_it(
    coding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decompression bomb in a capture costs at most `MAX_DECODED` bytes per body."""
    from flowtui.core import HTTPFlow, encoding
    from flowtui.core.filters import http as http_filters

    monkeypatch.setattr(http_filters, "MAX_DECODED", 100_000)
    flow = next(f for f in read_flows(HTTP_BODIES) if isinstance(f, HTTPFlow) and f.response)
    assert flow.response is not None
    flow.response.headers["content-encoding"] = coding
    flow.response.raw_content = encoding.encode(b"a" * 1_000_000 + b"NEEDLE", coding)
    assert parse("~bs aaaa")(flow)
    assert not parse("~bs NEEDLE")(flow)  # past the bound: not decoded, not searched
