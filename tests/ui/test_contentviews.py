"""Content views: each view on real bodies, auto's choice, errors, incremental rendering.

The bodies come from `tests/data/mitmproxy-11/http_bodies.flows` (a real mitmdump
capture, read here with mitmproxy itself) or are built in place. Hostile bodies are in
`test_contentviews_hostile.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowtui.ui.contentviews import VIEW_NAMES, choose, render, render_lines

DATA = Path(__file__).resolve().parents[1] / "data" / "mitmproxy-11"


def _plain(rendered_lines: object) -> list[str]:
    return [line.plain for line in rendered_lines]  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def bodies() -> dict[str, tuple[bytes, str | None]]:
    """`path -> (decoded request or response body, content type)` from the capture."""
    from mitmproxy import http, io

    out: dict[str, tuple[bytes, str | None]] = {}
    with (DATA / "http_bodies.flows").open("rb") as file:
        for flow in io.FlowReader(file).stream():
            if not isinstance(flow, http.HTTPFlow):
                continue
            for message in (flow.request, flow.response):
                if message is None:
                    continue
                body = message.get_content(strict=False) or b""
                if body:
                    out.setdefault(flow.request.path, (body, message.headers.get("content-type")))
    return out


def test_view_names_are_the_documented_ones() -> None:
    assert VIEW_NAMES[:4] == ("auto", "text", "hex", "json")
    assert set(VIEW_NAMES) >= {"xml", "html", "javascript", "css", "urlencoded"}
    assert {"multipart", "query", "msgpack", "protobuf", "image"} <= set(VIEW_NAMES)


# JSON ------------------------------------------------------------------------------


def test_json_body_from_a_capture_is_pretty_printed(bodies: dict) -> None:
    body, ctype = bodies["/json"]
    result = render(body, content_type=ctype)
    assert result.view == "json" and result.error is None and result.complete
    # The same document as json.dumps(indent=2) would write it (strings as written).
    expected = json.dumps(json.loads(body), indent=2, ensure_ascii=False).splitlines()
    assert _plain(result.lines) == expected


@pytest.mark.parametrize(
    "doc",
    [
        {"a": [1, 2.5, -3e10, True, False, None], "b": {}, "c": [], "d": {"e": {"f": [[]]}}},
        [[1, [2, [3]]], {"k": "v"}, "s", 0],
        "just a string",
        12,
        {"": ""},
    ],
)
def test_json_matches_json_dumps_layout(doc: object) -> None:
    body = json.dumps(doc, separators=(",", ":")).encode()
    result = render(body, view="json")
    assert result.error is None
    assert _plain(result.lines) == json.dumps(doc, indent=2).splitlines()


def test_json_is_highlighted() -> None:
    result = render(b'{"key": "value", "n": 1, "t": true}', view="json")
    styles = {
        result.lines[1].plain[s.start : s.end]: str(s.style)
        for line in result.lines
        for s in line.spans
    } | {line.plain[s.start : s.end]: str(s.style) for line in result.lines for s in line.spans}
    assert styles['"key"'] != styles['"value"']
    assert styles["1"] != styles['"value"'] and styles["true"] != styles["1"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"a": 1,}', "line 1, column 9 (byte 8)"),
        (b'{\n  "a": tru\n}', "line 2, column 8 (byte 9)"),
        (b"[1, 2] x", "line 1, column 8 (byte 7)"),
        (b'{"a" 1}', "line 1, column 6 (byte 5)"),
        (b"[1, 2", "line 1, column 6 (byte 5)"),
        (b"[01]", "line 1, column 2 (byte 1)"),
    ],
)
def test_invalid_json_says_where_and_falls_back_to_hex(body: bytes, where: str) -> None:
    result = render(body, content_type="application/json")
    assert result.view == "json" and result.error is not None
    assert where in result.error and result.error.startswith("invalid JSON")
    assert _plain(result.lines) == _plain(render(body, view="hex").lines)
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_a_json_preview_cut_short_is_not_an_error() -> None:
    body = json.dumps({"items": [{"id": i, "name": f"n{i}"} for i in range(100)]}).encode()
    for cut in (len(body) // 2, len(body) // 3 + 1, 5, 10, 13):
        result = render(body[:cut], view="json", complete=False)
        assert result.error is None, (cut, result.error)
        assert not result.complete
        whole = _plain(render(body, view="json").lines)
        # The head renders as the whole document's first lines (the last may be cut).
        head = _plain(result.lines)
        assert head[:-1] == whole[: len(head) - 1]


def test_json_lines_show_one_document_after_another() -> None:
    result = render(b'{"a":1}\n{"b":[2]}\n3\n', content_type="application/x-ndjson")
    assert result.error is None
    assert _plain(result.lines) == ["{", '  "a": 1', "}", "{", '  "b": [', "    2", "  ]", "}", "3"]


def test_deep_nesting_keeps_lines_short() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    result = render(body, view="json")
    assert result.error is None and len(result.lines) == 199_999
    assert max(len(line.plain) for line in result.lines) <= 200


def test_json_first_lines_do_not_need_the_whole_document() -> None:
    """The first lines come before the tokenizer reaches the broken end of the body."""
    body = b'{"a": [' + b"1, " * 100_000 + b"oops"
    stream = render_lines(body, content_type="application/json")
    first = [next(stream) for _ in range(3)]
    assert [line.plain for line in first] == ["{", '  "a": [', "    1,"]
    assert stream.error is None
    json_lines = 3
    hex_first = None
    for line in stream:
        if stream.error is not None:
            hex_first = line
            break
        json_lines += 1
    assert json_lines == 2 + 100_000
    # The first line after the error is the hex dump's first.
    assert stream.error is not None and "byte 300007" in stream.error
    assert hex_first is not None and hex_first.plain.startswith("00000000  7b 22 61 22")


# Text and hex ----------------------------------------------------------------------


def test_text_uses_the_charset_of_the_content_type(bodies: dict) -> None:
    body, ctype = bodies["/latin1"]
    assert ctype == "text/html; charset=ISO-8859-1"
    assert _plain(render(body, content_type=ctype, view="text").lines) == ["<p>café naïve</p>"]
    # Without a charset: UTF-8, and the latin-1 bytes shown as escapes.
    assert _plain(render(body, view="text").lines) == ["<p>caf\\xe9 na\\xefve</p>"]


def test_text_lines_split_on_newlines() -> None:
    assert _plain(render(b"a\nb\r\n\nc\n", view="text").lines) == ["a", "b\\x0d", "", "c"]
    body = "ü\n€".encode("utf-16")
    lines = render(body, view="text", content_type="text/plain; charset=utf-16").lines
    assert _plain(lines) == ["ü", "€"]


def test_hex_is_the_message_viewers_dump() -> None:
    result = render(bytes(range(20)), view="hex")
    assert result.view == "hex" and result.error is None
    assert _plain(result.lines) == [
        "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|",
        "00000010  10 11 12 13                                       |....            |",
    ]


def test_an_empty_body_has_no_lines_in_any_view() -> None:
    for view in VIEW_NAMES:
        result = render(b"", view=view, content_type="application/json")
        assert result.lines == [] and result.error is None


# Auto ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ctype", "view"),
    [
        ("application/json", "json"),
        ("application/json; charset=utf-8", "json"),
        ("application/vnd.api+json", "json"),
        ("text/plain", "text"),
        ("application/octet-stream", "hex"),
    ],
)
def test_auto_chooses_by_content_type(ctype: str, view: str) -> None:
    body = b"\x00\x01\x02\x03" * 10 if view == "hex" else b"1"
    assert choose(body, ctype) == view


@pytest.mark.parametrize(
    ("body", "view"),
    [
        (b'  {"a": [1, 2]}', "json"),
        (b"[1, 2, 3]", "json"),
        (b"plain words", "text"),
        (b"{not json}", "text"),
        (bytes(range(256)), "hex"),
    ],
)
def test_auto_sniffs_without_a_telling_content_type(body: bytes, view: str) -> None:
    assert choose(body, None) == view
    assert choose(body, "text/plain") == view or view == "json"
    assert render(body).view == view


# The package stays headless ----------------------------------------------------------


def test_content_views_load_no_textual() -> None:
    """The detail pane builds lines in a worker and the bench runs without an app:
    importing and using the views must not load Textual."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from flowtui.ui.contentviews import render\n"
        "render(b'{\"a\": 1}')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"


