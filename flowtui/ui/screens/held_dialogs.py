"""Dialogs of held messages: edit one before it is sent, and leave while some are held.

The edit dialog shows the message as text with escapes or as hex (`message_edit`), checks
what is typed before it is accepted, and answers with the bytes to send. The leave
dialog says how many flows the proxy holds and what it will do with them once no
inspector is attached (its ``--on-detach`` policy, from its hello).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from flowtui.live.client import LiveClient
from flowtui.ui.message_edit import EditMode, EditProblem, from_text, to_text
from flowtui.ui.safe_text import SafeText, clean
from flowtui.ui.screens.prompts import ChoiceDialog
from flowtui.ui.session import plural

__all__ = [
    "LeaveChoice",
    "LeaveHeldDialog",
    "MessageEditDialog",
    "detach_policy_text",
    "held_by_proxy",
]

LeaveChoice = Literal["quit", "resume", "cancel"]


class MessageEditDialog(ModalScreen[bytes | None]):
    """Edit a held message: ctrl+s sends the edit, ctrl+t switches text and hex, escape
    cancels. The answer is the new bytes (None: cancelled, or unchanged)."""

    DEFAULT_CSS = """
    MessageEditDialog > .dialog { width: 90%; max-width: 110; height: auto; }
    MessageEditDialog #edit-content { height: 12; }
    MessageEditDialog #edit-error { color: $text-error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Send edited", priority=True),
        Binding("ctrl+t", "toggle_mode", "Text/hex", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, content: bytes, title: str, mode: EditMode = "text") -> None:
        super().__init__()
        self._original = content
        self._title = title
        self.mode: EditMode = mode
        """How the content is shown: text with escapes, or hex."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean(self._title)), classes="dialog-title")
            yield Label(SafeText(clean(self._mode_line())), id="edit-mode")
            # Only printable ASCII and line breaks reach the TextArea (to_text escapes
            # every other byte), so no capture byte is drawn raw.
            yield TextArea(to_text(self._original, self.mode), id="edit-content")
            yield Static(SafeText(), id="edit-error")
            yield Label(
                SafeText(
                    clean("ctrl+s send this · ctrl+t text/hex · escape cancel (sent as it was)"),
                    style="dim",
                )
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send edited (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def _mode_line(self) -> str:
        if self.mode == "hex":
            return "hex: two digits per byte, spaces and line breaks ignored"
        return "text: a line break is \\n (0x0a); \\xNN \\t \\r \\\\ for other bytes"

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def _content(self) -> bytes | None:
        """The bytes typed, or None (the problem shown) when they are invalid."""
        try:
            return from_text(self.query_one(TextArea).text, self.mode)
        except EditProblem as e:
            error = SafeText(clean(f"{self.mode}: {e}", max_len=300), style="bold red")
            self.query_one("#edit-error", Static).update(error)
            return None

    def action_toggle_mode(self) -> None:
        data = self._content()
        if data is None:
            return
        self.mode = "hex" if self.mode == "text" else "text"
        self.query_one("#edit-error", Static).update(SafeText())
        self.query_one("#edit-mode", Label).update(SafeText(clean(self._mode_line())))
        self.query_one(TextArea).load_text(to_text(data, self.mode))

    def action_save(self) -> None:
        data = self._content()
        if data is not None:
            self.dismiss(None if data == self._original else data)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


def held_by_proxy(client: LiveClient) -> int:
    """How many flows the attached proxy holds (intercepted, as last told)."""
    if not client.connected.is_set():
        return 0
    return sum(1 for flow in client.flows.values() if flow.intercepted and flow.live)


def detach_policy_text(policy: str | None, count: int = 2) -> str:
    """What the proxy does with ``count`` held flows once no inspector is attached."""
    them = "it" if count == 1 else "them"
    if policy == "keep":
        return f"keep {them} held (an inspector attaching later can resume {them})"
    if policy == "resume":
        return f"resume {them}: the held messages go out"
    if policy == "kill":
        return f"kill {them}: both connections are closed"
    return "apply its --on-detach policy (this proxy does not say which)"


class LeaveHeldDialog(ChoiceDialog[LeaveChoice]):
    """Quitting while the proxy holds flows: quit, resume them all and quit, or cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "choose('quit')", "Quit"),
        Binding("r", "choose('resume')", "Resume all and quit"),
        Binding("escape,c", "choose('cancel')", "Cancel"),
    ]
    CHOICES = (
        ("quit", "Quit (q)", "warning"),
        ("resume", "Resume all and quit (r)", "primary"),
        ("cancel", "Cancel (esc)", "default"),
    )

    def __init__(self, held: int, policy: str | None) -> None:
        verb = "is" if held == 1 else "are"
        text = (
            f"{plural(held, 'flow')} {verb} held by the proxy. When its last inspector "
            f"detaches, the proxy will {detach_policy_text(policy, held)}."
        )
        super().__init__("Flows are held", text, text_id="leave-text")
