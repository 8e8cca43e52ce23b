"""The one set of rules for making captured text safe to show: escape every control.

Captured bytes, comments, certificate fields, SNI values, stored summaries and file
names are attacker-controlled; a terminal would act on ESC, CSI, OSC 52 (clipboard),
bidi overrides and the like. Every place that shows such text, the UI
(`flowtui.ui.safe_text`) and the CLI's output alike, takes it as `SafeStr`, and only
the functions here make one: `clean()` maps each control or invisible character to a
visible escape like `\\x1b`, `number()` shows a value that must be a number as one (or
`?`), and `concat()`/`join()` put safe parts together. A raw `str` where a `SafeStr` is
expected is a mypy error, so the raw path cannot be written by accident.
No dependencies, so the CLI and core code can use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import NewType

__all__ = [
    "SafeStr",
    "bytes_to_text",
    "clean",
    "clean_lines",
    "concat",
    "join",
    "number",
    "safe_format",
    "split_at",
]

SafeStr = NewType("SafeStr", str)
"""Text that holds no control or invisible character: what painters and stdout take.

Only this module makes one (a test checks that no other module calls `SafeStr(...)`).
Note that `str` methods and f-strings give back a plain `str`: use `concat`, `join` or
`safe_format`."""

# C0 controls, DEL, C1 controls; bidi embeddings/overrides/isolates; zero-width and
# invisible format characters (every one of Unicode's category Cf: a test checks);
# line/paragraph separators; BOM; interlinear annotations;
# lone surrogates (file names decoded with surrogateescape), which no terminal can print.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ud800-\udfff"
    "\ufe00-\ufe0f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clean(text: str, max_len: int | None = None) -> SafeStr:
    """`text` with every control or invisible character replaced by a visible escape.

    The result is one line: newlines become `\\x0a` too. With `max_len`, long text is
    cut (before escaping, so the cost stays bounded) and ends with `…`.
    """
    if max_len is not None and len(text) > max_len:
        return SafeStr(_UNSAFE.sub(_escape, text[:max_len]) + "…")
    return SafeStr(_UNSAFE.sub(_escape, text))


def clean_lines(text: str) -> list[SafeStr]:
    """`text` split on newlines, each line cleaned (for comments and other multi-line text)."""
    return [SafeStr(_UNSAFE.sub(_escape, line)) for line in text.split("\n")]


def bytes_to_text(data: bytes, max_len: int | None = None) -> SafeStr:
    """Network bytes as one safe line: UTF-8 where valid, `\\xNN` for every other byte."""
    if max_len is not None and len(data) > max_len:
        return SafeStr(clean(data[:max_len].decode("utf-8", "backslashreplace")) + "…")
    return clean(data.decode("utf-8", "backslashreplace"))


def number(value: object, spec: str = "", unknown: str = "?") -> SafeStr:
    """A value that must be a number (a status code, a port, a count) shown as one.

    An `int` (not a `bool`) or a finite `float` is formatted with `spec` (a format spec
    such as `","` or `".2f"`); anything else, say a status code stored as
    ``"\\x1b]52;..."``, a NaN or a list, shows as `unknown` (cleaned), never as itself.
    """
    if (type(value) is int) or (type(value) is float and math.isfinite(value)):
        try:
            return clean(format(value, spec))
        except (ValueError, OverflowError):
            pass
    return clean(unknown)


def concat(*parts: SafeStr) -> SafeStr:
    """Safe parts as one safe text (an f-string of safe parts is a plain `str`)."""
    return SafeStr("".join(parts))


def safe_format(template: str, *parts: SafeStr) -> SafeStr:
    """`template` (the program's own text, cleaned too) with `{}` fields filled by safe
    parts: a line of several parts without escaping each part twice."""
    return SafeStr(clean(template).format(*parts))


def join(sep: SafeStr, parts: Iterable[SafeStr]) -> SafeStr:
    """`sep.join(parts)`, still safe."""
    return SafeStr(sep.join(parts))


def split_at(text: SafeStr, ends: Iterable[int]) -> list[SafeStr]:
    """`text` cut at the offsets `ends` (a piece of safe text is safe): wrapping a long
    line costs no second scan."""
    out: list[SafeStr] = []
    start = 0
    for end in ends:
        out.append(SafeStr(text[start:end]))
        start = end
    return out
