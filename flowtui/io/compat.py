"""Migration of flow states written by older mitmproxy releases (formats 18–20) to format 21.

Each step mirrors one ``FLOW_FORMAT_VERSION`` bump of mitmproxy (see docs/format.md):
18→19 renamed and dropped connection fields, 19→20 stopped persisting the connection
``state``, 20→21 renamed the QUIC TLS version. Steps change the dict in place and return it.
Like mitmproxy, the nested ``backup`` state is left as it was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "CURRENT_VERSION",
    "OLDEST_VERSION",
    "MigrationError",
    "UnsupportedVersionError",
    "convert_18_19",
    "convert_19_20",
    "convert_20_21",
    "migrate_flow",
    "state_version",
]

CURRENT_VERSION = 21
"""The flow format version flowtui models (mitmproxy 11 and 12 write it)."""

OLDEST_VERSION = 18
"""The oldest format flowtui migrates (mitmproxy 9.0)."""

State = dict[Any, Any]


class MigrationError(ValueError):
    """A malformed flow state that cannot be migrated (the record itself is broken)."""


class UnsupportedVersionError(MigrationError):
    """A well-formed record of a format version this flowtui does not read (too old or new)."""


def convert_18_19(state: State) -> State:
    """mitmproxy 10.0: connection dataclass cleanup (renamed addresses, dropped TLS fields)."""
    state["version"] = 19
    client = _conn(state, "client_conn")
    server = _conn(state, "server_conn")

    client["peername"] = client.pop("address", None)
    if client.get("timestamp_start") is None:
        client["timestamp_start"] = 0.0
    client.pop("tls_extensions", None)

    server["peername"] = server.pop("ip_address", None)
    server["sockname"] = server.pop("source_address", None)
    server["via"] = server.pop("via2", None)

    for conn in (client, server):
        conn.pop("tls_established", None)
        conn["cipher"] = conn.pop("cipher_name", None)
        conn.setdefault("transport_protocol", "tcp")
        for key in ("peername", "sockname", "address"):
            addr = conn.get(key)
            if addr and isinstance(addr, list) and isinstance(addr[0], bytes):
                addr[0] = addr[0].decode("utf-8", errors="backslashreplace")

    if server.get("sni") is True:
        address = server.get("address")
        server["sni"] = address[0] if address else None
    return state


def convert_19_20(state: State) -> State:
    """mitmproxy 10.0 (#5524): the connection ``state`` is no longer persisted."""
    state["version"] = 20
    _conn(state, "client_conn").pop("state", None)
    _conn(state, "server_conn").pop("state", None)
    return state


def convert_20_21(state: State) -> State:
    """mitmproxy 11.0 (#7201): TLS version ``"QUIC"`` is now called ``"QUICv1"``."""
    state["version"] = 21
    for name in ("client_conn", "server_conn"):
        conn = _conn(state, name)
        if conn.get("tls_version") == "QUIC":
            conn["tls_version"] = "QUICv1"
    return state


_STEPS: dict[int, Callable[[State], State]] = {
    18: convert_18_19,
    19: convert_19_20,
    20: convert_20_21,
}


def state_version(state: State) -> Any:
    """The ``version`` field of a stored state (text or, in ancient files, bytes keys)."""
    if "version" in state:
        return state["version"]
    return state.get(b"version")


def migrate_flow(state: State) -> State:
    """Bring a stored flow state to format 21, or raise MigrationError saying why not."""
    version = state_version(state)
    if isinstance(version, list | tuple):
        # Before format 4 the version was mitmproxy's release tuple, e.g. [0, 11].
        shown = ".".join(str(v) for v in version[:2])
        raise UnsupportedVersionError(
            f"format version {shown} (mitmproxy before 0.18) is too old: "
            f"this flowtui reads {OLDEST_VERSION}–{CURRENT_VERSION}"
        )
    if type(version) is not int:
        raise MigrationError(f"record has no valid format version (found {version!r})")
    if version > CURRENT_VERSION:
        raise UnsupportedVersionError(
            f"written by a newer mitmproxy/flowtui: format version {version}, "
            f"this flowtui reads {OLDEST_VERSION}–{CURRENT_VERSION}"
        )
    if version < OLDEST_VERSION:
        raise UnsupportedVersionError(
            f"format version {version} (mitmproxy before 9.0) is too old: "
            f"this flowtui reads {OLDEST_VERSION}–{CURRENT_VERSION}"
        )
    while version < CURRENT_VERSION:
        state = _STEPS[version](state)
        version += 1
    return state


def _conn(state: State, name: str) -> dict[Any, Any]:
    """The connection dict ``name`` of a state, or a MigrationError if it is not one."""
    conn = state.get(name)
    if not isinstance(conn, dict):
        raise MigrationError(f"record has no {name} dict")
    return conn
