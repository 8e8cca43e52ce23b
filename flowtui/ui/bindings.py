"""Every key binding of the main screen, as data with stable ids.

Ids like ``flow.mark`` let users remap keys through ``App.set_keymap``; the actions are
named after the model methods they call (``mark``, ``comment``, ``intercept`` ...). The
help screen and a test walk this list, so it is the one place a binding is declared.
"""

from __future__ import annotations

from textual.binding import Binding

__all__ = ["FLOW_BINDINGS", "STATE_SIGNS", "VIEW_BINDINGS"]

FLOW_BINDINGS: list[Binding] = [
    Binding("m", "mark", "Mark", id="flow.mark"),
    Binding("semicolon", "comment", "Comment", key_display=";", id="flow.comment"),
    Binding("i", "intercept", "Intercept", id="flow.intercept"),
    Binding("a", "resume", "Resume", id="flow.resume"),
    Binding("A", "resume_all", "Resume all", show=False, id="flow.resume_all"),
    Binding("X", "kill", "Kill", id="flow.kill"),
    Binding("V", "revert", "Revert", id="flow.revert"),
    Binding("d", "delete", "Delete", id="flow.delete"),
    Binding("U", "undelete", "Undo delete", show=False, id="flow.undelete"),
    Binding("D", "duplicate", "Duplicate", show=False, id="flow.duplicate"),
]
"""Bindings that act on the focused flow (or all flows)."""

VIEW_BINDINGS: list[Binding] = [
    Binding("f", "set_filter", "Filter", id="view.filter"),
    Binding("F", "follow", "Follow", show=False, id="view.follow"),
    Binding("w", "save", "Save", id="file.save"),
    Binding("enter", "open_detail", "Detail", show=False, id="view.detail"),
    Binding("q", "back", "Quit", id="app.back"),
    Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
]
"""Bindings for the view, files and navigation."""

STATE_SIGNS: list[tuple[str, str]] = [
    ("●", "marked (or the mark's emoji / character, e.g. 🍇 for :grapes:)"),
    ("⏸", "intercepted: paused until resumed (a / A)"),
    ("✗", "killed"),
    ("!", "error (see the Connection tab)"),
    ("✎", "modified since loading (V reverts)"),
    ("◉", "live: the connection is still open"),
]
"""The state signs in the flow list's last column, with their meaning (help legend)."""
