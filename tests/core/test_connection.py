"""Connections: defaults, str(), equality, the open-connection guard, deprecated aliases."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from flowtui.core import Client, ConnectionState, Flow, Server, format_address

pytest.importorskip("mitmproxy.connection")
from mitmproxy import connection as mconn

ADDRESSES = [
    ("127.0.0.1", 8080),
    ("::1", 443),
    ("::1", 443, 0, 0),
    ("::ffff:10.0.0.1", 22),
    ("0.0.0.0", 80),
    ("::", 80),
    ("example.com", 443),
    ("fe80::1", 9, 0, 3),
]


@pytest.mark.mitmproxy
@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("state", [ConnectionState.OPEN, ConnectionState.CLOSED])
@pytest.mark.parametrize("alpn", [None, b"h2", b""])
@pytest.mark.parametrize("tls_setup", [None, 1.5])
def test_str_is_formatted_as_mitmproxy_does(
    address: Any, state: ConnectionState, alpn: bytes | None, tls_setup: float | None
) -> None:
    def configure(conn: Any, state_value: Any) -> Any:
        conn.alpn = alpn
        conn.timestamp_tls_setup = tls_setup
        conn.state = state_value
        return conn

    mstate = mconn.ConnectionState(state.value)
    ours = configure(Client(peername=address, sockname=("127.0.0.1", 1)), state)
    theirs = configure(mconn.Client(peername=address, sockname=("127.0.0.1", 1)), mstate)
    assert str(ours) == str(theirs)
    ours_s = configure(Server(address=address, sockname=("127.0.0.1", 40000)), state)
    theirs_s = configure(mconn.Server(address=address, sockname=("127.0.0.1", 40000)), mstate)
    assert str(ours_s) == str(theirs_s)


def test_ipv6_is_bracketed() -> None:
    assert format_address(("::1", 443)) == "[::1]:443"
    assert format_address(("127.0.0.1", 80)) == "127.0.0.1:80"
    assert format_address(None) == "<no address>"


def test_equality_and_hash_go_by_id() -> None:
    a = Client(peername=("1.1.1.1", 1), sockname=("2.2.2.2", 2), id="same")
    b = Client(peername=("3.3.3.3", 3), sockname=("4.4.4.4", 4), id="same")
    c = Client(peername=("1.1.1.1", 1), sockname=("2.2.2.2", 2))
    assert a == b and hash(a) == hash(b) and a != c
    assert a != "same"
    assert len({a, b, c}) == 2


def test_connected_and_tls_established() -> None:
    s = Server(address=("example.com", 443))
    assert not s.connected and not s.tls_established
    s.state = ConnectionState.OPEN
    s.timestamp_tls_setup = 1.0
    assert s.connected and s.tls_established
    s.state = ConnectionState.CAN_READ
    assert not s.connected


def test_server_address_cannot_change_on_an_open_connection() -> None:
    s = Server(address=("a.example", 1))
    s.address = ("b.example", 2)  # closed: fine
    s.state = ConnectionState.OPEN
    s.address = ("b.example", 2)  # same value: fine (set_state does this)
    with pytest.raises(RuntimeError, match=r"Cannot change server\.address on open connection"):
        s.address = ("c.example", 3)
    with pytest.raises(RuntimeError, match=r"server\.via"):
        s.via = ("http", ("proxy", 8080))
    s.peername = ("10.0.0.1", 2)  # other fields may change


def test_client_defaults_match_mitmproxy() -> None:
    ours = Client(peername=("1.2.3.4", 5), sockname=("5.6.7.8", 9), timestamp_start=1.0, id="x")
    theirs = mconn.Client(
        peername=("1.2.3.4", 5), sockname=("5.6.7.8", 9), timestamp_start=1.0, id="x"
    )
    assert ours.get_state() == theirs.get_state()
    assert ours.proxy_mode.type_name == "regular"


@pytest.mark.parametrize(
    ("obj", "alias", "value"),
    [
        (Client(peername=("1.1.1.1", 1), sockname=("2.2.2.2", 2)), "address", ("1.1.1.1", 1)),
        (Client(peername=("1.1.1.1", 1), sockname=("2.2.2.2", 2), cipher="X"), "cipher_name", "X"),
        (Client(peername=("1.1.1.1", 1), sockname=("2.2.2.2", 2)), "clientcert", None),
        (Server(address=None, peername=("3.3.3.3", 3)), "ip_address", ("3.3.3.3", 3)),
        (Server(address=None), "cert", None),
        (Server(address=None, alpn=b"h2"), "alpn_proto_negotiated", b"h2"),
    ],
)
def test_deprecated_aliases_warn_and_work(obj: Any, alias: str, value: Any) -> None:
    with pytest.deprecated_call():
        assert getattr(obj, alias) == value


def test_deprecated_setters_warn() -> None:
    c = Client(peername=("1.1.1.1", 1), sockname=("2.2.2.2", 2))
    with pytest.deprecated_call():
        c.address = ("9.9.9.9", 9)
    assert c.peername == ("9.9.9.9", 9)


def test_via_round_trips(tls_state: dict[str, Any]) -> None:
    tls_state["server_conn"]["via"] = ["http", ["proxy.example", 3128]]
    flow = Flow.from_state(copy.deepcopy(tls_state))
    assert flow.server_conn.via == ("http", ("proxy.example", 3128))
    assert flow.get_state()["server_conn"]["via"] == ("http", ("proxy.example", 3128))


def test_connection_state_is_not_serialized() -> None:
    s = Server(address=("a", 1))
    s.state = ConnectionState.OPEN
    assert "state" not in s.get_state()


def test_proxy_mode_spec_is_kept(tls_state: dict[str, Any]) -> None:
    spec = tls_state["client_conn"]["proxy_mode"]
    flow = Flow.from_state(tls_state)
    mode = flow.client_conn.proxy_mode
    assert mode.type_name == "reverse"
    assert mode.data.startswith("tls://127.0.0.1:")
    assert mode.custom_listen_host == "127.0.0.1"
    assert str(mode) == spec
