"""Real captures of mitmproxy 9.0.1 (format 18) and 10.4.2 (format 20) read like mitmproxy 11.

The truth files hold mitmproxy 11.0.2's own ``get_state()`` of every flow, after its migration
(see tests/data/mitmproxy-9/README.md and tests/data/mitmproxy-10/README.md).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from truth import as_lists, mitmproxy_states, truth_states

from flowtui.core import UnknownFlow
from flowtui.io import FlowReader, read_flows, save_flows, tnetstring
from flowtui.io.compat import CURRENT_VERSION, migrate_flow

DATA = Path(__file__).parent.parent / "data"
ON_DISK_VERSION = {"mitmproxy-9": 18, "mitmproxy-10": 20}
CAPTURES = [p for d in ON_DISK_VERSION for p in sorted((DATA / d).glob("*.flows"))]
IDS = [f"{p.parent.name}/{p.stem}" for p in CAPTURES]


def truth_doc(capture: Path) -> dict[str, Any]:
    return json.loads(capture.with_name(capture.name + ".json").read_text(encoding="utf-8"))


def raw_records(path: Path) -> list[dict[str, Any]]:
    """The records exactly as stored, before any migration."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        value, pos = tnetstring.parse_at(data, pos, len(data))
        out.append(value)
    return out


def test_both_old_formats_are_present() -> None:
    assert {p.parent.name for p in CAPTURES} == set(ON_DISK_VERSION)
    for capture in CAPTURES:
        assert capture.stat().st_size < 100_000


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_reads_to_mitmproxy_11_truth(capture: Path) -> None:
    flows = read_flows(capture)
    assert flows
    assert not any(isinstance(f, UnknownFlow) for f in flows)
    assert [as_lists(f.get_state()) for f in flows] == truth_states(capture)


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_on_disk_format_is_really_old(capture: Path) -> None:
    """The records are stored in the old layout, so the migration is what the test exercises."""
    expected = ON_DISK_VERSION[capture.parent.name]
    raws = raw_records(capture)
    assert [r["version"] for r in raws] == [expected] * len(raws)
    assert truth_doc(capture)["on_disk_flow_format_versions"] == [expected] * len(raws)
    for raw in raws:
        client, server = raw["client_conn"], raw["server_conn"]
        if expected == 18:
            # mitmproxy 9 layout: pre-10.0 connection field names, persisted state, no backup
            assert {"address", "tls_established", "tls_extensions", "cipher_name", "state"} <= set(
                client
            )
            assert {"ip_address", "source_address", "via2", "state"} <= set(server)
            assert "peername" not in client and "peername" not in server
            assert "transport_protocol" not in client
            assert "backup" not in raw
        else:
            # mitmproxy 10 layout: renamed fields, but QUIC is still "QUIC" and no state
            assert {"peername", "cipher", "transport_protocol"} <= set(client)
            assert "state" not in client and "state" not in server
            assert "address" not in client


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_migrated_records_are_current(capture: Path) -> None:
    with capture.open("rb") as f:
        versions = [state["version"] for _, state in FlowReader(f).states()]
    assert versions == [CURRENT_VERSION] * len(versions)


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_flowtui_round_trip(capture: Path, tmp_path: Path) -> None:
    flows = read_flows(capture)
    for fmt in ("mitmproxy", "flowtui"):
        out = tmp_path / f"out.{fmt}"
        assert save_flows(out, flows, format=fmt) == len(flows)
        assert [as_lists(f.get_state()) for f in read_flows(out)] == truth_states(capture)
    written = raw_records(tmp_path / "out.mitmproxy")
    assert [r["version"] for r in written] == [CURRENT_VERSION] * len(flows)


@pytest.mark.mitmproxy
@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_mitmproxy_11_reads_what_flowtui_writes(capture: Path, tmp_path: Path) -> None:
    """old capture → flowtui → mitmproxy format → mitmproxy 11's reader: the same states."""
    out = tmp_path / "out.flows"
    save_flows(out, read_flows(capture), format="mitmproxy")
    assert mitmproxy_states(out) == truth_states(capture)


@pytest.mark.mitmproxy
@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_migration_equals_mitmproxys(capture: Path) -> None:
    """flowtui's compat.migrate_flow turns each stored record into what mitmproxy 11's does."""
    from mitmproxy.io import compat as mcompat

    for raw in raw_records(capture):
        assert migrate_flow(copy.deepcopy(raw)) == mcompat.migrate_flow(copy.deepcopy(raw))


def _flows(version: str, name: str) -> list[dict[str, Any]]:
    return truth_states(DATA / version / f"{name}.flows")


@pytest.mark.parametrize("version", list(ON_DISK_VERSION))
def test_fixture_content(version: str) -> None:
    """What the recording put in the captures, so that a regeneration keeps their meaning."""
    plain, marked, short, tls = _flows(version, "echo_tls")
    for flow in (plain, marked, short, tls):
        assert flow["type"] == "tcp"
        assert flow["error"] is None
        for from_client, content, _ in flow["messages"]:
            assert isinstance(content, bytes)
            assert from_client or content.startswith(b"ECHO:")
    assert [m[1] for m in plain["messages"] if m[0]] == [
        b"hello\n",
        b"\x00\xff",
        "UTF-8 text: grüße ✓ 中文 🍇\n".encode(),
    ]
    assert marked["marked"] == ":default:"
    assert marked["comment"] == "commented by the recording addon: grüße ✓"
    assert plain["marked"] == "" and plain["comment"] == ""
    assert plain["client_conn"]["proxy_mode"].startswith("reverse:tcp://127.0.0.1:")
    assert plain["client_conn"]["tls_version"] is None
    assert tls["client_conn"]["proxy_mode"].startswith("reverse:tls://127.0.0.1:")
    assert tls["client_conn"]["sni"] == "echo.flowtui.test"
    assert tls["client_conn"]["tls_version"] == "TLSv1.3"
    assert tls["client_conn"]["alpn_offers"] == [b"flowtui/1", b"other"]
    assert tls["server_conn"]["tls_version"] == "TLSv1.3"
    assert len(tls["server_conn"]["certificate_list"]) == 1
    assert tls["server_conn"]["certificate_list"][0].startswith(b"-----BEGIN CERTIFICATE-----")

    killed, refused = _flows(version, "errors")
    assert killed["error"]["msg"] == "Connection killed."
    assert refused["messages"] == []
    assert "Connect call failed" in refused["error"]["msg"]
    assert "Connect call failed" in refused["server_conn"]["error"]
