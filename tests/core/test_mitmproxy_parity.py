"""flowtui's model against the real mitmproxy 11 classes (issue #11, items 21 and 22).

mitmproxy's own test helpers (`mitmproxy.test.tflow`) build flows of every kind; each
state goes through flowtui's classes and must come back as mitmproxy's, with the same
reprs. A flow mitmproxy's writer wrote with `marked=True` reads back, round-trips
unchanged and shows as marked.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest

from flowtui.core import Flow, TCPFlow, TCPMessage, UDPFlow, UDPMessage, UnknownFlow
from flowtui.core.filters import parse
from flowtui.core.summary import summarize
from flowtui.io import FlowReader, read_flows, save_flows
from flowtui.ui.widgets.flow_columns import state_signs

pytest.importorskip("mitmproxy.io")
from mitmproxy import flow as mitmproxy_flow
from mitmproxy import tcp as mtcp
from mitmproxy import udp as mudp
from mitmproxy.io import FlowWriter
from mitmproxy.test import tflow

pytestmark = pytest.mark.mitmproxy

HELPERS = {
    "tcp": tflow.ttcpflow,
    "tcp error": lambda: tflow.ttcpflow(err=True),
    "udp": tflow.tudpflow,
    "udp error": lambda: tflow.tudpflow(err=True),
    "dns": tflow.tdnsflow,
    "http": lambda: tflow.tflow(resp=True),
    "http error": lambda: tflow.tflow(err=True),
    "websocket": tflow.twebsocketflow,
}


def _theirs(name: str) -> Any:
    f = HELPERS[name]()
    f.marked = ":grapes:"
    f.comment = "c"
    return f


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_state_of_mitmproxys_test_flows_round_trips_exactly(name: str) -> None:
    theirs = _theirs(name)
    state = theirs.get_state()
    ours = Flow.from_state(copy.deepcopy(state))
    assert not isinstance(ours, UnknownFlow)
    again = ours.get_state()
    assert again == state or mitmproxy_flow.Flow.from_state(again).get_state() == state
    assert ours.id == theirs.id and ours.marked == theirs.marked


@pytest.mark.parametrize("name", ["tcp", "tcp error", "udp", "udp error"])
def test_reprs_equal_mitmproxys(name: str) -> None:
    state = _theirs(name).get_state()  # read back, as a capture is (closed connections)
    theirs = mitmproxy_flow.Flow.from_state(copy.deepcopy(state))
    ours = Flow.from_state(copy.deepcopy(state))
    assert repr(ours) == repr(theirs)
    assert [repr(m) for m in ours.messages] == [repr(m) for m in theirs.messages]
    assert str(ours.client_conn) == str(theirs.client_conn)
    assert str(ours.server_conn) == str(theirs.server_conn)
    assert str(ours.error) == str(theirs.error) and repr(ours.error) == repr(theirs.error)


@pytest.mark.parametrize("from_client", [True, False])
def test_message_reprs_have_mitmproxys_space(from_client: bool) -> None:
    """mitmproxy 11: `-> b'hello'` for TCP and UDP alike (flowtui's TCP had no space)."""
    assert repr(TCPMessage(from_client, b"hello", 1.0)) == repr(
        mtcp.TCPMessage(from_client, b"hello", 1.0)
    )
    assert repr(UDPMessage(from_client, b"hello", 1.0)) == repr(
        mudp.UDPMessage(from_client, b"hello", 1.0)
    )
    assert repr(TCPMessage(True, b"hello", 1.0)) == "-> b'hello'"


@pytest.mark.parametrize("marked", [True, False])
def test_a_boolean_mark_written_by_mitmproxy_reads_back_unchanged(
    marked: bool, tmp_path: Path
) -> None:
    """Older mitmproxy versions stored marks as a bool, and mitmproxy 11 still reads and
    writes one; flowtui refused the record ("Expected str.")."""
    flows = [tflow.ttcpflow(), tflow.tudpflow()]
    for f in flows:
        f.marked = marked  # what mitmproxy's set_state keeps, and get_state gives back
    buf = io.BytesIO()
    writer = FlowWriter(buf)
    for f in flows:
        writer.add(f)
    path = tmp_path / "marked.flows"
    path.write_bytes(buf.getvalue())

    ours = read_flows(path)
    assert [type(f) for f in ours] == [TCPFlow, UDPFlow]
    for mine, theirs in zip(ours, flows, strict=True):
        assert mine.get_state() == theirs.get_state()
        assert mine.get_state()["marked"] is marked
        assert mine.marked == (":default:" if marked else "")
        assert not mine.modified()
        s = summarize(mine)
        assert bool(s.marked) is marked and (state_signs(s) == "●") is marked
        assert parse("~marked")(mine) is marked

    save_flows(tmp_path / "again.flows", ours)
    assert (tmp_path / "again.flows").read_bytes() == path.read_bytes()
    save_flows(tmp_path / "again.capture", ours, format="flowtui")
    with (tmp_path / "again.capture").open("rb") as f:
        again = list(FlowReader(f).stream())
    assert [f.get_state() for f in again] == [f.get_state() for f in flows]


def test_a_mark_set_in_flowtui_replaces_the_boolean() -> None:
    f = tflow.ttcpflow()
    f.marked = True
    ours = Flow.from_state(f.get_state())
    ours.marked = ""
    assert ours.get_state()["marked"] == "" and not summarize(ours).marked
