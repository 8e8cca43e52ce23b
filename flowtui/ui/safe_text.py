"""The one sanitiser for everything that reaches the screen.

Captured bytes, comments, certificate fields and SNI values are attacker-controlled.
Textual's `str` APIs parse markup (`[@click=...]` runs actions, `[/]` raises), and no
Textual or Rich API strips ESC, so an OSC 52 or CSI sequence would reach the terminal.
Everything shown therefore goes through `clean()` (its rules live in `flowtui.sanitize`,
shared with the CLI) and is rendered as `Text`, never as a markup string: control
characters become visible escapes like `\\x1b`.
"""

from __future__ import annotations

from rich.text import Text

from flowtui.sanitize import bytes_to_text, clean, clean_lines

__all__ = ["bytes_to_text", "clean", "clean_lines", "safe_text"]


def safe_text(text: str, style: str = "", max_len: int | None = None) -> Text:
    """A `Text` holding `clean(text)`: safe for Static, Label, DataTable cells and notify."""
    return Text(clean(text, max_len), style=style, no_wrap=True, end="")
