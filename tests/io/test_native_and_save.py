"""flowtui's msgpack format (round trip, append, index pass) and atomic saving."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from truth import DATA, TRUTH, as_lists

from flowtui.core import Flow
from flowtui.io import (
    FlowReader,
    FlowWriteException,
    append_flows,
    read_flows,
    save_flows,
)
from flowtui.io.native_format import MAGIC, NativeStateWriter
from flowtui.io.reader import FlowReader as _Reader

MIXED = DATA / "mixed_protocols.flows"

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.binary(max_size=32)
    | st.text(max_size=32)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=8) | st.binary(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=200)
@given(st.lists(st.dictionaries(st.text(max_size=8), values, max_size=6), max_size=5))
def test_native_state_round_trip(states: list[dict[str, Any]]) -> None:
    buf = io.BytesIO()
    writer = NativeStateWriter(buf)
    for state in states:
        writer.add_state(state, {"n": 1})
    records = list(_Reader(io.BytesIO(buf.getvalue())).records())
    assert [r.decode() for r in records] == states
    assert all(r.summary == {"n": 1} for r in records)


@settings(max_examples=50, deadline=None)
@given(
    st.sampled_from(TRUTH),
    st.text(max_size=20),
    st.dictionaries(st.text(max_size=8), values, max_size=3),
    st.sampled_from(["", ":default:", ":grapes:", "x"]),
    st.sampled_from(["mitmproxy", "flowtui"]),
)
def test_flow_states_round_trip_both_formats(
    entry: tuple[str, int, dict[str, Any]],
    comment: str,
    metadata: dict[str, Any],
    marked: str,
    fmt: str,
) -> None:
    flow = Flow.from_state(as_lists(entry[2]))
    flow.comment, flow.metadata, flow.marked = comment, metadata, marked
    buf = io.BytesIO()
    if fmt == "mitmproxy":
        from flowtui.io import FlowWriter

        FlowWriter(buf).add(flow)
    else:
        from flowtui.io import NativeFlowWriter

        NativeFlowWriter(buf).add(flow)
    (again,) = FlowReader(io.BytesIO(buf.getvalue())).stream()
    assert as_lists(again.get_state()) == as_lists(flow.get_state())


def test_header_and_index_pass_without_states(tmp_path: Path) -> None:
    path = tmp_path / "cap.flowtui"
    flows = read_flows(MIXED)
    save_flows(path, flows)
    data = path.read_bytes()
    assert data.startswith(MAGIC)
    with path.open("rb") as f:
        reader = FlowReader(f)
        index = list(reader.records(with_state=False))
    assert reader.meta["flow_format_version"] == 21
    assert [r.index for r in index] == list(range(12))
    assert all(r.payload == b"" for r in index)
    summaries = [r.summary for r in index]
    assert summaries[0] is not None and summaries[0]["request"].startswith("GET http://")
    assert summaries[1]["messages"] == [2, 2]
    assert summaries[3]["questions"] == ["flowtui.test A"]
    assert [s["id"] for s in summaries if s] == [f.id for f in flows]
    # an index entry's offset is where a reader can seek to decode that record alone
    with path.open("rb") as f:
        f.seek(index[5].offset)
        from flowtui.io.native_format import read_records
        from flowtui.io.source import ByteSource

        (record, *_) = read_records(ByteSource(f), "x")
    assert record.decode()["id"] == flows[5].id


def test_append_to_both_formats(tmp_path: Path) -> None:
    flows = read_flows(MIXED)
    for name in ("a.flowtui", "a.flows"):
        path = tmp_path / name
        assert append_flows(path, flows[:5]) == 5
        assert append_flows(path, flows[5:]) == 7
        assert [as_lists(f.get_state()) for f in read_flows(path)] == [
            as_lists(f.get_state()) for f in flows
        ]
    assert (tmp_path / "a.flowtui").read_bytes().startswith(MAGIC)
    assert (tmp_path / "a.flows").read_bytes()[:1].isdigit()


def test_append_refuses_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "x.flowtui"
    path.write_bytes(b"\x89nothing of ours here")
    with pytest.raises(FlowWriteException, match="cannot append"):
        append_flows(path, read_flows(MIXED))


# ---- atomic save


class Exploding(Flow):
    """A flow whose serialisation fails halfway through a save."""

    def get_state(self) -> Any:
        raise ValueError("boom")


def old_file(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "keep.flows"
    path.write_bytes(MIXED.read_bytes())
    return path, path.read_bytes()


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "keep.flows")


@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
def test_failed_serialisation_keeps_old_file(tmp_path: Path, fmt: str) -> None:
    path, before = old_file(tmp_path)
    flows = read_flows(MIXED)
    bad = Exploding.__new__(Exploding)
    with pytest.raises(FlowWriteException) as info:
        save_flows(path, [*flows[:3], bad, *flows[3:]], format=fmt)
    assert info.value.index == 3
    assert "boom" in str(info.value)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("target", ["os.replace", "os.fsync"])
def test_failing_fsync_or_replace_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    path, before = old_file(tmp_path)
    flows = read_flows(MIXED)

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(target, fail)
    with pytest.raises(FlowWriteException, match="No space left on device"):
        save_flows(path, flows)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_interrupt_mid_write_keeps_old_file(tmp_path: Path) -> None:
    path, before = old_file(tmp_path)

    def flows() -> Any:
        yield from read_flows(MIXED)[:2]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_flows(path, flows())
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory(tmp_path: Path) -> None:
    path, before = old_file(tmp_path)
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(FlowWriteException) as info:
            save_flows(path, read_flows(MIXED))
    finally:
        tmp_path.chmod(0o700)
    assert str(path) in str(info.value) and "Permission denied" in str(info.value)
    assert path.read_bytes() == before


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FlowWriteException, match="cannot create a file in"):
        save_flows(tmp_path / "nope" / "x.flows", [])


def test_save_keeps_mode_and_follows_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real.flows"
    real.write_bytes(b"")
    real.chmod(0o640)
    link = tmp_path / "link.flows"
    link.symlink_to(real)
    assert save_flows(link, read_flows(MIXED)) == 12
    assert link.is_symlink()
    assert len(read_flows(real)) == 12
    assert real.stat().st_mode & 0o777 == 0o640


def test_format_follows_the_suffix(tmp_path: Path) -> None:
    flows = read_flows(MIXED)
    save_flows(tmp_path / "x.flows", flows)
    save_flows(tmp_path / "x.mitm", flows)
    save_flows(tmp_path / "x.flowtui", flows)
    save_flows(tmp_path / "x.flows2", flows, format="mitmproxy")
    assert (tmp_path / "x.flows").read_bytes() == (tmp_path / "x.mitm").read_bytes()
    assert (tmp_path / "x.flows").read_bytes() == (tmp_path / "x.flows2").read_bytes()
    assert (tmp_path / "x.flowtui").read_bytes().startswith(MAGIC)


def test_unwritable_directory_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same as above where the test runs as root: creating the temp file is refused."""
    path, before = old_file(tmp_path)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(FlowWriteException) as info:
        save_flows(path, read_flows(MIXED))
    assert str(info.value) == f"{path}: cannot create a file in {tmp_path}: Permission denied"
    assert path.read_bytes() == before
