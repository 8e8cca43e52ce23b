"""A flow's state in flowtui equals mitmproxy 11's state for the same flow."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from truth import as_lists

from flowtui.core import Flow, TCPFlow, UDPFlow

pytest.importorskip("mitmproxy.io")  # registers every mitmproxy flow type
from mitmproxy import flow as mitmproxy_flow

pytestmark = pytest.mark.mitmproxy


def test_every_fixture_flow_round_trips_its_state(truth_state: dict[str, Any]) -> None:
    flow = Flow.from_state(copy.deepcopy(truth_state))
    assert as_lists(flow.get_state()) == truth_state


def test_state_equals_mitmproxys_exactly(truth_state: dict[str, Any]) -> None:
    """Same keys, same values, same container types (tuples where mitmproxy has tuples)."""
    ours = Flow.from_state(copy.deepcopy(truth_state)).get_state()
    theirs = mitmproxy_flow.Flow.from_state(copy.deepcopy(truth_state)).get_state()
    assert ours == theirs
    assert list(ours) == list(theirs)
    assert list(ours["client_conn"]) == list(theirs["client_conn"])
    assert list(ours["server_conn"]) == list(theirs["server_conn"])


def test_flow_class_matches_type(truth_state: dict[str, Any]) -> None:
    flow = Flow.from_state(copy.deepcopy(truth_state))
    assert flow.type == truth_state["type"]
    if flow.type == "tcp":
        assert isinstance(flow, TCPFlow)
    if flow.type == "udp":
        assert isinstance(flow, UDPFlow)


def test_fresh_tcp_flow_state_layout_matches_mitmproxy() -> None:
    """Defaults of a new flow and its connections are mitmproxy's defaults."""
    from mitmproxy import connection as mconn
    from mitmproxy import tcp as mtcp

    from flowtui.core import Client, Server, TCPMessage

    def build(client: Any, server: Any, flow: Any, message: Any) -> Any:
        c = client(peername=("10.0.0.1", 5555), sockname=("10.0.0.2", 80), id="c")
        c.timestamp_start = 1.0
        f = flow(c, server(address=("example.com", 443), id="s"))
        f.id = "f"
        f.timestamp_created = 2.0
        f.messages.append(message(True, b"hi", 3.0))
        return f

    ours = build(Client, Server, TCPFlow, TCPMessage).get_state()
    theirs = build(mconn.Client, mconn.Server, mtcp.TCPFlow, mtcp.TCPMessage).get_state()
    assert ours == theirs
    assert list(ours["client_conn"]) == list(theirs["client_conn"])
    assert list(ours["server_conn"]) == list(theirs["server_conn"])
