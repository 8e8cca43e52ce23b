"""The inject dialog (`J`): a new message for the client or the server of a live flow.

Answers ``(to_client, content)`` through `dismiss()`, or None when cancelled; the main
screen's steering sends it. The content is typed as text with escapes or as hex (see
`flowtui.ui.byte_text`), checked as it is typed, with the byte count and the first bytes
shown under it; enter sends only what parses.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet, Static

from flowtui.ui.byte_text import ByteTextError, ByteTextMode, escape_bytes, parse_bytes, preview
from flowtui.ui.safe_text import SafeText, clean

__all__ = ["InjectDialog"]

_PLACEHOLDER: dict[ByteTextMode, str] = {
    "text": r"e.g. PING\r\n or \x00\x01binary",
    "hex": "e.g. 50 49 4e 47 0d 0a",
}


class InjectDialog(ModalScreen["tuple[bool, bytes] | None"]):
    """Direction, notation and content of one message to inject."""

    DEFAULT_CSS = """
    InjectDialog RadioSet {
        layout: horizontal;
        width: 100%;
        height: auto;
        border: none;
        padding: 0;
        margin-bottom: 1;
    }
    InjectDialog RadioSet > RadioButton {
        width: auto;
        margin-right: 2;
    }
    InjectDialog #inject-preview {
        height: auto;
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+t", "toggle_direction", "Direction", priority=True),
        Binding("ctrl+o", "toggle_mode", "Text/hex", priority=True),
    ]

    def __init__(self, title: str, *, to_client: bool = False, websocket: bool = False) -> None:
        super().__init__()
        self._title = title
        self._to_client = to_client
        self._websocket = websocket
        self._mode: ByteTextMode = "text"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean(self._title)), classes="dialog-title")
            with RadioSet(id="inject-direction"):
                yield RadioButton("to the server", value=not self._to_client, id="to-server")
                yield RadioButton("to the client", value=self._to_client, id="to-client")
            with RadioSet(id="inject-mode"):
                yield RadioButton("text with escapes", value=True, id="mode-text")
                yield RadioButton("hex", id="mode-hex")
            yield Input(placeholder=_PLACEHOLDER["text"], id="inject-text")
            yield Static(SafeText(), id="inject-preview")
            kind = "one WebSocket message, text if UTF-8" if self._websocket else "raw bytes"
            hints = (
                f"{kind}; escapes \\xNN \\n \\r \\t \\\\",
                "ctrl+t direction · ctrl+o text/hex · enter send · escape cancel",
            )
            for hint in hints:
                yield Label(SafeText(clean(hint), style="dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._show_preview()

    # -- what is typed ------------------------------------------------------------------

    @property
    def to_client(self) -> bool:
        """Whether the message goes to the client (else to the server)."""
        return self.query_one("#to-client", RadioButton).value

    @property
    def mode(self) -> ByteTextMode:
        return self._mode

    def content(self) -> bytes:
        """The bytes typed so far; `ByteTextError` when they do not parse."""
        return parse_bytes(self.query_one(Input).value, self._mode)

    def _show_preview(self) -> None:
        box = self.query_one("#inject-preview", Static)
        try:
            data = self.content()
        except ByteTextError as e:
            typed = self.query_one(Input).value
            where = f"{typed[: e.pos]}⁁{typed[e.pos :]}"
            box.update(SafeText(clean(f"{e.msg} at {e.pos}: {where}", max_len=200), style="red"))
            return
        where = "the client" if self.to_client else "the server"
        text = f"{preview(data)} → {where}" if data else f"nothing yet → {where}"
        box.update(SafeText(clean(text)))

    @on(Input.Changed)
    def _changed(self, _event: Input.Changed) -> None:
        self._show_preview()

    @on(RadioSet.Changed, "#inject-direction")
    def _direction_changed(self, _event: RadioSet.Changed) -> None:
        self._show_preview()

    @on(RadioSet.Changed, "#inject-mode")
    def _mode_changed(self, event: RadioSet.Changed) -> None:
        self._switch_mode("hex" if event.pressed.id == "mode-hex" else "text")

    def _switch_mode(self, mode: ByteTextMode) -> None:
        """Change the notation, rewriting what was typed when it parses (so switching
        to hex shows the bytes typed as text, and back)."""
        if mode == self._mode:
            return
        field = self.query_one(Input)
        try:
            data = self.content()
        except ByteTextError:
            data = None
        self._mode = mode
        if data is not None:
            field.value = (
                " ".join(f"{b:02x}" for b in data) if mode == "hex" else escape_bytes(data)
            )
        field.placeholder = _PLACEHOLDER[mode]
        self._show_preview()

    # -- actions ------------------------------------------------------------------------

    def action_toggle_direction(self) -> None:
        target = "#to-server" if self.to_client else "#to-client"
        self.query_one(target, RadioButton).value = True

    def action_toggle_mode(self) -> None:
        target = "#mode-text" if self._mode == "hex" else "#mode-hex"
        self.query_one(target, RadioButton).value = True

    @on(Input.Submitted)
    def _submit(self, _event: Input.Submitted) -> None:
        try:
            data = self.content()
        except ByteTextError:
            return  # the preview says why
        if not data:
            box = self.query_one("#inject-preview", Static)
            box.update(SafeText(clean("nothing to send: type a message"), style="red"))
            return
        self.dismiss((self.to_client, data))

    def action_cancel(self) -> None:
        self.dismiss(None)
