"""Every real mitmproxy 11 capture reads to mitmproxy's own states and round-trips."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from truth import DATA, as_lists, mitmproxy_states, truth_states

from flowtui.core import Flow
from flowtui.io import FlowReader, FlowWriter, NativeFlowWriter, read_flows, save_flows

CAPTURES = sorted(DATA.glob("*.flows"))
IDS = [p.stem for p in CAPTURES]


def states(flows: list[Flow]) -> list[dict]:
    return [as_lists(f.get_state()) for f in flows]


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_fixture_reads_to_mitmproxy_truth(capture: Path) -> None:
    flows = read_flows(capture)
    assert states(flows) == truth_states(capture)


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
def test_fixture_round_trips(capture: Path, fmt: str, tmp_path: Path) -> None:
    flows = read_flows(capture)
    out = tmp_path / "out"
    assert save_flows(out, flows, format=fmt) == len(flows)
    assert states(read_flows(out)) == truth_states(capture)


@pytest.mark.mitmproxy
@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_rewrite_is_byte_identical_to_mitmproxys_rewrite(capture: Path) -> None:
    """Re-saving a TCP, UDP or DNS flow gives the very bytes mitmproxy 11 would write
    for it (DNS flows are modelled with mitmproxy's state layout, key order included)."""
    from mitmproxy import io as mio

    with capture.open("rb") as f:
        theirs = list(mio.FlowReader(f).stream())
    ours = read_flows(capture)
    compared = 0
    for mine, their in zip(ours, theirs, strict=True):
        if mine.type not in ("tcp", "udp", "dns"):
            continue
        a, b = io.BytesIO(), io.BytesIO()
        FlowWriter(a).add(mine)
        mio.FlowWriter(b).add(their)
        assert a.getvalue() == b.getvalue()
        compared += 1
    assert compared or not ours or any(f.type == "http" for f in ours)


@pytest.mark.mitmproxy
@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_tnetstring_encoding_equals_mitmproxys(capture: Path) -> None:
    from mitmproxy.io import tnetstring as mtn

    from flowtui.io import tnetstring

    for flow in read_flows(capture):
        state = flow.get_state()
        assert tnetstring.dumps(state) == mtn.dumps(state)


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_flowtui_format_is_not_slower_shaped(capture: Path) -> None:
    """The flowtui file is detected as such and is no bigger than a tnetstring capture."""
    buf = io.BytesIO()
    writer = NativeFlowWriter(buf)
    for flow in read_flows(capture):
        writer.add(flow)
    reader = FlowReader(io.BytesIO(buf.getvalue()))
    assert states(list(reader.stream())) == truth_states(capture)
    assert reader.format is not None and reader.format.value == "flowtui"


@pytest.mark.mitmproxy
@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_real_mitmproxy_reads_what_flowtui_writes(capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.flows"
    save_flows(out, read_flows(capture), format="mitmproxy")
    assert mitmproxy_states(out) == truth_states(capture)


@pytest.mark.mitmproxy
@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_flowtui_reads_mitmproxy_writer_output(capture: Path) -> None:
    """mitmproxy's own FlowWriter output (reverse key order) reads back identically."""
    from mitmproxy import io as mio

    with capture.open("rb") as f:
        theirs = list(mio.FlowReader(f).stream())
    buf = io.BytesIO()
    writer = mio.FlowWriter(buf)
    for fl in theirs:
        writer.add(fl)
    buf.seek(0)
    ours = list(FlowReader(buf).stream())
    assert states(ours) == [as_lists(fl.get_state()) for fl in theirs]
