"""Compiling the regular expressions of a filter, once, with guards against hangs.

Filters run over every flow of a capture, so a pattern is compiled at parse time and a
pattern that could take exponential time (a repeated group that itself repeats without
bound, like `(a+)+`) is refused with a message rather than freezing the flow list.
"""

from __future__ import annotations

import importlib
import re
import warnings
from typing import Any, AnyStr

from flowtui.core.filters.errors import FilterError

__all__ = ["MAX_PATTERN", "compile_pattern", "literal_bytes"]

MAX_PATTERN = 2000
"""Longest regular expression accepted (characters)."""

FLAGS = re.IGNORECASE
"""Every filter regex is case-insensitive; `(?-i:...)` makes a part case-sensitive."""

try:  # CPython's regex parser: private, so only used when it is there
    _sre_parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - other Pythons
    _sre_parser = None

_REPEATS = {"MAX_REPEAT", "MIN_REPEAT"}


def _children(name: str, av: Any) -> list[Any]:
    """The sub-patterns of one parsed regex node."""
    if name in _REPEATS:
        return [av[2]]
    if name == "SUBPATTERN":
        return [av[3]]
    if name == "BRANCH":
        return list(av[1])
    if name in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if name == "GROUPREF_EXISTS":
        return [p for p in av[1:] if p is not None]
    # ATOMIC_GROUP and POSSESSIVE_REPEAT never backtrack into their body: safe.
    return []


def _unbounded_inside(items: Any, maxrepeat: int) -> bool:
    """True if the parsed (sub)pattern holds a repeat without an upper bound."""
    for op, av in items:
        name = str(op)
        if name in _REPEATS and av[1] == maxrepeat:
            return True
        if any(_unbounded_inside(c, maxrepeat) for c in _children(name, av)):
            return True
    return False


def _delimited(body: Any) -> bool:
    """True if every pass of a repeat starts or ends with one fixed character or class
    (`(,\\w+)*`, `(\\d+\\.)+`): passes can't be split in many ways, so it's safe enough."""
    items = list(_flatten(body))
    single = ("LITERAL", "NOT_LITERAL", "IN")
    return bool(items) and (str(items[0][0]) in single or str(items[-1][0]) in single)


def _flatten(body: Any) -> Any:
    """The items of a group body, looking through plain (non-repeated) groups."""
    for op, av in body:
        if str(op) == "SUBPATTERN":
            yield from _flatten(av[3])
        else:
            yield op, av


def _nested_repeat(items: Any, maxrepeat: int) -> bool:
    """True for an unbounded repeat whose body also repeats without bound, like `(a+)+`
    or `(\\w+\\s?)+` (a heuristic: overlapping alternatives are not detected)."""
    for op, av in items:
        name = str(op)
        if (
            name in _REPEATS
            and av[1] == maxrepeat
            and _unbounded_inside(av[2], maxrepeat)
            and not _delimited(av[2])
        ):
            return True
        if any(_nested_repeat(c, maxrepeat) for c in _children(name, av)):
            return True
    return False


def _check_nesting(pattern: str, flags: int) -> bool:
    """True if `pattern` has a nested unbounded repeat (exponential backtracking)."""
    if _sre_parser is None:  # pragma: no cover
        return False
    parsed = _sre_parser.parse(pattern, flags)
    return _nested_repeat(parsed, _sre_parser.MAXREPEAT)


def literal_bytes(regex: re.Pattern[bytes]) -> bytes | None:
    """The bytes a regex matches if it is plain text (`flowtui-needle`, `a\\.b`), else
    None (classes, repeats, groups, anchors, inline flags: anything but literals)."""
    if _sre_parser is None:  # pragma: no cover
        return None
    try:
        items = list(_sre_parser.parse(regex.pattern, regex.flags))
    except Exception:  # it compiled, so this should not happen: just no shortcut
        return None
    if not all(str(op) == "LITERAL" for op, _ in items):
        return None
    return bytes(code for _, code in items)


def compile_pattern(
    pattern: str, kind: type[AnyStr], *, flags: int = 0, what: str, pos: int, offsets: list[int]
) -> re.Pattern[AnyStr]:
    """Compile `pattern` (str or bytes regex as `kind` says) or raise FilterError.

    `what` names the operator for messages; `offsets[i]` is where character `i` of the
    pattern sits in the filter expression (quoted arguments shift them), `pos` where the
    argument starts.
    """
    if len(pattern) > MAX_PATTERN:
        raise FilterError(f"regular expression for {what} is too long (max {MAX_PATTERN})", pos)
    flags |= FLAGS
    try:
        compiled: re.Pattern[Any]
        with warnings.catch_warnings():  # "possible nested set" and the like: not errors
            warnings.simplefilter("ignore")
            nested = _check_nesting(pattern, flags)
            if kind is bytes:
                compiled = re.compile(pattern.encode("utf-8", "surrogatepass"), flags)
            else:
                compiled = re.compile(pattern, flags)
    except re.error as e:
        at = pos if e.pos is None or e.pos >= len(offsets) else offsets[e.pos]
        raise FilterError(f"bad regular expression for {what}: {e.msg}", at) from None
    except (RecursionError, OverflowError, ValueError, MemoryError) as e:
        raise FilterError(f"bad regular expression for {what}: {e}", pos) from None
    if nested:
        raise FilterError(
            f"regular expression for {what} repeats a group that itself repeats, which can "
            "take forever; use a possessive '++' or an atomic group '(?>...)'",
            pos,
        )
    return compiled
