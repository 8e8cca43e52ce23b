"""The one set of rules for making captured text safe to show: escape every control.

Captured bytes, comments, certificate fields and SNI values are attacker-controlled; a
terminal would act on ESC, CSI, OSC 52 (clipboard), bidi overrides and the like. Every
place that shows such text, the UI (`flowtui.ui.safe_text`) and the CLI's output alike,
passes it through `clean()`, which maps each control or invisible character to a
visible escape like `\\x1b`. No dependencies, so the CLI and core code can use it.
"""

from __future__ import annotations

import re

__all__ = ["bytes_to_text", "clean", "clean_lines"]

# C0 controls, DEL, C1 controls; bidi embeddings/overrides/isolates; zero-width and
# invisible format characters; line/paragraph separators; BOM; interlinear annotations;
# lone surrogates (file names decoded with surrogateescape), which no terminal can print.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\u3164\ud800-\udfff\ufe00-\ufe0f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clean(text: str, max_len: int | None = None) -> str:
    """`text` with every control or invisible character replaced by a visible escape.

    The result is one line: newlines become `\\x0a` too. With `max_len`, long text is
    cut (before escaping, so the cost stays bounded) and ends with `…`.
    """
    if max_len is not None and len(text) > max_len:
        return _UNSAFE.sub(_escape, text[:max_len]) + "…"
    return _UNSAFE.sub(_escape, text)


def clean_lines(text: str) -> list[str]:
    """`text` split on newlines, each line cleaned (for comments and other multi-line text)."""
    return [_UNSAFE.sub(_escape, line) for line in text.split("\n")]


def bytes_to_text(data: bytes, max_len: int | None = None) -> str:
    """Network bytes as one safe line: UTF-8 where valid, `\\xNN` for every other byte."""
    if max_len is not None and len(data) > max_len:
        return clean(data[:max_len].decode("utf-8", "backslashreplace")) + "…"
    return clean(data.decode("utf-8", "backslashreplace"))
