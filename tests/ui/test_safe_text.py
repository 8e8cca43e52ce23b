"""The sanitiser: captured text never becomes markup or a terminal escape."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from textual.widgets import Static
from ui_support import screen_ansi

from flowtui.sanitize import split_at
from flowtui.ui.safe_text import (
    SafeText,
    bytes_to_text,
    clean,
    clean_lines,
    concat,
    join,
    number,
    safe_text,
)

os.environ.pop("NO_COLOR", None)

PAYLOADS = {
    "close-tag": "A[/bold]B",
    "action": "[@click=app.quit]CLICK[/]",
    "link": "[link=https://x]click[/link]",
    "osc52": "\x1b]52;c;SGVsbG8=\x07",
    "osc-title-st": "\x1b]0;PWNED\x1b\\",
    "clear": "\x1b[2J",
    "nul": "A\x00B",
    "cr": "line\rover",
    "c1-csi": "A\x9bB",
    "bidi": "abc\u202edef",
    "zero-width": "a\u200bb\ufeffc",
}

# Everything the sanitiser must turn into a visible escape.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
)


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_clean_leaves_no_control_or_invisible_character(payload: str) -> None:
    cleaned = clean(payload)
    assert not UNSAFE.search(cleaned)
    assert safe_text(payload).plain == cleaned


def test_escapes_are_visible_and_markup_is_literal() -> None:
    assert clean("\x1b[2J") == "\\x1b[2J"
    assert clean("A\x00B\rC\x9bD") == "A\\x00B\\x0dC\\x9bD"
    assert clean("abc\u202edef") == "abc\\u202edef"
    assert clean("[@click=app.quit]X[/]") == "[@click=app.quit]X[/]"
    assert clean("tab\there") == "tab\\x09here"
    assert clean_lines("one\ntwo\x1b") == ["one", "two\\x1b"]


def test_bytes_to_text_escapes_invalid_utf8() -> None:
    assert bytes_to_text(b"ok \xff\xfe \xc3\xa9") == "ok \\xff\\xfe é"
    assert bytes_to_text(b"\xc2\x9b") == "\\x9b"  # C1 encoded as valid UTF-8


def test_length_is_bounded_before_escaping() -> None:
    long = "\x00" * 1_000_000
    out = clean(long, max_len=100)
    assert out == "\\x00" * 100 + "…"
    assert bytes_to_text(b"A" * 1_000_000, max_len=10) == "A" * 10 + "…"


@given(st.text())
def test_clean_never_leaves_unsafe_characters(text: str) -> None:
    assert not UNSAFE.search(clean(text))


@given(st.binary())
def test_bytes_to_text_never_leaves_unsafe_characters(data: bytes) -> None:
    assert not UNSAFE.search(bytes_to_text(data))


def test_every_invisible_format_or_control_character_is_escaped() -> None:
    """Every code point of Unicode's control, format, separator and surrogate categories
    (`Cc Cf Zl Zp Cs`) comes out of `clean` as a visible escape, not itself: Arabic
    number signs, the Syriac abbreviation mark, Egyptian format controls, musical
    symbol beams, ... print invisibly or reorder text, whatever the terminal."""
    import unicodedata

    invisible = [
        chr(c)
        for c in range(0x110000)
        if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp", "Cs")
    ]
    assert len(invisible) > 2000
    left = [hex(ord(c)) for c in invisible if clean(c) == c]
    assert left == []


class Host(App[None]):
    def compose(self) -> ComposeResult:
        for name, payload in PAYLOADS.items():
            yield Static(safe_text(payload), id=name)
        yield Static(safe_text(b"\xff\x00 bin".decode("latin-1")), id="latin")

    def on_mount(self) -> None:
        self.theme = "textual-dark"


async def test_static_with_safe_text_renders_escaped_and_triggers_nothing() -> None:
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.click("#action")
        assert app.is_running
        ansi = re.sub(r"\x1b\[[0-9;]*[mH]", "", screen_ansi(app))
        for bad in ("\x1b", "\x00", "\x9b", "\x07", "\u202e", "\u200b", "\x1b]8;"):
            assert bad not in ansi, repr(bad)
        assert "[@click=app.quit]CLICK[/]" in ansi
        assert "\\x1b]52;c;SGVsbG8=\\x07" in ansi
        assert "A[/bold]B" in ansi


# -- the one path: SafeStr is made only by flowtui.sanitize -------------------------------

ROOT = Path(__file__).resolve().parents[2] / "flowtui"


def _calls(tree: ast.AST, name: str, method: bool = False) -> list[int]:
    """Lines calling `name(...)` (with `method`: `x.name(...)`)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (method and isinstance(func, ast.Attribute) and func.attr == name) or (
                not method and isinstance(func, ast.Name) and func.id == name
            ):
                lines.append(node.lineno)
    return lines


def test_only_the_sanitiser_makes_safe_text_and_only_safe_text_builds_rich_text() -> None:
    """The typed path cannot be bypassed quietly: `SafeStr(...)` is called only in
    `flowtui/sanitize.py`; Rich's `Text` is imported only by `ui/safe_text.py` (painters
    build `SafeText`, whose `append` takes only `SafeStr`); toasts go through
    `safe_text.notify`."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if rel != "sanitize.py":
            found += [f"{rel}:{n} SafeStr()" for n in _calls(tree, "SafeStr")]
        if rel != "ui/safe_text.py":
            found += [f"{rel}:{n} .notify()" for n in _calls(tree, "notify", method=True)]
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "rich.text":
                    found += [f"{rel}:{node.lineno} imports rich.text"]
    assert found == []


def test_number_shows_only_numbers() -> None:
    assert number(200) == "200" and number(2**64 - 1) == "18446744073709551615"
    assert number(1234567, ",") == "1,234,567" and number(1.5, ".2f") == "1.50"
    for odd in ("\x1b]52;c;SGVsbG8=\x07", "200", None, True, float("nan"), [1], 10**5000):
        assert number(odd) == "?"
    assert number(None, unknown="\x1b[2J-") == "\\x1b[2J-"


def test_joined_and_cut_safe_text_stays_safe() -> None:
    parts = [clean("a\x1b"), clean("b\u202e")]
    assert concat(*parts) == "a\\x1bb\\u202e" and join(clean(", "), parts) == "a\\x1b, b\\u202e"
    assert split_at(clean("\x1b[2J"), [3, 6, 7]) == ["\\x1", "b[2", "J"]
    text = SafeText(clean("x")).append(clean("\x07")).newline().append(clean("y"))
    assert text.plain == "x\\x07\ny"


_WIDGETS = {"Label", "Static", "Button", "TabPane", "Input", "add_row", "SafeText"}


def _built_text(node: ast.expr) -> bool:
    """An f-string, a `+`/`%` of strings or a `.format()`: text put together in place,
    where captured text slips in unescaped."""
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
    )


def test_widgets_never_get_text_built_in_place() -> None:
    """Textual's `str` arguments parse markup and keep ESC: a widget gets a literal or
    `SafeText` built from `clean()`ed parts, never an f-string or a concatenation."""
    found = []
    for path in sorted((ROOT / "ui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in _WIDGETS and any(_built_text(arg) for arg in node.args):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert found == []
