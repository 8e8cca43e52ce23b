"""Nothing lost in a round trip: every real fixture and a generated capture of every flow
kind survive mitmproxy → flowtui → mitmproxy and flowtui → msgpack → flowtui."""

from __future__ import annotations

from pathlib import Path

import pytest
from capture_gen import UNKNOWN_EVERY, write_capture
from round_trip import round_trip

DATA = Path(__file__).resolve().parent.parent / "data"
CAPTURES = sorted(DATA.glob("*/*.flows"))


@pytest.mark.mitmproxy
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_round_trips(capture: Path) -> None:
    result = round_trip(capture)
    assert result.mitmproxy_mismatch == []
    assert result.native_mismatch == []
    assert result.unknown_bytes_mismatch == []


@pytest.mark.mitmproxy
def test_generated_capture_round_trips(tmp_path: Path) -> None:
    """2,000 generated flows (the 100,000-flow run is scripts/round_trip.py)."""
    path = tmp_path / "gen.flows"
    write_capture(path, 2000, size=200)
    result = round_trip(path)
    assert result.flows == 2000 and result.unknown == 2000 // UNKNOWN_EVERY
    assert result.mitmproxy_mismatch == []
    assert result.native_mismatch == []
    assert result.unknown_bytes_mismatch == []
