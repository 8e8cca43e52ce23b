"""Formats 18–20 migrate to 21 exactly as mitmproxy 11's own migration does."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from truth import TRUTH, as_lists

from flowtui.io import FlowReader, FlowReadException, tnetstring
from flowtui.io.compat import (
    MigrationError,
    UnsupportedVersionError,
    convert_18_19,
    convert_19_20,
    convert_20_21,
    migrate_flow,
)

IDS = [f"{name}-{i}" for name, i, _ in TRUTH]


# ---- down-conversion, per docs/format.md (FORMAT.md §4), written for these tests


def down_21_20(state: dict[str, Any]) -> dict[str, Any]:
    state["version"] = 20
    for name in ("client_conn", "server_conn"):
        if state[name]["tls_version"] == "QUICv1":
            state[name]["tls_version"] = "QUIC"
    return state


def down_20_19(state: dict[str, Any]) -> dict[str, Any]:
    state["version"] = 19
    state["client_conn"]["state"] = 0
    state["server_conn"]["state"] = 0
    return state


def down_19_18(state: dict[str, Any]) -> dict[str, Any]:
    state["version"] = 18
    client, server = state["client_conn"], state["server_conn"]
    client["address"] = client.pop("peername")
    client["tls_extensions"] = []
    server["ip_address"] = server.pop("peername")
    server["source_address"] = server.pop("sockname")
    server["via2"] = server.pop("via")
    server["via"] = None
    for conn in (client, server):
        conn["tls_established"] = conn["timestamp_tls_setup"] is not None
        conn["cipher_name"] = conn.pop("cipher")
        del conn["transport_protocol"]
    return state


def down_to(state: dict[str, Any], version: int) -> dict[str, Any]:
    state = copy.deepcopy(state)
    for step, target in ((down_21_20, 20), (down_20_19, 19), (down_19_18, 18)):
        if state["version"] <= version:
            break
        state = step(state)
        assert state["version"] == target
    return state


def file_of(states: list[dict[str, Any]]) -> bytes:
    return b"".join(tnetstring.dumps(s) for s in states)


def flowtui_states(data: bytes) -> list[Any]:
    return [as_lists(f.get_state()) for f in FlowReader(io.BytesIO(data)).stream()]


def mitmproxy_states(data: bytes) -> list[Any]:
    from mitmproxy import io as mio

    return [as_lists(f.get_state()) for f in mio.FlowReader(io.BytesIO(data)).stream()]


# ---- the steps themselves


@pytest.mark.parametrize("entry", TRUTH, ids=IDS)
@pytest.mark.parametrize("version", [18, 19, 20, 21])
def test_down_then_up_restores_tcp_states(entry: tuple[str, int, dict], version: int) -> None:
    state = entry[2]
    migrated = migrate_flow(down_to(state, version))
    if state["client_conn"]["transport_protocol"] == "udp" and version == 18:
        # Format 18 had no transport_protocol; the 18→19 step assumes "tcp" (as mitmproxy).
        state = copy.deepcopy(state)
        state["client_conn"]["transport_protocol"] = "tcp"
        state["server_conn"]["transport_protocol"] = "tcp"
    assert migrated == state


@pytest.mark.mitmproxy
@pytest.mark.parametrize("version", [18, 19, 20])
def test_migration_matches_mitmproxy_on_every_fixture_flow(version: int) -> None:
    data = file_of([down_to(state, version) for _, _, state in TRUTH])
    ours = flowtui_states(data)
    assert len(ours) == len(TRUTH)
    assert ours == mitmproxy_states(data)


@pytest.mark.mitmproxy
def test_quic_tls_version_renamed_like_mitmproxy() -> None:
    state = down_to(TRUTH[0][2], 20)
    state["client_conn"]["tls_version"] = "QUIC"
    state["server_conn"]["tls_version"] = "QUIC"
    data = file_of([state])
    ours = flowtui_states(data)
    assert ours[0]["client_conn"]["tls_version"] == "QUICv1"
    assert ours == mitmproxy_states(data)


@pytest.mark.mitmproxy
def test_format_18_oddities_like_mitmproxy() -> None:
    """Bytes hosts are decoded, a null client start becomes 0.0, ``sni is True`` → host."""
    state = down_to(TRUTH[0][2], 18)
    state["client_conn"]["address"][0] = b"127.0.0.1"
    state["server_conn"]["address"][0] = b"localhost"
    state["client_conn"]["timestamp_start"] = None
    state["server_conn"]["sni"] = True
    data = file_of([state])
    ours = flowtui_states(data)
    assert ours[0]["client_conn"]["peername"][0] == "127.0.0.1"
    assert ours[0]["client_conn"]["timestamp_start"] == 0.0
    assert ours[0]["server_conn"]["sni"] == "localhost"
    assert ours == mitmproxy_states(data)


@pytest.mark.mitmproxy
def test_backup_is_kept_as_stored_like_mitmproxy() -> None:
    """mitmproxy migrates the top level only; the nested backup is kept as stored."""
    state = down_to(TRUTH[0][2], 19)
    backup = copy.deepcopy(state)
    backup["comment"] = "before the edit"
    state["backup"] = backup
    data = file_of([state])
    ours = flowtui_states(data)
    assert ours[0]["backup"]["version"] == 19
    assert ours == mitmproxy_states(data)


def test_steps_set_their_version() -> None:
    state = down_to(TRUTH[0][2], 18)
    assert convert_18_19(state)["version"] == 19
    assert convert_19_20(state)["version"] == 20
    assert convert_20_21(state)["version"] == 21


# ---- versions flowtui does not read


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (22, "written by a newer mitmproxy/flowtui: format version 22, this flowtui reads 18–21"),
        (17, "format version 17 (mitmproxy before 9.0) is too old"),
        ([0, 11], "format version 0.11"),
    ],
)
def test_unsupported_versions(version: Any, expected: str) -> None:
    with pytest.raises(
        UnsupportedVersionError, match=expected.replace("(", r"\(").replace(")", r"\)")
    ):
        migrate_flow({"version": version, "client_conn": {}, "server_conn": {}})


def test_future_version_in_a_file_stops_after_the_good_flows() -> None:
    good = TRUTH[0][2]
    future = copy.deepcopy(good)
    future["version"] = 22
    data = file_of([good, good, future, good])
    reader = FlowReader(io.BytesIO(data), name="new.flows")
    got = []
    with pytest.raises(FlowReadException) as info:
        got.extend(reader.stream())
    assert len(got) == 2
    e = info.value
    assert (e.path, e.index, e.offset) == ("new.flows", 2, 2 * len(tnetstring.dumps(good)))
    assert str(e) == (
        f"new.flows: flow #2 at byte {e.offset}: written by a newer mitmproxy/flowtui: "
        "format version 22, this flowtui reads 18–21"
    )


def test_malformed_old_record_is_kept_as_unknown_flow() -> None:
    """A framed dict that cannot migrate is not fatal: it is kept verbatim."""
    broken = {"version": 19, "type": "tcp", "client_conn": "nope"}
    with pytest.raises(MigrationError):
        migrate_flow(copy.deepcopy(broken))
    flows = list(FlowReader(io.BytesIO(file_of([broken, TRUTH[0][2]]))).stream())
    assert type(flows[0]).__name__ == "UnknownFlow"
    assert flows[0].get_state() == broken
    assert as_lists(flows[1].get_state()) == TRUTH[0][2]
