"""Modal dialogs: comment, filter, save, quit confirmation.

Each returns its answer through `dismiss()`; the main screen applies it to the model.
Text from a capture (an existing comment, a file name) is shown as `SafeText`: cleaned,
never as markup.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from flowtui.ui.safe_text import SafeText, clean, clean_lines
from flowtui.ui.screens.prompts import ChoiceDialog

__all__ = ["CommentDialog", "FilterDialog", "QuitChoice", "QuitDialog", "SaveDialog", "SaveTarget"]

QuitChoice = Literal["save", "discard", "cancel"]


class CommentDialog(ModalScreen[str | None]):
    """Edit a flow's comment (multi-line); ctrl+s saves, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, comment: str, title: str) -> None:
        super().__init__()
        # Control characters would reach the terminal through TextArea: show them escaped,
        # and keep the original if the user saves without changing anything.
        self._original = comment
        self._shown = "\n".join(clean_lines(comment))
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean(self._title)), classes="dialog-title")
            yield TextArea(self._shown, id="comment-text", soft_wrap=True)
            yield Label(SafeText(clean("ctrl+s save · escape cancel"), style="dim"))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        self.dismiss(self._original if text == self._shown else text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class FilterDialog(ModalScreen[str | None]):
    """Type a view filter; a bad expression is shown with a caret at its position.

    `check(text)` returns None when the text is acceptable, else (message, position).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str, check: Callable[[str], tuple[str, int | None] | None]) -> None:
        super().__init__()
        # Input shows control characters raw: prefill escaped, keep the original if unedited.
        self._original = current
        self._current = clean(current)
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean("View filter")), classes="dialog-title")
            yield Input(self._current, placeholder="e.g. ~tcp & example.com", id="filter-text")
            yield Static(SafeText(), id="filter-error")
            yield Label(
                SafeText(clean("enter apply · empty shows all · escape cancel"), style="dim")
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        value = self._original if event.value == self._current else event.value
        problem = self._check(value)
        if problem is None:
            self.dismiss(value.strip())
            return
        message, pos = problem
        error = SafeText(no_wrap=False)
        if pos is not None:
            error.append(clean(value)).newline()
            error.append(clean(" " * min(pos, len(value)) + "^"), style="bold red").newline()
        error.append(clean(message), style="red")
        self.query_one("#filter-error", Static).update(error)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class SaveTarget:
    """What the save dialog tells about a target path, before anything is written."""

    sources: dict[str, int]
    """The opened files (their real paths) and how many flows each gave."""
    count: int
    """How many flows will be written."""

    def describe(self, path: str) -> str:
        """One line: whether `path` is a new file, an existing one, one of the opened
        files (how many flows it held, how many it will hold), or a device."""
        if not path.strip():
            return "no path: escape cancels"
        target = os.path.realpath(Path(path.strip()).expanduser())
        name = Path(path.strip()).name or path
        if target in self.sources:
            held = self.sources[target]
            which = "the opened file" if len(self.sources) == 1 else "one of the opened files"
            return (
                f"Overwrites {name}, {which} ({held} flow{'s' if held != 1 else ''} in it; "
                f"{self.count} will be)"
            )
        try:
            mode = Path(target).stat().st_mode
        except OSError:
            return "A new file"
        if stat.S_ISREG(mode):
            return f"Replaces the existing file {name}"
        if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
            return f"Writes to {name} as a stream (a device or pipe, not replaced)"
        return f"{name} is not a file that can be written"


class SaveDialog(ModalScreen[Path | None]):
    """Ask where to save, saying what will be written and what it replaces (updated as
    the path is typed): with several files open their merged flows go to a new name.
    `what` names a part of the session (``3 shown flows``) when not all are saved."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        path: str,
        count: int,
        fmt: str,
        sources: dict[str, int] | None = None,
        what: str = "",
    ) -> None:
        super().__init__()
        self._what = what
        # A file name can hold escapes: prefill it escaped, keep the original if unedited.
        self._original = path
        self._path = clean(path)
        self._count = count
        self._fmt = fmt
        self._target = SaveTarget(sources or {}, count)

    def compose(self) -> ComposeResult:
        files = len(self._target.sources)
        flows = f"{self._count} flow{'s' if self._count != 1 else ''}"
        title = f"Save {flows} from {files} files to:" if files > 1 else f"Save {flows} to:"
        if self._what:  # a part of the session: say which
            title = f"Save {self._what} to:"
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean(title)), classes="dialog-title")
            yield Input(self._path, id="save-path")
            yield Label(SafeText(clean(self._target.describe(self._original))), id="save-target")
            yield Label(SafeText(clean(f"format: {self._fmt} · saved atomically"), style="dim"))
            yield Label(SafeText(clean("enter save · escape cancel"), style="dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        path = self._original if event.value == self._path else event.value
        self.query_one("#save-target", Label).update(SafeText(clean(self._target.describe(path))))

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if event.value == self._path:
            self.dismiss(Path(self._original))
            return
        value = event.value.strip()
        self.dismiss(Path(value).expanduser() if value else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class QuitDialog(ChoiceDialog[QuitChoice]):
    """Unsaved changes: save, discard or cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "choose('save')", "Save"),
        Binding("d", "choose('discard')", "Discard"),
        Binding("escape,c", "choose('cancel')", "Cancel"),
    ]
    CHOICES = (
        ("save", "Save and quit (s)", "primary"),
        ("discard", "Discard (d)", "error"),
        ("cancel", "Cancel (esc)", "default"),
    )

    def __init__(self, summary: str) -> None:
        super().__init__("Unsaved changes", summary)
