"""The edit dialog's text forms: every byte string round-trips through text with
escapes and through hex, and what cannot be read is refused with where and why."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowtui.ui.message_edit import EditProblem, from_text, to_text


@given(st.binary(max_size=2000))
def test_every_byte_string_round_trips(data: bytes) -> None:
    for mode in ("text", "hex"):
        assert from_text(to_text(data, mode), mode) == data  # type: ignore[arg-type]


def test_the_text_form_reads_like_the_message() -> None:
    data = b"GET / HTTP/1.1\r\nHost: a\\b\t\x00\xff\n"
    assert to_text(data, "text") == "GET / HTTP/1.1\\r\nHost: a\\\\b\\t\\x00\\xff\n"
    assert to_text(b"\x01\x02" * 9, "hex").split("\n") == ["01 02 " * 7 + "01 02", "01 02"]
    assert from_text("a\\nb", "text") == b"a\nb"  # \n typed, or a real line break
    assert from_text(" 0a0B\n ff ", "hex") == b"\n\x0b\xff"


@pytest.mark.parametrize(
    ("text", "mode", "problem"),
    [
        ("a\\q", "text", "unknown escape at character 2"),
        ("a\\", "text", "unknown escape at character 2: \\ then the end"),
        ("\\x4", "text", "\\x at character 1 needs two hex digits"),
        ("\\x+1", "text", "needs two hex digits"),
        ("grüße", "text", "character 3 ('ü') is not ASCII"),
        ("0g", "hex", "not a hex digit: 'g'"),
        ("abc", "hex", "odd number of hex digits"),
    ],
)
def test_what_cannot_be_read_is_refused(text: str, mode: str, problem: str) -> None:
    with pytest.raises(EditProblem) as caught:
        from_text(text, mode)  # type: ignore[arg-type]
    assert problem in str(caught.value)
