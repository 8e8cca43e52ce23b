"""The rows of the message viewer: one cheap pass over a flow's messages.

A row is a small tuple, not a rendered line: a header row holds its finished header
text, a text row holds one cleaned, wrapped line, and a hex row holds only the byte
offset (formatted when it scrolls into view). Building 10,000 messages is therefore a
single loop of decode/split work, and rendering stays with the viewer (`message_paint`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from flowtui.core import DNSFlow, Flow, HTTPFlow, UnknownFlow
from flowtui.ui.safe_text import SafeStr, clean, join
from flowtui.ui.widgets.flow_columns import format_relative
from flowtui.ui.widgets.hexdump import HEX_WIDTH, hex_row, looks_binary, text_lines

__all__ = [
    "DIRECTIONS",
    "VIEW_MODES",
    "Direction",
    "Kind",
    "MessageLike",
    "Row",
    "RowStats",
    "ViewMode",
    "build_rows",
    "count_stats",
    "format_size",
    "notes_for",
    "row_text",
]

ViewMode = Literal["auto", "text", "hex"]
VIEW_MODES: tuple[ViewMode, ...] = ("auto", "text", "hex")
"""The view modes in the order `h` cycles through them."""

Direction = Literal["both", "client", "server"]
DIRECTIONS: tuple[Direction, ...] = ("both", "client", "server")
"""The direction filters in the order `c` cycles through them."""

INJECTED_TAG = "⊕ injected"
"""A message header's tag for a message an inspector injected (not sent by a peer)."""
ARROW_CLIENT = "→"
"""Client to server."""
ARROW_SERVER = "←"
"""Server to client."""


class Kind:
    """What a row shows: plain ints, not an Enum (see `Row`)."""

    HEADER: Final = 0
    TEXT: Final = 1
    HEX: Final = 2
    NOTE: Final = 3


Row = tuple[int, int, SafeStr | int]
"""One line of the viewer: `(kind, message, payload)`. `kind` is a `Kind`, `message` the
index in `flow.messages` (-1 for notes), `payload` the line's safe text or, for hex rows, the
byte offset into the message.

A plain tuple of ints and strings, not a named tuple: the cyclic collector stops tracking
such tuples, and the 100,000 rows of a big flow, tracked, made it pause for tens of
milliseconds at a time while they were built (a plain tuple is also quicker to make)."""


class MessageLike(Protocol):
    """What the viewer needs of a TCP or UDP message."""

    from_client: bool
    content: bytes
    timestamp: float


@dataclass
class RowStats:
    """Counts shown in the border: how many messages and bytes each way."""

    shown: int = 0
    total: int = 0
    client_msgs: int = 0
    server_msgs: int = 0
    client_bytes: int = 0
    server_bytes: int = 0

    def add(self, message: MessageLike, shown: bool) -> None:
        """Count one message (all messages count; `shown` ones also count as shown)."""
        self.total += 1
        self.shown += shown
        if message.from_client:
            self.client_msgs += 1
            self.client_bytes += len(message.content)
        else:
            self.server_msgs += 1
            self.server_bytes += len(message.content)


def format_size(size: int) -> str:
    """`size` in bytes with thousands separators, e.g. `1,234 bytes`."""
    return f"{size:,} byte" if size == 1 else f"{size:,} bytes"


def _header(index: int, message: MessageLike, t0: float | None, tag: str) -> SafeStr:
    arrow = ARROW_CLIENT if message.from_client else ARROW_SERVER
    who = "client → server" if message.from_client else "server → client"
    rel = format_relative(message.timestamp, t0)
    text = f"{arrow} #{index}  {rel}  {format_size(len(message.content))}  {who}"
    return clean(f"{text}  [{tag}]" if tag else text)


