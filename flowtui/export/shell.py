"""Quoting for command lines a user pastes into a shell (curl, httpie exports).

An argument made only of printable characters is quoted as ``shlex.quote`` does (single
quotes; nothing inside them is special), which is what mitmproxy writes. An argument
holding a control character, a format character (bidi overrides) or a line separator
is written as a Bash/Zsh/Ksh ANSI-C string, ``$'...'``, with those characters as escapes:
raw control characters in pasted text are keystrokes to a line editor (Ctrl-U erases the
line typed so far, so a pasted ``'x<C-u>; rm -rf ~`` would run the tail), and ESC can end
bracketed paste. The output therefore holds no character below U+0020 at all. A byte
that is not UTF-8 (a string decoded with ``surrogateescape``) is written as ``\\xNN``, so
the shell passes on that very byte.
"""

from __future__ import annotations

import shlex
import unicodedata

__all__ = ["ShellQuoteError", "needs_escapes", "quote"]

_SHORT = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f",
          "\r": "\\r", "\x1b": "\\E", "\\": "\\\\", "'": "\\'"}  # fmt: skip


class ShellQuoteError(ValueError):
    """An argument that no shell can receive (it holds a NUL byte)."""


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def needs_escapes(arg: str) -> bool:
    """Whether `arg` holds a character that is written as an escape."""
    return any(_unsafe(c) for c in arg)


def quote(arg: str) -> str:
    """`arg` as one shell word that pastes safely and reads back exactly."""
    if "\x00" in arg:
        raise ShellQuoteError(
            "a NUL character cannot be passed in a command-line argument; export raw_request"
        )
    if not needs_escapes(arg):
        return shlex.quote(arg)
    out = []
    for c in arg:
        if c in _SHORT:
            out.append(_SHORT[c])
        elif 0xDC80 <= ord(c) <= 0xDCFF:  # a byte that is not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif _unsafe(c):
            code = ord(c)
            out.append(f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}")
        else:
            out.append(c)
    return "$'" + "".join(out) + "'"


def join(args: list[str]) -> str:
    """A command line from its words."""
    return " ".join(quote(a) for a in args)