def test_the_import_contract_catches_a_textual_import(tmp_path: Path) -> None:
    """The `content-views` contract in pyproject.toml breaks on a planted import."""
    import shutil
    import subprocess
    import sys

    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (the dev extra)")
    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "flowtui", tmp_path / "flowtui", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(lint), "--no-cache", "--config", str(tmp_path / "pyproject.toml")],
            cwd=tmp_path,
            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            check=False,
        )

    kept = run()
    assert kept.returncode == 0, kept.stdout
    target = tmp_path / "flowtui/ui/contentviews/tree.py"
    target.write_text(target.read_text() + "\nimport textual.app  # noqa\n", encoding="utf-8")
    broken = run()
    assert broken.returncode == 1
    assert any(
        line.startswith("the content views import no Textual") and "BROKEN" in line
        for line in broken.stdout.splitlines()
    ), broken.stdout


def test_a_text_preview_leaves_out_a_character_cut_by_its_end() -> None:
    body = "ab ✓ cd 𝄞".encode()
    for cut in range(len(body) + 1):
        head = body[:cut]
        lines = _plain(render(head, view="text", complete=False).lines)
        expected = head.decode("utf-8", "ignore")
        assert lines == ([expected] if expected else []), cut
    # The whole body keeps every byte: a cut character there is shown as escapes.
    assert _plain(render(body[:-1], view="text").lines) == ["ab ✓ cd \\xf0\\x9d\\x84"]


def test_a_json_byte_order_mark_is_skipped() -> None:
    body = b'\xef\xbb\xbf{"a": 1}'
    assert choose(body, None) == "json"
    result = render(body, content_type="application/json")
    assert result.error is None and _plain(result.lines) == ["{", '  "a": 1', "}"]


def test_every_view_has_a_title() -> None:
    from flowtui.ui.contentviews import VIEW_TITLES

    assert set(VIEW_TITLES) == set(VIEW_NAMES)
