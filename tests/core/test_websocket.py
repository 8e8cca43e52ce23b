"""`WebSocketData` and `WebSocketMessage` against mitmproxy 11's."""

from __future__ import annotations

import copy

import pytest
from http_oracle import observe, plain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowtui.core import WebSocketData, WebSocketMessage

pytest.importorskip("mitmproxy.websocket")
from mitmproxy import websocket as mws

pytestmark = pytest.mark.mitmproxy
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
texts = st.text(max_size=30)


@SETTINGS
@given(
    messages=st.lists(
        st.tuples(
            st.sampled_from([1, 2]), st.booleans(), st.binary(max_size=20), st.floats(1, 2e9)
        ),
        max_size=5,
    ),
    closed=st.none() | st.booleans(),
    code=st.none() | st.integers(1000, 4999),
    reason=st.none() | texts,
)
def test_generated_websockets_behave_the_same(
    messages: list[tuple[int, bool, bytes, float]],
    closed: bool | None,
    code: int | None,
    reason: str | None,
) -> None:
    state = {
        "messages": [(*m, False, False) for m in messages],
        "closed_by_client": closed,
        "close_code": code,
        "close_reason": reason,
        "timestamp_end": None,
    }
    ours = WebSocketData.from_state(copy.deepcopy(state))
    theirs = mws.WebSocketData.from_state(copy.deepcopy(state))
    assert plain(ours.get_state()) == plain(theirs.get_state())
    assert repr(ours) == repr(theirs)
    for a, b in zip(ours.messages, theirs.messages, strict=True):
        for read in (
            lambda m: m.is_text,
            lambda m: m.text,
            lambda m: repr(m),
            lambda m: m.drop(),
            lambda m: setattr(m, "text", "ü"),
            lambda m: m.get_state(),
        ):
            assert observe(lambda read=read, a=a: read(a)) == observe(
                lambda read=read, b=b: read(b)
            )
    made = WebSocketMessage(2, True, b"x", 5.0)
    assert made.get_state() == mws.WebSocketMessage(2, True, b"x", 5.0).get_state()


def test_bad_message_states_are_refused() -> None:
    good = [1, True, b"x", 1.0, False, False]
    for i, bad in [(0, 7), (0, "1"), (1, 1), (2, "x"), (3, None), (4, 0), (5, None)]:
        state = list(good)
        state[i] = bad
        with pytest.raises(ValueError):
            WebSocketMessage.from_state(state)
    with pytest.raises(ValueError):
        WebSocketMessage.from_state(good[:5])
    with pytest.raises(ValueError):
        WebSocketData.from_state({"messages": []})


def test_kill_is_a_deprecated_drop_as_in_mitmproxy() -> None:
    for cls in (WebSocketMessage, mws.WebSocketMessage):
        m = cls(1, True, b"x", 1.0)
        with pytest.warns(DeprecationWarning):
            m.kill()
        assert m.dropped
