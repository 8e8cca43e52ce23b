"""Round trips of whole captures, shared by tests/io/test_round_trips.py and
scripts/round_trip.py (the 100,000-flow run).

mitmproxy → flowtui → mitmproxy: mitmproxy's own reader must see the same states in the
capture flowtui rewrote as in the original. flowtui → msgpack → flowtui: flowtui's state
of every flow is unchanged by its own format. Records flowtui does not model (UnknownFlow)
must come back as the same bytes through both formats.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truth import as_lists

from flowtui.core import UnknownFlow
from flowtui.io import FlowReader, FlowWriter, NativeFlowWriter

__all__ = ["RoundTrip", "round_trip"]


@dataclass
class RoundTrip:
    """What a round trip found; every list must stay empty."""

    flows: int = 0
    unknown: int = 0
    mitmproxy_mismatch: list[int] = field(default_factory=list)
    native_mismatch: list[int] = field(default_factory=list)
    unknown_bytes_mismatch: list[int] = field(default_factory=list)


def _mitmproxy_states(data: bytes) -> list[Any]:
    from mitmproxy import io as mio

    return [as_lists(f.get_state()) for f in mio.FlowReader(io.BytesIO(data)).stream()]


def round_trip(path: Path, *, oracle: bool = True) -> RoundTrip:
    """Check both round trips on the capture at ``path``."""
    original = path.read_bytes()
    reader = FlowReader(io.BytesIO(original), name=str(path))
    records = [r.payload for r in reader.records()]
    flows = list(FlowReader(io.BytesIO(original), name=str(path)).stream())
    result = RoundTrip(flows=len(flows), unknown=sum(isinstance(f, UnknownFlow) for f in flows))

    mitm, native = io.BytesIO(), io.BytesIO()
    writer, native_writer = FlowWriter(mitm), NativeFlowWriter(native)
    for flow in flows:
        writer.add(flow)
        native_writer.add(flow)

    if oracle:
        known = [i for i, f in enumerate(flows) if not isinstance(f, UnknownFlow)]
        theirs_before = _mitmproxy_states(b"".join(records[i] for i in known))
        theirs_after = _mitmproxy_states(b"".join(_record(flows[i]) for i in known))
        result.mitmproxy_mismatch = [
            known[n]
            for n, (a, b) in enumerate(zip(theirs_before, theirs_after, strict=True))
            if a != b
        ]

    back = list(FlowReader(io.BytesIO(native.getvalue())).stream())
    result.native_mismatch = [
        i
        for i, (a, b) in enumerate(zip(flows, back, strict=True))
        if as_lists(a.get_state()) != as_lists(b.get_state()) or type(a) is not type(b)
    ]

    for i, flow in enumerate(flows):
        if isinstance(flow, UnknownFlow) and records[i] is not None:
            via_native = _record(back[i])
            if _record(flow) != records[i] or via_native != records[i]:
                result.unknown_bytes_mismatch.append(i)
    return result


def _record(flow: Any) -> bytes:
    out = io.BytesIO()
    FlowWriter(out).add(flow)
    return out.getvalue()
