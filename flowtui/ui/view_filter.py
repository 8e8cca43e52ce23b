"""Turning the text typed into the filter dialog into a predicate for the store.

The filter language (mitmproxy's ``~d``, ``~t``, ``&``, ``|`` ...) lives in
`flowtui.core.filters`; until that module exists, or for plain words, the fallback is
a case-insensitive substring match on the row's text.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from flowtui.core import Flow
from flowtui.store import FlowStore

__all__ = ["FilterProblem", "compile_filter"]

Predicate = Callable[[Flow], bool]


@dataclass(frozen=True)
class FilterProblem:
    """Why a filter expression was rejected, and where."""

    message: str
    """One line, without the position."""
    pos: int | None
    """Offset of the mistake in the text, if known."""


def _substring(text: str, store: FlowStore) -> Predicate:
    needle = text.lower()

    def match(flow: Flow) -> bool:
        s = store.summary(flow)
        return needle in s.search_text() or needle in flow.comment.lower()

    return match


def compile_filter(text: str, store: FlowStore) -> Predicate | FilterProblem | None:
    """A predicate for `text` (None for an empty text) or the problem with it."""
    text = text.strip()
    if not text:
        return None
    try:
        filters = importlib.import_module("flowtui.core.filters")
    except ImportError:
        return _substring(text, store)
    try:
        parsed = filters.parse(text)
    except filters.FilterError as e:
        pos = getattr(e, "pos", None)
        return FilterProblem(str(e), pos if isinstance(pos, int) else None)
    return cast(Predicate, parsed)  # a Filter: the store matches it on summaries where it can