def build_rows(
    messages: Iterable[MessageLike],
    *,
    first_index: int,
    mode: ViewMode,
    direction: Direction,
    text_width: int,
    t0: float | None,
    stats: RowStats | None = None,
    injected: Collection[int] = (),
    marks: Mapping[int, str] | None = None,
) -> list[Row]:
    """Rows for `messages` (numbered from `first_index`) in `mode`, keeping `direction`.

    In "auto" mode each message picks hex or text by `looks_binary`, and its header
    says which. `stats`, if given, is updated with every message, shown or not;
    `marks` adds a sign to the header of the messages it lists (``⏸ held``, by index).
    Rows depend only on each message and its index, so building a flow in pieces
    (`messages[a:b]` with `first_index=a`, then the next piece) gives the same rows.
    A message whose index is in `injected` (TCP: `flowtui.live.injected`), or that says
    it was (a WebSocket message's `injected`), is tagged ``injected``.
    """
    rows: list[Row] = []
    append = rows.append
    for index, message in enumerate(messages, first_index):
        shown = direction == "both" or (direction == "client") == message.from_client
        if stats is not None:
            stats.add(message, shown)
        if not shown:
            continue
        content = message.content
        as_hex = mode == "hex" or (mode == "auto" and looks_binary(content))
        tag = ("hex" if as_hex else "text") if mode == "auto" else ""
        opcode = getattr(message, "type", None)  # a WebSocket message's opcode
        if isinstance(opcode, int):
            name = getattr(opcode, "name", None) or f"opcode {int(opcode)}"
            tag = f"{str(name).lower()} frame" + (f" · {tag}" if tag else "")
        if index in injected or getattr(message, "injected", False) is True:
            tag = f"{INJECTED_TAG} · {tag}" if tag else INJECTED_TAG
        header = _header(index, message, t0, tag)
        if getattr(message, "dropped", False):  # a WebSocket message mitmproxy dropped
            header = clean(f"{header}  ✗ dropped")
        if marks and index in marks:
            header = clean(f"{header}  {marks[index]}")
        append((Kind.HEADER, index, header))
        if not content:
            continue
        if as_hex:
            rows.extend((Kind.HEX, index, off) for off in range(0, len(content), HEX_WIDTH))
        else:
            rows.extend((Kind.TEXT, index, line) for line in text_lines(content, text_width))
    return rows


def count_stats(messages: Iterable[MessageLike], direction: Direction, stats: RowStats) -> None:
    """Add `messages` to `stats` as `build_rows` would, without building rows (one cheap
    pass: the border's counts are right at once while the rows are still being built)."""
    for message in messages:
        stats.add(message, direction == "both" or (direction == "client") == message.from_client)


def row_text(row: Row, messages: Sequence[MessageLike]) -> SafeStr:
    """The plain text a row shows (hex rows are formatted here, on demand)."""
    kind, message, payload = row
    if kind == Kind.HEX:
        assert isinstance(payload, int)
        return hex_row(messages[message].content, payload)
    assert isinstance(payload, str)
    return payload


def notes_for(flow: Flow | None) -> list[SafeStr]:
    """Explanatory lines for a flow that has no TCP/UDP messages to show."""
    if flow is None:
        return [clean("No flow selected.")]
    if isinstance(flow, HTTPFlow):
        status = flow.status_code
        lines = [
            clean(
                f"HTTP  {clean(flow.method, 40)} {clean(flow.pretty_url, 400)}"
                f"  → {status if status is not None else 'no response'}"
            )
        ]
        lines.append(clean("The Request and Response tabs show its headers and bodies (b: view)."))
        return lines
    if isinstance(flow, DNSFlow):
        questions = join(
            clean(", "), (clean(f"{clean(name, 200)} (type {typ})") for name, typ in flow.questions)
        )
        answers = flow.answer_count
        return [
            clean(f"DNS  query: {questions or 'no questions'}"),
            clean(f"answers: {answers if answers is not None else 'no response'}"),
            clean("The Request and Response tabs show its records."),
        ]
    if isinstance(flow, UnknownFlow):
        return [
            clean(f"Unreadable flow record (type {clean(flow.raw_type, 40)}), kept as read:"),
            clean(flow.reason, 400),
        ]
    return [clean(f"{clean(flow.type, 20).upper()} flow: no messages to show.")]
