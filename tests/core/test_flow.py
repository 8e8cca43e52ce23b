"""Flow semantics: backup/revert/modified, kill, intercept/resume, copy — as mitmproxy's."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import pytest

from flowtui.core import ControlException, Error, Flow, TCPFlow, UnknownFlow

pytest.importorskip("mitmproxy.io")
from mitmproxy import flow as mflow


def both(state: dict[str, Any]) -> tuple[Any, Any]:
    return Flow.from_state(copy.deepcopy(state)), mflow.Flow.from_state(copy.deepcopy(state))


def _mark(f: Any) -> None:
    f.marked = ":default:"


def _unmark(f: Any) -> None:
    f.marked = ""


def _comment(f: Any) -> None:
    f.comment = "checked"


def _drop_message(f: Any) -> None:
    f.messages.pop()


STEPS: dict[str, Callable[[Any], None]] = {
    "backup": lambda f: f.backup(),
    "mark": _mark,
    "unmark": _unmark,
    "comment": _comment,
    "drop_message": _drop_message,
    "revert": lambda f: f.revert(),
    "intercept": lambda f: f.intercept(),
    "resume": lambda f: f.resume(),
}


@pytest.mark.mitmproxy
@pytest.mark.parametrize(
    "sequence",
    [
        ["mark", "backup", "comment", "revert"],
        ["backup", "mark", "unmark", "revert", "backup", "drop_message", "revert"],
        ["backup", "backup", "comment", "backup", "revert", "revert"],
        ["revert", "mark"],
        ["backup", "intercept", "resume", "revert"],
    ],
)
def test_backup_revert_modified_follow_mitmproxy(
    plain_state: dict[str, Any], sequence: list[str]
) -> None:
    ours, theirs = both(plain_state)
    for step in sequence:
        STEPS[step](ours)
        STEPS[step](theirs)
        assert ours.modified() == theirs.modified(), step
        assert ours.get_state() == theirs.get_state(), step


def test_revert_restores_everything_a_user_changed(plain_state: dict[str, Any]) -> None:
    flow = Flow.from_state(plain_state)
    assert isinstance(flow, TCPFlow)
    before = flow.get_state()
    flow.backup()
    flow.marked = ""
    flow.comment = "new"
    flow.metadata["k"] = 1
    del flow.messages[:3]
    assert flow.modified()
    flow.revert()
    assert flow.get_state() == before
    assert not flow.modified()


def test_backup_is_saved_in_the_state_and_survives_reload(plain_state: dict[str, Any]) -> None:
    flow = Flow.from_state(plain_state)
    flow.backup()
    flow.comment = "edited"
    reloaded = Flow.from_state(flow.get_state())
    assert reloaded.modified()
    reloaded.revert()
    assert reloaded.comment == ""


def test_kill_needs_a_live_flow(plain_state: dict[str, Any]) -> None:
    flow = Flow.from_state(plain_state)
    assert not flow.killable
    with pytest.raises(ControlException, match="not killable"):
        flow.kill()
    assert flow.error is None


def test_kill_sets_the_killed_error_and_ends_interception(plain_state: dict[str, Any]) -> None:
    flow = Flow.from_state(plain_state)
    flow.live = True
    flow.intercept()
    flow.kill()
    assert flow.error is not None and flow.error.msg == Error.KILLED_MESSAGE == "Connection killed."
    assert not flow.intercepted and not flow.live and not flow.killable
    with pytest.raises(ControlException):
        flow.kill()


async def test_wait_for_resume_blocks_until_resume(plain_state: dict[str, Any]) -> None:
    flow = Flow.from_state(plain_state)
    await asyncio.wait_for(flow.wait_for_resume(), 1)  # not intercepted: returns at once
    flow.intercept()
    waiter = asyncio.ensure_future(flow.wait_for_resume())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    flow.intercept()  # intercepting twice changes nothing
    flow.resume()
    await asyncio.wait_for(waiter, 1)
    assert not flow.intercepted
    flow.intercept()
    second = asyncio.ensure_future(flow.wait_for_resume())
    await asyncio.sleep(0.01)
    assert not second.done(), "a new intercept must block again"
    flow.resume()
    await asyncio.wait_for(second, 1)


def test_copy_has_a_new_id_is_not_live_and_keeps_the_rest(tls_state: dict[str, Any]) -> None:
    flow = Flow.from_state(tls_state)
    flow.live = True
    dup = flow.copy()
    assert dup.id != flow.id and not dup.live
    a, b = flow.get_state(), dup.get_state()
    a.pop("id"), b.pop("id")
    assert a == b
    assert dup.client_conn == flow.client_conn  # connection ids are kept, as in mitmproxy


def test_timestamp_start_is_the_client_connection_start(plain_state: dict[str, Any]) -> None:
    start = plain_state["client_conn"]["timestamp_start"]
    flow = Flow.from_state(plain_state)  # from_state consumes the state, as in mitmproxy
    assert flow.timestamp_start == start


def test_unknown_type_raises_value_error(plain_state: dict[str, Any]) -> None:
    plain_state["type"] = "quic"
    with pytest.raises(ValueError, match="Unknown flow type: 'quic'"):
        Flow.from_state(plain_state)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("comment"), "Missing fields in flow state: comment"),
        (lambda s: s.update(extra=1), "Unexpected fields in flow state"),
        (lambda s: s.update(version=20), "needs migrating"),
        (lambda s: s["client_conn"].update(alpn="h2"), "Invalid value for alpn. Expected bytes"),
        (lambda s: s["client_conn"].update(bogus=1), "Unexpected fields in Client.set_state"),
        (lambda s: s["server_conn"].update(tls_version="TLSv9"), "does not match any literal"),
        (lambda s: s["client_conn"].update(peername=None), "peername must not be None"),
        (lambda s: s["messages"].append([True, "text", 1.0]), "content: expected bytes"),
        (lambda s: s.update(messages=None), "messages must be a list"),
        (lambda s: s.update(marked=None), "Invalid value for marked"),
        (lambda s: s.update(error={"msg": "x", "timestamp": 1.0, "more": 2}), "Unexpected"),
    ],
)
def test_invalid_states_raise_value_error(
    plain_state: dict[str, Any], change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    change(plain_state)
    with pytest.raises(ValueError, match=message):
        Flow.from_state(plain_state)


def test_ints_are_accepted_where_floats_are_expected(plain_state: dict[str, Any]) -> None:
    plain_state["timestamp_created"] = 5
    plain_state["client_conn"]["timestamp_start"] = 7
    flow = Flow.from_state(plain_state)
    assert flow.client_conn.timestamp_start == 7.0
    assert isinstance(flow.client_conn.timestamp_start, float)


def test_unknown_flow_keeps_the_record_verbatim(plain_state: dict[str, Any]) -> None:
    plain_state["type"] = "quic"
    plain_state["extra"] = {"nested": [b"\x00", 1]}
    kept = copy.deepcopy(plain_state)
    flow = UnknownFlow.from_raw(plain_state, "Unknown flow type: 'quic'")
    assert flow.get_state() == kept
    assert flow.id == kept["id"] and flow.raw_type == "quic"
    assert flow.client_conn.peername == tuple(kept["client_conn"]["peername"])
    assert flow.error is not None and "quic" in flow.error.msg
    flow.marked = ":default:"  # a user change cannot leak into the preserved record
    assert flow.get_state() == kept
    with pytest.raises(ValueError):
        flow.set_state({})


def test_unknown_flow_survives_broken_connections() -> None:
    flow = UnknownFlow.from_raw({"type": "x", "client_conn": "garbage"}, "bad")
    assert flow.client_conn.peername == ("", 0)
    assert flow.get_state() == {"type": "x", "client_conn": "garbage"}
