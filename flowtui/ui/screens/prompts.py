"""Small questions of mitmproxy's list habits: confirm (`z`), a path (`L`), which flows
to save (`w`) and a mark's shortcode.

Each answers through `dismiss()`; the main screen acts on the answer. Text shown here
may come from a capture (a file name), so it is `SafeText`, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar, Generic, TypeVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from flowtui.store import OrderKey
from flowtui.ui.safe_text import SafeText, clean
from flowtui.ui.session import SAVE_CHOICES, SaveChoice, plural

__all__ = ["ChoiceDialog", "ConfirmDialog", "InputDialog", "SaveChoiceDialog"]

ChoiceT = TypeVar("ChoiceT", bound=str)


class ChoiceDialog(ModalScreen[ChoiceT], Generic[ChoiceT]):
    """A question with a few answers, one button each (its id is the answer); `cancel`
    has the focus, so enter never does the irreversible thing by accident. Subclasses
    give the buttons (`CHOICES`) and their keys (`BINDINGS`, calling `choose`)."""

    CHOICES: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """(answer, button label, button variant) in order; one answer is ``cancel``."""

    def __init__(self, title: str, text: str, *, text_id: str | None = None) -> None:
        super().__init__()
        self._title = title
        self._text = text
        self._text_id = text_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean(self._title)), classes="dialog-title")
            yield Static(SafeText(clean(self._text), no_wrap=False), id=self._text_id)
            with Horizontal(classes="dialog-buttons"):
                for answer, label, variant in self.CHOICES:
                    yield Button(label, variant=variant, id=answer)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def action_choose(self, choice: ChoiceT) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(cast("ChoiceT", event.button.id or "cancel"))


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; `y` or enter confirms, `n` or escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self._title, self._question, self._yes = title, question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean(self._title)), classes="dialog-title")
            yield Static(SafeText(clean(self._question), no_wrap=False))
            with Horizontal(classes="dialog-buttons"):
                yield Button(SafeText(clean(f"{self._yes} (y)")), variant="error", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class InputDialog(ModalScreen[str | None]):
    """One line of text (a path, a shortcode); `check(text)` returns a problem to show
    under it, or None to accept."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        value: str = "",
        *,
        hint: str = "",
        placeholder: str = "",
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self._title, self._value, self._hint = title, clean(value), hint
        self._placeholder = placeholder
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean(self._title)), classes="dialog-title")
            yield Input(self._value, placeholder=self._placeholder, id="prompt-text")
            yield Static(SafeText(), id="prompt-error")
            yield Label(SafeText(clean(self._hint or "enter accept · escape cancel"), style="dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        problem = self._check(value) if self._check is not None else None
        if problem is None:
            self.dismiss(value)
            return
        self.query_one("#prompt-error", Static).update(SafeText(clean(problem), style="red"))

    def action_cancel(self) -> None:
        self.dismiss(None)


class SaveChoiceDialog(ModalScreen[SaveChoice | None]):
    """Which flows `w` saves: the shown ones (the default, as mitmproxy's `w`), the
    marked ones, or all of them; each with how many it is."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "choose('shown')", "Shown"),
        Binding("m", "choose('marked')", "Marked"),
        Binding("a", "choose('all')", "All"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, counts: Mapping[SaveChoice, int]) -> None:
        super().__init__()
        self._counts = counts

    def compose(self) -> ComposeResult:
        c = self._counts
        labels: dict[SaveChoice, str] = {
            "shown": f"Shown: {plural(c['shown'], 'flow')} (s)",
            "marked": f"Marked: {plural(c['marked'], 'flow')} (m)",
            "all": f"All: {plural(c['all'], 'flow')} (a)",
        }
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean("Save which flows?")), classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                for choice in SAVE_CHOICES:
                    yield Button(
                        SafeText(clean(labels[choice])),
                        variant="primary" if choice == "shown" else "default",
                        id=f"save-{choice}",
                        disabled=c[choice] == 0,
                    )
            yield Label(SafeText(clean("enter the focused choice · escape cancel"), style="dim"))

    def on_mount(self) -> None:
        default = next((c for c in SAVE_CHOICES if self._counts[c]), "shown")
        self.query_one(f"#save-{default}", Button).focus()

    def action_choose(self, choice: SaveChoice) -> None:
        if self._counts[choice]:
            self.dismiss(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        choice = (event.button.id or "").removeprefix("save-")
        for known in SAVE_CHOICES:
            if known == choice:
                self.dismiss(known)


ORDER_KEYS: dict[str, OrderKey | None] = {
    "n": None,
    "t": OrderKey.TIME,
    "s": OrderKey.SIZE,
    "d": OrderKey.DURATION,
    "e": OrderKey.SERVER,
    "y": OrderKey.TYPE,
}
"""The order dialog's keys: `n` the flows' numbers (the store's order), then
mitmproxy's orders by their first letter (s`e`rver and t`y`pe, as `s` and `t` are
taken)."""


def order_label(order: OrderKey | None) -> str:
    """`number` for the store's order, else the key's label (`size`)."""
    return "number" if order is None else order.label


class OrderDialog(ModalScreen["tuple[OrderKey | None] | None"]):
    """What `o` orders the list by: the answer is a 1-tuple (its order may be None,
    the flows' numbers), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"choose({key!r})", order_label(o)) for key, o in ORDER_KEYS.items()),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, current: OrderKey | None) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean("Order the flows by")), classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                for key, order in ORDER_KEYS.items():
                    label = order_label(order)
                    yield Button(
                        SafeText(clean(f"{label} ({key})")),
                        variant="primary" if order == self._current else "default",
                        id=f"order-{key}",
                    )
            yield Label(SafeText(clean("v reverses · escape cancel"), style="dim"))

    def on_mount(self) -> None:
        current = next(k for k, o in ORDER_KEYS.items() if o == self._current)
        self.query_one(f"#order-{current}", Button).focus()

    def action_choose(self, key: str) -> None:
        if key in ORDER_KEYS:
            self.dismiss((ORDER_KEYS[key],))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_choose((event.button.id or "").removeprefix("order-"))
