"""Content views, one by one, checked against real bodies and oracles.

Oracles: mitmproxy's own content views (which view auto picks, form and multipart
fields, query pairs, protobuf field numbers, image sizes), Pillow (real encoded images
and their dimensions), `json` (a msgpack document renders as the same JSON would).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgpack
import pytest

from flowtui.ui.contentviews import VIEW_NAMES, choose, render, render_lines, render_query
from flowtui.ui.contentviews.base import Context, parse_content_type
from flowtui.ui.contentviews.forms import decode_urlencoded, multipart_fields

DATA = Path(__file__).resolve().parents[1] / "data" / "mitmproxy-11"

pytestmark = pytest.mark.mitmproxy


def _plain(lines: object) -> list[str]:
    return [line.plain for line in lines]  # type: ignore[attr-defined]


def _styled(lines: object) -> list[tuple[str, list[tuple[int, int, str]]]]:
    return [
        (line.plain, [(s.start, s.end, str(s.style)) for s in line.spans])
        for line in lines  # type: ignore[attr-defined]
    ]


@pytest.fixture(scope="module")
def capture() -> list:
    from mitmproxy import http
    from mitmproxy import io as mio

    with (DATA / "http_bodies.flows").open("rb") as file:
        return [f for f in mio.FlowReader(file).stream() if isinstance(f, http.HTTPFlow)]


def _message(capture: list, path: str, response: bool = False):
    for flow in capture:
        if flow.request.path == path:
            return flow.response if response else flow.request
    raise LookupError(path)


# Auto, against mitmproxy's choice ------------------------------------------------------

_MITM_NAMES = {
    "JSON": "json",
    "JavaScript": "javascript",
    "CSS": "css",
    "URL-encoded": "urlencoded",
    "Multipart Form": "multipart",
    "MsgPack": "msgpack",
    "Protocol Buffer": "protobuf",
    "gRPC/Protocol Buffer": "protobuf",
    "Image": "image",
    "Raw": "text",
    "Hex Dump": "hex",
}


def _mitmproxy_choice(data: bytes, content_type: str | None) -> str:
    import mitmproxy.contentviews as cv

    mime = None
    if content_type:
        mime, _ = parse_content_type(content_type)
    _, view = max(
        ((v.render_priority(data, content_type=mime), i, v) for i, v in enumerate(cv.views)),
        key=lambda t: (t[0], -t[1]),
    )[0::2]
    if view.name == "XML/HTML":
        return "html" if mime == "text/html" else "xml"
    return _MITM_NAMES[view.name]


_SHARED_CHOICES = [
    ("application/json", b'{"a": 1}'),
    ("application/json; charset=utf-8", b"[1]"),
    ("application/problem+json", b'{"a": 1}'),
    ("text/html; charset=utf-8", b"<html></html>"),
    ("text/xml", b"<a/>"),
    ("application/javascript", b"var a = 1;"),
    ("text/javascript", b"var a = 1;"),
    ("application/x-javascript", b"var a = 1;"),
    ("text/css", b"a { color: red }"),
    ("application/x-www-form-urlencoded", b"a=1&b=2"),
    ("multipart/form-data; boundary=x", b"--x\r\n\r\n--x--"),
    ("application/msgpack", b"\x81\xa1a\x01"),
    ("application/x-msgpack", b"\x81\xa1a\x01"),
    ("application/x-protobuf", b"\x08\x01"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/gif", b"GIF89a"),
    ("text/plain", b"hello"),
    (None, b"hello"),
    ("application/octet-stream", bytes(range(128, 256)) * 2),
    (None, b"<?xml version='1.0'?><a/>"),
    ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
]


@pytest.mark.parametrize(("ctype", "body"), _SHARED_CHOICES)
def test_auto_picks_what_mitmproxy_picks(ctype: str | None, body: bytes) -> None:
    assert choose(body, ctype) == _mitmproxy_choice(body, ctype)
    assert render(body, content_type=ctype).view == choose(body, ctype)


@pytest.mark.parametrize(
    ("ctype", "body", "view"),
    [
        # flowtui goes further than mitmproxy: aliases, and sniffing an untyped body.
        ("text/json", b"{}", "json"),
        ("application/xml", b"<a/>", "xml"),
        ("application/atom+xml", b"<a/>", "xml"),
        ("application/grpc", b"\x00\x00\x00\x00\x02\x08\x01", "protobuf"),
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBP", "image"),
        (None, b'{"a": [1, 2, {"b": null}]}', "json"),
        ("text/plain", b"[1, 2, 3]\n", "json"),
        (None, b"<!DOCTYPE html><html><body>x</body></html>", "html"),
        ("application/octet-stream", b"\x89PNG\r\n\x1a\n" + bytes(20), "image"),
        (None, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image"),
        ("application/x-www-form-urlencoded", b"", "urlencoded"),
        ("nonsense", b"plain text", "text"),
    ],
)
def test_auto_knows_more_types_and_sniffs(ctype: str | None, body: bytes, view: str) -> None:
    assert choose(body, ctype) == view


def test_every_view_name_renders_and_auto_never_chooses_itself() -> None:
    for view in VIEW_NAMES:
        result = render(b"a=1", view=view)
        assert result.view != "auto" and result.view in VIEW_NAMES
    assert render(b"a=1", view="no-such-view").view == choose(b"a=1", None)


# Forms ----------------------------------------------------------------------------


def test_urlencoded_body_lists_the_fields_mitmproxy_lists(capture: list) -> None:
    from mitmproxy.net.http import url

    request = _message(capture, "/form")
    body = request.content
    result = render(body, content_type=request.headers["content-type"])
    assert result.view == "urlencoded" and result.error is None
    expected = url.decode(body.decode("ascii"))
    assert decode_urlencoded(body) == expected
    assert _plain(result.lines) == [
        "user   grüße",
        "user   second",
        "note   a b&c",
        "empty",
    ]
    assert all(line.spans[0].style == "bold" for line in result.lines)


def test_multipart_body_is_a_table_of_its_parts(capture: list) -> None:
    from mitmproxy.net.http import multipart

    request = _message(capture, "/upload")
    ctype = request.headers["content-type"]
    result = render(request.content, content_type=ctype)
    assert result.view == "multipart" and result.error is None
    assert _plain(result.lines) == [
        "Name   Filename  Content type              Value",
        "field                                      value ✓",
        "file   a.bin     application/octet-stream  3 bytes",
    ]
    oracle = multipart.decode_multipart(ctype, request.content)
    ours = multipart_fields(request.content, Context(*parse_content_type(ctype)))
    assert [(f.name, f.content) for f in ours] == [(k.decode(), v) for k, v in oracle]


def test_multipart_boundary_is_found_in_the_body_when_the_type_lacks_it() -> None:
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b"--b0undary\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''%C3%BC.txt"
        b"\r\nContent-Type: text/plain\r\n\r\n" + b"x" * 500 + b"\r\n--b0undary--\r\n"
    )
    result = render(body, view="multipart")
    assert result.error is None
    assert _plain(result.lines)[1:] == [
        "a                             1",
        "f     ü.txt     text/plain    500 bytes",
    ]


def test_multipart_without_a_boundary_says_why() -> None:
    result = render(b"just text", content_type="multipart/form-data")
    assert result.error is not None and "boundary" in result.error
    assert _plain(result.lines) == _plain(render(b"just text", view="hex").lines)
    result = render(b"just text", content_type="multipart/form-data; boundary=zz")
    assert result.error is not None and "does not occur" in result.error


def test_query_table_matches_the_requests_query(capture: list) -> None:
    request = _message(capture, "/query?a=1&a=2&b=%C3%A9t%C3%A9&flag&sp=a+b")
    pairs = list(request.query.items(multi=True))
    result = render_query(pairs)
    assert result.view == "query" and result.error is None and result.complete
    assert _plain(result.lines) == ["a     1", "a     2", "b     été", "flag", "sp    a b"]
    assert [re.split(r"\s{2,}", p) for p in _plain(result.lines)] == [
        [k, v] if v else [k] for k, v in pairs
    ]


# Markup ---------------------------------------------------------------------------


def test_html_from_a_capture_uses_its_charset(capture: list) -> None:
    latin = _message(capture, "/latin1", response=True)
    result = render(latin.content, content_type=latin.headers["content-type"])
    assert result.view == "html" and _plain(result.lines) == ["<p>café naïve</p>"]
    meta = _message(capture, "/meta-charset", response=True)
    result = render(meta.content, content_type=meta.headers["content-type"])
    assert result.error is None
    assert "中文 ✓" in "\n".join(_plain(result.lines))


def test_html_is_indented_leniently() -> None:
    body = (
        b"<!DOCTYPE html><html><head><title>T &amp; x</title><style>a{color:red}</style>"
        b"</head><body><p class=a id='b'>Hi <b>there</b></p><br><ul><li>1<li>2</ul>"
        b'</span><img src=x.png alt="[bold]"/></body></html>'
    )
    result = render(body, content_type="text/html")
    assert result.error is None
    assert _plain(result.lines) == [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        "    <title>T &amp; x</title>",
        "    <style>a{color:red}</style>",
        "  </head>",
        "  <body>",
        "    <p class=a id='b'>",
        "      Hi",
        "      <b>there</b>",
        "    </p>",
        "    <br>",
        "    <ul>",
        "      <li>",
        "        1",
        "      <li>",
        "        2",
        "    </ul>",
        "    </span>",
        '    <img src=x.png alt="[bold]"/>',
        "  </body>",
        "</html>",
    ]
    styles = {line.plain[s.start : s.end]: s.style for line in result.lines for s in line.spans}
    assert styles["class"] != styles["'b'"] and styles["html"] != styles["class"]


def test_script_in_html_is_highlighted_as_javascript() -> None:
    body = b"<script>\n    var x = 1;\n    if (x) { f(); }\n</script>"
    result = render(body, view="html")
    assert _plain(result.lines) == ["<script>", "  var x = 1;", "  if (x) { f(); }", "</script>"]
    assert any(s.style == "magenta" for s in result.lines[1].spans)  # `var`


def test_xml_never_resolves_entities_or_fetches_a_dtd(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>\n'
        '<foo a="1"><bar>&xxe;</bar><baz/><![CDATA[raw <x>]]><!-- note --></foo>'
    ).encode()
    result = render(body, content_type="application/xml")
    assert result.view == "xml" and result.error is None
    text = _plain(result.lines)
    assert "TOP-SECRET" not in "\n".join(text)
    assert text == [
        '<?xml version="1.0"?>',
        f'<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>',
        '<foo a="1">',
        "  <bar>&xxe;</bar>",
        "  <baz/>",
        "  <![CDATA[raw <x>]]>",
        "  <!-- note -->",
        "</foo>",
    ]


def test_binary_in_the_markup_views_falls_back_to_hex() -> None:
    for view in ("xml", "html", "javascript", "css", "urlencoded"):
        result = render(bytes(range(256)), view=view)
        assert result.error is not None and "binary" in result.error
        assert len(result.lines) == 16


# Code -----------------------------------------------------------------------------


def test_readable_javascript_keeps_its_lines_and_is_highlighted() -> None:
    source = "function f(a) {\n  // note\n  return 'x' + 1;\n}"
    result = render(source.encode(), content_type="application/javascript")
    assert result.view == "javascript" and _plain(result.lines) == source.split("\n")
    spans = _styled(result.lines)
    assert (0, 8, "magenta") in spans[0][1]  # function
    assert any(style == "dim" for *_, style in spans[1][1])  # the comment
    assert any(style == "green" for *_, style in spans[2][1])  # the string


def test_minified_javascript_and_css_are_beautified() -> None:
    js = b"function f(a,b){if(a){for(var i=0;i<b;i++){g(i)}}return a}var x={a:1};" + b" " * 300
    assert _plain(render(js, view="javascript").lines) == [
        "function f(a,b){",
        "  if(a){",
        "    for(var i=0;i<b;i++){",
        "      g(i)",
        "    }",
        "  }",
        "  return a",
        "}",
        "var x={",
        "  a:1",
        "};",
    ]
    css = b"a{color:red;background:url(x.png)}@media (max-width:10px){b{x:1}}" + b" " * 300
    assert _plain(render(css, content_type="text/css").lines) == [
        "a{",
        "  color:red;",
        "  background:url(x.png)",
        "}",
        "@media (max-width:10px){",
        "  b{",
        "    x:1",
        "  }",
        "}",
    ]


# msgpack --------------------------------------------------------------------------

_DOCS = [
    {"a": [1, 2.5, None, True, False], "b": {}, "c": [], "d": {"e": {"f": [[]]}}},
    [[1, [2, [3]]], {"k": "välue"}, "s", 0, -5],
    "just a string",
    {"": ""},
]


@pytest.mark.parametrize("doc", _DOCS)
def test_msgpack_renders_as_the_same_json_would(doc: object) -> None:
    packed = msgpack.packb(doc)
    result = render(packed, content_type="application/msgpack")
    assert result.view == "msgpack" and result.error is None
    as_json = render(json.dumps(doc, ensure_ascii=False).encode(), view="json")
    assert _styled(result.lines) == _styled(as_json.lines)


def test_msgpack_shows_what_json_cannot() -> None:
    doc = {1: b"\x00\x01", (1, 2): msgpack.ExtType(5, b"ab"), "t": msgpack.Timestamp(0)}
    result = render(msgpack.packb(doc, datetime=False), view="msgpack")
    assert result.error is None
    assert _plain(result.lines) == [
        "{",
        "  1: <2 bytes: 00 01>,",
        "  [1, 2]: ExtType(code=5, 2 bytes: 61 62),",
        '  "t": Timestamp(1970-01-01T00:00:00+00:00)',
        "}",
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (msgpack.packb({"a": 1}) + b"\x01", "1 more bytes after byte 4"),
        (b"\xc1", "not msgpack"),
        (b"\x92\x01", "not msgpack"),
    ],
)
def test_bad_msgpack_says_why(body: bytes, reason: str) -> None:
    result = render(body, view="msgpack")
    assert result.error is not None and reason in result.error
    assert _plain(result.lines) == _plain(render(body, view="hex").lines)


# protobuf ---------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def test_protobuf_fields_are_the_ones_mitmproxy_finds() -> None:
    import mitmproxy.contentviews as cv

    inner = _field(1, 7) + _field(2, 300)
    body = _field(1, 150) + _field(2, b"testing") + _field(3, inner) + _field(15, 2**40)
    body += _field(16, 1)
    result = render(body, content_type="application/x-protobuf")
    assert result.view == "protobuf" and result.error is None
    assert _plain(result.lines) == [
        "{",
        "  1: 150,",
        '  2: "testing",',
        "  3: {",
        "    1: 7,",
        "    2: 300",
        "  },",
        "  15: 1099511627776,",
        "  16: 1",
        "}",
    ]
    _, lines = cv.get("Protocol Buffer")(body)
    text = "\n".join("".join(piece for _, piece in line) for line in lines)
    top = [int(m) for m in re.findall(r"^(\d+)[: ]", text, re.MULTILINE)]
    ours = [int(p.split(":")[0]) for p in _plain(result.lines) if re.match(r"  \d", p)]
    assert ours == top


def test_protobuf_fixed_width_groups_and_negative_varints() -> None:
    body = (
        b"\x0d\x00\x00\x80\x3f"  # 1: fixed32 = float 1.0
        + b"\x11" + b"\x00" * 7 + b"\x40"  # 2: fixed64 = double 2.0
        + _field(3, 2**64 - 1)  # int64 -1
        + b"\x23" + _field(1, 5) + b"\x24"  # 4: a group holding 1: 5
        + _field(5, b"\x00\xff")  # bytes, not text, not a message
    )  # fmt: skip
    result = render(body, view="protobuf")
    assert result.error is None
    assert _plain(result.lines) == [
        "{",
        "  1: 1065353216 (fixed32; float 1.0),",
        "  2: 4611686018427387904 (fixed64; double 2.0),",
        "  3: 18446744073709551615 (int64 -1),",
        "  4: {",
        "    1: 5",
        "  },",
        "  5: <2 bytes: 00 ff>",
        "}",
    ]


def test_grpc_messages_are_split_by_their_prefix() -> None:
    one, two = _field(1, 1), _field(2, b"x")
    body = b"\x00" + len(one).to_bytes(4, "big") + one + b"\x01\x00\x00\x00\x02zz"
    body += b"\x00" + len(two).to_bytes(4, "big") + two
    result = render(body, content_type="application/grpc")
    assert _plain(result.lines) == [
        "gRPC message 1: 2 bytes",
        "{",
        "  1: 1",
        "}",
        "gRPC message 2: 2 bytes, compressed: not decoded",
        "gRPC message 3: 3 bytes",
        "{",
        '  2: "x"',
        "}",
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x08\x96\x01\x0f", "wire type 7 does not exist at byte 3"),
        (b"\x12\x09abc", "length 9 runs past the end at byte 0"),
        (b"\x00\x01", "field number 0 is out of range at byte 0"),
        (b"\x08" + b"\xff" * 11, "varint longer than 10 bytes at byte 1"),
        (b"\x0c", "end of group 1 without its start at byte 0"),
    ],
)
def test_bad_protobuf_says_where(body: bytes, reason: str) -> None:
    result = render(body, content_type="application/x-protobuf")
    assert result.error is not None and reason in result.error
    assert result.error.startswith("not protobuf")


def test_a_protobuf_preview_drops_the_cut_field() -> None:
    body = _field(1, 1) + _field(2, b"a long string value")
    result = render(body[:-4], view="protobuf", complete=False)
    assert result.error is None and _plain(result.lines) == ["{", "  1: 1", "}"]


# Incremental ------------------------------------------------------------------------

_SAMPLES = [
    ("application/json", json.dumps({"a": list(range(50)), "b": {"c": "d"}}).encode()),
    ("text/html", b"<html><body>" + b"<p>x</p>" * 30 + b"</body></html>"),
    ("application/xml", b"<a>" + b"<b k='v'>t</b>" * 30 + b"</a>"),
    ("application/javascript", b"function f(){return 1}\n" * 30),
    ("text/css", b"a { color: red }\n" * 30),
    ("application/x-www-form-urlencoded", b"&".join(b"k%d=v" % i for i in range(30))),
    ("application/msgpack", msgpack.packb({"a": list(range(30))})),
    ("application/x-protobuf", b"".join(_field(i, i * 3) for i in range(1, 30))),
    ("text/plain", b"line\n" * 30),
    ("application/octet-stream", bytes(range(256)) * 2),
    ("application/json", b'{"a": [1, 2, oops]}'),
]


@pytest.mark.parametrize(("ctype", "body"), _SAMPLES)
def test_incremental_rendering_equals_the_whole(ctype: str, body: bytes) -> None:
    whole = render(body, content_type=ctype)
    stream = render_lines(body, content_type=ctype)
    lines = []
    failed = False
    for line in stream:
        if stream.error is not None and not failed:
            failed, lines = True, []
        lines.append(line)
    assert stream.view == whole.view and stream.error == whole.error
    assert _styled(lines) == _styled(whole.lines)
    assert len(whole.lines) > 1


@pytest.mark.parametrize(
    "body",
    [
        b"<a " + b"b" * 200,  # an attribute list: once exponential in its length
        b'<a "' * 5000 + b">",  # quotes that never close a tag: once rescanned per `<`
        b"</a " * 5000,
        b"<!x[" + b"]a<" * 5000,
    ],
)
def test_broken_markup_is_shown_in_linear_time(body: bytes) -> None:
    """These bodies took seconds to hours with backtracking patterns; no timing here:
    a regression would simply not finish."""
    result = render(body, view="xml")
    assert result.error is None
    shown = "".join(line.plain.strip() for line in result.lines).replace(" ", "")
    assert shown == body.decode().replace(" ", "")  # nothing hidden, nothing added


def test_text_around_a_stray_angle_bracket_stays_one_line() -> None:
    result = render(b"<p>1 < 2 and 3 > 1</p><x></x junk>", view="html")
    assert _plain(result.lines) == ["<p>1 < 2 and 3 > 1</p>", "<x></x junk>"]


def test_the_query_view_reads_bytes_as_a_query_string() -> None:
    for body in (b"a=1&b=%C3%BC+x", b"?a=1&b=%C3%BC+x", b"/path?a=1&b=%C3%BC+x#frag"):
        result = render(body, view="query")
        assert result.view == "query" and _plain(result.lines) == ["a  1", "b  ü x"]
    assert render(b"a=1", view="query").lines[0].plain == render_query([("a", "1")]).lines[0].plain
    assert choose(b"a=1", None) != "query"  # a body is never auto's query


def test_xml_takes_its_charset_from_the_declaration() -> None:
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><a>café</a>'.encode("latin-1")
    assert _plain(render(body).lines) == [
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        "<a>café</a>",
    ]
    # The content type's charset wins over the declaration.
    utf8 = "<a>café</a>".encode()
    assert _plain(render(utf8, content_type="text/xml; charset=utf-8").lines) == ["<a>café</a>"]
