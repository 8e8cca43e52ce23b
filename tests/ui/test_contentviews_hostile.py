"""Hostile bodies stay inert in every content view, and no body makes `render` raise.

A captured body is attacker-controlled: JSON strings, XML text, multipart headers,
msgpack strings, protobuf strings and image metadata can all carry terminal escapes
(CSI, OSC 52), C1 controls, bidi overrides and Rich markup. Each line a view returns
must hold none of them as such: controls as visible escapes, markup as its characters.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zlib

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from flowtui.ui.contentviews import VIEW_NAMES, Rendered, render, render_lines, render_query

HOSTILE = "\x1b[2J\x1b]52;c;SGVsbG8=\x07[bold]B[/bold][/]\x9b31m\u202eevil\u2066\x00\r\u200b"
"""Every kind of trouble in one string: CSI, OSC 52, markup, a stray close tag, C1 CSI,
a bidi override and isolate, NUL, CR, a zero-width space."""

_SGR = re.compile(r"\x1b\[[0-9;]*m")


_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
"""Bidi controls and zero-width characters (what flowtui.sanitize escapes beyond the
controls; a few rare format characters such as U+070F are not in its list, and are
not checked here: no terminal acts on them)."""


def _unsafe(text: str) -> list[str]:
    return [
        ch
        for ch in text
        if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or _INVISIBLE.match(ch)
    ]


def assert_inert(result: Rendered, *, shows_markup: bool = True) -> None:
    """No line holds a control or invisible character; on a real terminal only our own
    colour codes come out; the markup-looking text is shown literally."""
    assert result.lines
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor", width=400)
    for line in result.lines:
        assert _unsafe(line.plain) == [], line.plain
        console.print(line)
    ansi = console.file.getvalue()  # type: ignore[attr-defined]
    assert _unsafe(_SGR.sub("", ansi).replace("\n", "")) == []
    text = "\n".join(line.plain for line in result.lines)
    if shows_markup:
        assert "[bold]B[/bold][/]" in text, text
        # As an escape of ours (\x1b) or as the body wrote it (JSON's \u001b).
        assert "\\x1b[2J" in text or "\\u001b[2J" in text
        assert "\\u202e" in text


def _png_with_text(key: bytes, value: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    ihdr = (3).to_bytes(4, "big") + (2).to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"tEXt", key + b"\x00" + value)
        + chunk(b"iTXt", b"Title\x00\x00\x00en\x00\x00" + value)
        + chunk(b"IEND", b"")
    )


U = HOSTILE.encode("utf-8")


def _field(number: int, value: bytes) -> bytes:
    return bytes([number << 3 | 2, len(value)]) + value


CASES: dict[str, tuple[bytes, str | None, bool]] = {
    "text": (U, "text/plain", True),
    "json-string": (json.dumps({"k": HOSTILE}, ensure_ascii=False).encode(), None, True),
    "json-raw-controls": (b'{"' + U + b'": ["' + U + b'"]}', "application/json", True),
    "xml-text": (b"<a t='" + U + b"'><b>" + U + b"</b><!--" + U + b"--></a>", "text/xml", True),
    "html-script": (
        b"<html><title>" + U + b"</title><script>var s = '" + U + b"';</script></html>",
        "text/html",
        True,
    ),
    "javascript": (b"// " + U + b"\nvar a = '" + U + b"';", "application/javascript", True),
    "css": (b"/* " + U + b" */ a { content: '" + U + b"' }", "text/css", True),
    "urlencoded": (
        b"%1B%5B2J%1B%5D52%3Bc%3BSGVsbG8%3D%07%5Bbold%5DB%5B%2Fbold%5D%5B%2F%5D%C2%9B31m"
        b"%E2%80%AEevil=" + U.replace(b"&", b"%26"),
        "application/x-www-form-urlencoded",
        True,
    ),
    "multipart": (
        b'--xx\r\nContent-Disposition: form-data; name="'
        + U.replace(b'"', b"")
        + b'"; filename="'
        + U
        + b'"\r\nContent-Type: '
        + U
        + b"\r\n\r\n"
        + U
        + b'\r\n--xx\r\nContent-Disposition: form-data; name="v"\r\n\r\n'
        + U
        + b"\r\n--xx--\r\n",
        "multipart/form-data; boundary=xx",
        True,
    ),
    "msgpack": (
        msgpack.packb({HOSTILE: [HOSTILE, U, {1: HOSTILE}], 7: msgpack.ExtType(1, U)}),
        "application/msgpack",
        True,
    ),
    # Strings with controls are shown as bytes (hex); bidi-only strings as text.
    "protobuf": (
        _field(1, "[bold]B[/bold][/] \u202eevil \\x1b[2J \\u202e".encode())
        + _field(2, U)
        + _field(3, _field(1, U)),
        "application/x-protobuf",
        True,
    ),
    "image-png": (_png_with_text(b"[bold]B[/bold][/]\x1b[2J", U), "image/png", False),
    "image-jpeg": (
        b"\xff\xd8\xff\xfe"
        + (len(U) + 2).to_bytes(2, "big")
        + U
        + b"\xff\xc0\x00\x11\x08\x00\x02\x00\x03\x03"
        + bytes(9)
        + b"\xff\xda",
        "image/jpeg",
        True,
    ),
    "image-gif": (
        b"GIF89a\x02\x00\x02\x00\x00\x00\x00!\xfe" + bytes([len(U)]) + U + b"\x00;",
        "image/gif",
        True,
    ),
    "image-svg": (
        b'<svg width="' + U + b'" height="1"><title>' + U + b"</title></svg>",
        "image/svg+xml",
        True,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_bodies_stay_inert(case: str) -> None:
    body, ctype, shows_markup = CASES[case]
    view = "image" if case.startswith("image") else "auto"
    result = render(body, content_type=ctype, view=view)
    assert result.error is None, result.error
    assert_inert(result, shows_markup=shows_markup)
    if case == "image-png":
        assert any("\\x1b[2J" in line.plain for line in result.lines)


@pytest.mark.parametrize("view", VIEW_NAMES)
def test_every_view_keeps_a_hostile_body_inert(view: str) -> None:
    """Whatever the view, decoding or failing to: the lines are safe."""
    for body, ctype, _ in CASES.values():
        result = render(body, content_type=ctype, view=view)
        assert_inert(result, shows_markup=False)


def test_hostile_query_and_content_type_stay_inert() -> None:
    assert_inert(render_query([(HOSTILE, HOSTILE), ("a", "1")]))
    # A hostile content type (a boundary, a charset) does no harm either.
    result = render(U, content_type=f"text/plain; charset={HOSTILE}")
    assert_inert(result)
    result = render(U, content_type=f"multipart/form-data; boundary={HOSTILE}")
    assert result.error is not None and _unsafe(result.error) == []


def test_errors_quoting_the_body_are_inert() -> None:
    result = render(b'{"a": \x1b[2J\xe2\x80\xae}', content_type="application/json")
    assert result.error is not None and _unsafe(result.error) == []
    assert "\\x1b" in result.error


_CTYPES = [
    None,
    "application/json",
    "text/html; charset=utf-8",
    "text/xml",
    "text/plain; charset=utf-16",
    "text/plain; charset=rot13",
    "text/css",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "application/msgpack",
    "application/x-protobuf",
    "application/grpc",
    "image/png",
    "image/svg+xml",
    "bogus",
]


def _check(body: bytes, ctype: str | None, view: str, complete: bool) -> None:
    result = render(body, content_type=ctype, view=view, complete=complete)
    assert result.view in VIEW_NAMES and result.view != "auto"
    assert result.complete is complete
    for line in result.lines:
        assert _unsafe(line.plain) == []
    if result.error is not None:
        assert _unsafe(result.error) == []
    stream = render_lines(body, content_type=ctype, view=view, complete=complete)
    lines: list[str] = []
    failed = False
    for line in stream:
        if stream.error is not None and not failed:
            failed, lines = True, []
        lines.append(line.plain)
    assert lines == [line.plain for line in result.lines]
    assert stream.error == result.error


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=600),
    st.sampled_from(_CTYPES),
    st.sampled_from(VIEW_NAMES),
    st.booleans(),
)
def test_random_bytes_never_make_render_raise(
    body: bytes, ctype: str | None, view: str, complete: bool
) -> None:
    _check(body, ctype, view, complete)


_FRAGMENTS = [
    b"{", b"}", b"[", b"]", b'"', b":", b",", b"1", b"-0.5e3", b"true", b"null", b" ", b"\n",
    b"<", b">", b"</", b"/>", b"<!--", b"-->", b"<![CDATA[", b"<?xml", b"<!DOCTYPE x [",
    b"<script>", b"</script>", b"=", b"'", b"&", b"%", b"%1b", b"--b", b"\r\n", b"\x1b",
    b"\x08", b"\x12", b"\x0a\x05", b"\x23", b"\x24", b"\xff", b"\x92", b"\xc4\x03",
    b"\x89PNG\r\n\x1a\n", b"\x00\x00\x00\rIHDR", b"\xff\xd8\xff", b"\xff\xc0\x00\x11",
    b"GIF89a", b"!\xfe\x03", b"RIFF\x00\x00\x00\x00WEBPVP8X", b"\x00\x00\x01\x00\x02\x00",
    b"II*\x00\x08\x00\x00\x00", b"\x00\x01\x03\x00", b"\x00\x00\x00\x1cftypavif", b"ispe",
    b"<svg width='", "\u202e".encode(),
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map(b"".join),
    st.sampled_from(_CTYPES),
    st.sampled_from(VIEW_NAMES),
    st.booleans(),
)
def test_format_like_bytes_never_make_render_raise(
    body: bytes, ctype: str | None, view: str, complete: bool
) -> None:
    """Fragments of the formats reach deeper into each decoder than random bytes."""
    _check(body, ctype, view, complete)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60), st.binary(max_size=100))
def test_any_content_type_string_is_handled(ctype: str, body: bytes) -> None:
    _check(body, ctype, "auto", True)
