"""Steering a live proxy from the TUI: the intercept filter's text, and replay's words.

Why a module of its own: the main screen's actions stay short, and these rules (how a
direction is typed, how a filter error is shown on one line) are tested without a UI.

The intercept filter is typed as a filter expression, optionally after a direction:
``client: EXPR`` holds only client-to-server messages, ``server: EXPR`` only
server-to-client ones; an empty text clears the filter.
"""

from __future__ import annotations

from flowtui.core.filters import FilterError, parse

__all__ = ["intercept_label", "intercept_problem", "join_intercept", "split_intercept"]

_PREFIXES = {"client:": "client", "server:": "server", "both:": "both"}
_ARROWS = {"client": " (client→server)", "server": " (server→client)", "both": ""}


def split_intercept(text: str) -> tuple[str, str]:
    """``(expression, direction)`` from what was typed (``client: ~tcp`` ->
    ``("~tcp", "client")``); the expression is empty to clear the filter."""
    stripped = text.strip()
    for prefix, direction in _PREFIXES.items():
        if stripped.lower().startswith(prefix):
            return stripped[len(prefix) :].strip(), direction
    return stripped, "both"


def join_intercept(spec: str, direction: str) -> str:
    """The text that `split_intercept` reads back as ``(spec, direction)``."""
    return spec if direction == "both" else f"{direction}: {spec}"


def intercept_problem(text: str) -> str | None:
    """None if the text is a valid intercept filter (or empty), else one line: the
    parser's message with a caret (⁁) where it goes wrong."""
    spec, direction = split_intercept(text)
    if not spec:
        return None if direction == "both" else f"{direction}: which flows? (empty clears)"
    try:
        parse(spec)
    except FilterError as e:
        pos = min(max(e.pos, 0), len(spec))
        return f"{e.msg} at {pos}: {spec[:pos]}⁁{spec[pos:]}"
    return None


def intercept_label(current: tuple[str, str] | None) -> str:
    """The status bar's words for the filter set (empty when none)."""
    if current is None:
        return ""
    spec, direction = current
    return f"{spec}{_ARROWS.get(direction, '')}"
