"""Hypothesis strategies for flow states (format 21 TCP/UDP), shared by the test suites."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

__all__ = ["connection", "flow_states", "json_values", "texts"]

TRICKY_TEXTS = st.sampled_from(
    ["3:sni;", "8:peername;19:8:10.0.2.3;5:40002#]", "11:tls_version;7:TLSv1.3;", "0:~", "]}"]
)
"""Text that looks like the tnetstring items an index pass searches for."""
texts = st.text(max_size=20) | TRICKY_TEXTS
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
opt_floats = st.none() | floats
# Message timestamps are never 0: `timestamp or time.time()` (as in mitmproxy) replaces 0.
stamps = st.floats(min_value=1e-3, max_value=4e9)
hosts = st.sampled_from(["127.0.0.1", "::1", "example.com", "10.1.2.3", ""])
ports = st.integers(0, 65535)
addresses = st.tuples(hosts, ports) | st.tuples(hosts, ports, st.integers(0, 9), st.integers(0, 9))
tls_versions = st.none() | st.sampled_from(["TLSv1.2", "TLSv1.3", "QUICv1", "SSLv3"])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | floats
    | texts
    | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


def connection(server: bool) -> st.SearchStrategy[dict[str, Any]]:
    common = {
        "peername": (st.none() | addresses) if server else addresses,
        "sockname": (st.none() | addresses) if server else addresses,
        "id": st.uuids().map(str),
        "transport_protocol": st.sampled_from(["tcp", "udp"]),
        "error": st.none() | texts,
        "tls": st.booleans(),
        "certificate_list": st.just([]),
        "alpn": st.none() | st.binary(max_size=8),
        "alpn_offers": st.lists(st.binary(max_size=8), max_size=3),
        "cipher": st.none() | texts,
        "cipher_list": st.lists(texts, max_size=3),
        "tls_version": tls_versions,
        "sni": st.none() | texts,
        "timestamp_start": opt_floats if server else floats,
        "timestamp_end": opt_floats,
        "timestamp_tls_setup": opt_floats,
    }
    if server:
        extra = {
            "address": st.none() | st.tuples(hosts, ports),  # never 4 items, as in mitmproxy
            "timestamp_tcp_setup": opt_floats,
            "via": st.none() | st.tuples(st.sampled_from(["http", "tls"]), st.tuples(hosts, ports)),
        }
    else:
        extra = {
            "mitmcert": st.none(),
            "proxy_mode": st.sampled_from(["regular", "reverse:tcp://127.0.0.1:9@19", "socks5"]),
        }
    return st.fixed_dictionaries({**common, **extra})


flow_states = st.fixed_dictionaries(
    {
        "version": st.just(21),
        "type": st.sampled_from(["tcp", "udp"]),
        "id": st.uuids().map(str),
        "error": st.none() | st.fixed_dictionaries({"msg": texts, "timestamp": floats}),
        "client_conn": connection(server=False),
        "server_conn": connection(server=True),
        "intercepted": st.booleans(),
        "is_replay": st.none() | st.sampled_from(["request", "response"]),
        "marked": st.sampled_from(["", ":default:", ":grapes:", "x"]),
        "metadata": st.dictionaries(texts, json_values, max_size=3),
        "comment": texts,
        "timestamp_created": floats,
        "backup": st.none(),
        "messages": st.lists(st.tuples(st.booleans(), st.binary(max_size=64), stamps), max_size=5),
    }
)
