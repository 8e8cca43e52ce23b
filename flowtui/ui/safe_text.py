"""The one way text reaches the screen: `SafeText`, built only from `SafeStr` parts.

Captured bytes, comments, certificate fields, SNI values, stored summaries and file
names are attacker-controlled. Textual's `str` APIs parse markup (`[@click=...]` runs
actions, `[/]` raises), and no Textual or Rich API strips ESC, so an OSC 52 or CSI
sequence would reach the terminal. So painters build `SafeText` (a Rich `Text` whose
`append` takes only `SafeStr`, which only `flowtui.sanitize` makes: `clean()` and
friends) and notifications go through `notify()`; passing a raw `str` to either is a
mypy error. Control characters become visible escapes like `\\x1b`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from rich.style import Style
from rich.text import Text

from flowtui.sanitize import SafeStr, bytes_to_text, clean, clean_lines, concat, join, number

if TYPE_CHECKING:
    from textual.app import App

__all__ = [
    "SafeStr",
    "SafeText",
    "bytes_to_text",
    "clean",
    "clean_lines",
    "concat",
    "join",
    "notify",
    "number",
    "safe_text",
]

_NEWLINE = "\n"


class SafeText(Text):
    """A Rich `Text` that is handed only safe parts (and line breaks, by `newline()`)."""

    def __init__(
        self,
        text: SafeStr | None = None,
        style: str | Style = "",
        *,
        no_wrap: bool | None = None,
        overflow: Literal["fold", "crop", "ellipsis", "ignore"] | None = None,
        end: str = "\n",
    ) -> None:
        super().__init__(text or "", style, no_wrap=no_wrap, overflow=overflow, end=end)

    def append(  # type: ignore[override]  # narrower on purpose: only safe text goes in
        self, text: SafeStr | SafeText, style: str | Style | None = None
    ) -> SafeText:
        """Add a safe part, optionally styled; returns self for chaining."""
        super().append(text, style)
        return self

    def newline(self) -> SafeText:
        """Start a new line."""
        super().append(_NEWLINE)
        return self


def safe_text(text: str, style: str = "", max_len: int | None = None) -> SafeText:
    """A `SafeText` holding `clean(text)`: safe for Static, Label, DataTable cells."""
    return SafeText(clean(text, max_len), style=style, no_wrap=True, end="")


Severity = Literal["information", "warning", "error"]


def notify(
    app: App[Any],
    message: SafeStr,
    *,
    title: SafeStr | None = None,
    severity: Severity = "information",
    timeout: float | None = None,
) -> None:
    """A toast whose message and title are safe text, never parsed as markup."""
    app.notify(message, title=title or "", severity=severity, timeout=timeout, markup=False)
