"""The message document follows what the proxy says is held: held messages get a sign
(in order, each direction), an edit made while held rebuilds the message's rows, and the
signs go when the flow is released. Seen through the plain `Window` viewport."""

from __future__ import annotations

from ui.test_message_document import document, make_flow

from flowtui.live.held import DROPPED_KEY, HELD_KEY, MODIFIED_KEY, apply_held
from flowtui.ui.message_document.held import message_marks
from flowtui.ui.widgets.message_rows import Kind


def _headers(doc: object) -> list[str]:
    return [str(r[2]) for r in getattr(doc, "rows") if r[0] == Kind.HEADER]  # noqa: B009


def test_held_messages_are_marked_edited_and_released() -> None:
    doc, _window = document()
    flow = make_flow([b"greeting\n", b"login\n", b"answer\n"])
    flow.live = True
    doc.show_flow(flow)
    assert not any("held" in h for h in _headers(doc))

    # the proxy holds the client's #1 and the server's #2 (one per direction, in order)
    flow.intercepted = True
    flow.metadata[HELD_KEY] = [[1, b"login\n"], [2, b"answer\n"]]
    doc.refresh_flow()
    headers = _headers(doc)
    assert "⏸ held" not in headers[0]
    assert headers[1].endswith("⏸ held") and headers[2].endswith("⏸ held")
    assert "⏸ 2 held" in str(doc.titles()[0])
    assert doc.held_target() == 1  # the first held message on screen

    # another inspector edited #1: the mirror takes the new bytes, the rows follow
    flow.metadata[HELD_KEY] = [[1, b"LOGIN as root\n"], [2, b"answer\n"]]
    flow.metadata[MODIFIED_KEY] = [[1, b"login\n"]]
    assert apply_held(flow, flow.messages)
    doc.refresh_flow()
    headers = _headers(doc)
    assert "14 bytes" in headers[1] and headers[1].endswith("⏸ held · ✎ edited")
    assert any("LOGIN as root" in str(r[2]) for r in doc.rows if r[0] == Kind.TEXT)

    # #2 dropped, then everything released: what was changed stays said
    flow.messages[2].content = b""
    flow.metadata[DROPPED_KEY] = [[2, b"answer\n"]]
    flow.metadata[HELD_KEY] = [[1, b"LOGIN as root\n"], [2, b""]]
    doc.refresh_flow()
    assert _headers(doc)[2].endswith("⏸ held · ✗ dropped (7 bytes not sent)")
    flow.intercepted = False
    del flow.metadata[HELD_KEY]
    doc.refresh_flow()
    headers = _headers(doc)
    assert not any("⏸" in h for h in headers)
    assert headers[1].endswith("✎ edited") and headers[2].endswith("✗ dropped (7 bytes not sent)")
    assert "held" not in str(doc.titles()[0])


def test_a_held_websocket_drop_changes_the_marks() -> None:
    """A dropped WebSocket message keeps its bytes: the held entry's third item is what
    changes, and the document must see it."""
    flow = make_flow([b"a", b"b"])
    flow.intercepted = True
    flow.metadata[HELD_KEY] = [[1, b"b"]]
    before = message_marks(flow)
    flow.metadata[HELD_KEY] = [[1, b"b", True]]
    assert message_marks(flow) != before
