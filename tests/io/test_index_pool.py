"""Indexing with worker processes gives exactly what indexing in one thread gives.

Large mitmproxy captures are skimmed by worker processes (`flowtui.io.index_pool`); a
user must not be able to tell, whatever the file holds: the same ids, summaries and
record positions, the same flows when opened, the same error at the same place.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from flow_strategies import flow_states
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowtui.core.summary import summarize
from flowtui.io import FlowReadException, index_pool, lazy, read_flows, tnetstring
from flowtui.io.lazy import CaptureIndexer, IndexEntry

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = [
    *sorted((ROOT / "tests" / "data").glob("mitmproxy-*/*.flows")),
    ROOT / "flowtui" / "sample" / "sample.flows",
]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand records to the workers after the third one, seven per chunk or 20 kB, so
    small test files cross many chunk boundaries of both kinds."""
    monkeypatch.setattr(lazy, "SEQUENTIAL_FIRST", 3)
    monkeypatch.setattr(index_pool, "CHUNK_RECORDS", 7)
    monkeypatch.setattr(index_pool, "CHUNK_BYTES", 20_000)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every real capture (mitmproxy 9, 10 and 11: TCP, UDP, HTTP, DNS, TLS, old
    formats) in one file, twice over."""
    path = tmp_path_factory.mktemp("pool") / "mixed.flows"
    path.write_bytes(b"".join(p.read_bytes() for p in SOURCES) * 2)
    return path


def _key(entry: IndexEntry) -> tuple[Any, ...]:
    ref = entry.ref
    where = (ref.index, ref.offset, ref.raw_length, ref.state_offset, ref.state_length)
    return entry.id, entry.summary, where


def _run(path: Path, workers: int) -> tuple[list[IndexEntry], str | None, CaptureIndexer]:
    indexer = CaptureIndexer(path, workers=workers, parallel_min=0)
    got: list[IndexEntry] = []
    try:
        got.extend(indexer.entries())
    except FlowReadException as e:
        return got, str(e), indexer
    return got, None, indexer


def test_workers_index_every_kind_of_flow_as_one_thread_does(mixed: Path) -> None:
    alone, error, _ = _run(mixed, workers=1)
    pooled, pooled_error, indexer = _run(mixed, workers=2)
    assert error is None and pooled_error is None
    assert indexer.pooled > len(pooled) // 2  # the workers did the work
    assert [_key(e) for e in pooled] == [_key(e) for e in alone]
    assert [e.ref.load().get_state() for e in pooled] == [f.get_state() for f in read_flows(mixed)]


def _damaged(mixed: Path, tmp: Path, how: str) -> Path:
    data = mixed.read_bytes()
    starts = [0]
    while starts[-1] < len(data):
        colon = data.index(b":", starts[-1])
        starts.append(colon + 2 + int(data[starts[-1] : colon]))
    cut = starts[len(starts) * 2 // 3]
    if how == "truncated":
        data = data[: cut + 40]
    elif how == "garbage":
        data = data[:cut] + b"this is not a flow" + data[cut:]
    elif how == "bad tag":
        end = starts[len(starts) * 2 // 3 + 1] - 1
        data = data[:end] + b"]" + data[end + 1 :]
    elif how == "bad inside":  # frames well, but a value inside is broken
        at = data.index(b"4:true!", cut)
        data = data[:at] + b"4:tru!!" + data[at + 7 :]
    path = tmp / f"{how.replace(' ', '-')}.flows"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("how", ["truncated", "garbage", "bad tag", "bad inside"])
def test_workers_stop_at_damage_with_the_same_error(mixed: Path, tmp_path: Path, how: str) -> None:
    path = _damaged(mixed, tmp_path, how)
    alone, error, _ = _run(path, workers=1)
    pooled, pooled_error, indexer = _run(path, workers=2)
    assert indexer.pooled > 0
    assert pooled_error == error
    assert [_key(e) for e in pooled] == [_key(e) for e in alone]
    if how != "bad inside":
        assert error is not None and str(path) in error


def test_indexing_goes_on_alone_when_workers_fail(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_pool, "_worker_command", lambda: [sys.executable, "-c", "pass"])
    alone, _, _ = _run(mixed, workers=1)
    pooled, error, indexer = _run(mixed, workers=2)
    assert error is None and indexer.pooled == 0
    assert [_key(e) for e in pooled] == [_key(e) for e in alone]


def test_workers_read_the_file_that_was_opened_even_if_replaced(
    mixed: Path, tmp_path: Path
) -> None:
    path = tmp_path / "capture.flows"
    path.write_bytes(mixed.read_bytes())
    expected = [_key(e) for e in _run(path, workers=1)[0]]
    indexer = CaptureIndexer(path, workers=2, parallel_min=0)
    entries = indexer.entries()
    got = [_key(next(entries))]
    other = tmp_path / "other.flows"
    other.write_bytes(SOURCES[0].read_bytes())
    other.replace(path)  # as a save over the file would
    got.extend(_key(e) for e in entries)
    assert indexer.pooled > 0
    assert got == expected


def test_a_chunk_never_spans_more_bytes_than_allowed_but_holds_a_big_record() -> None:
    # Workers read a chunk at once: huge records must not make huge chunks.
    sizes = [5_000, 5_000, 30_000, 5_000, 12_000, 9_000, 1_000]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    frames = [(start, start + size) for start, size in zip(starts, sizes, strict=True)]
    chunks = list(index_pool.chunked(iter(frames)))
    assert [f for chunk in chunks for f in chunk] == frames
    for chunk in chunks:
        span = chunk[-1][1] - chunk[0][0]
        assert len(chunk) <= 7 and (span <= 20_000 or len(chunk) == 1)
    assert [len(c) for c in chunks] == [2, 1, 2, 2]


def test_no_worker_is_left_running(mixed: Path) -> None:
    indexer = CaptureIndexer(mixed, workers=2, parallel_min=0)
    entries = indexer.entries()
    next(entries)
    next(entries)
    entries.close()  # the user closed the file while it was being indexed
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    if children.exists():
        assert children.read_text().split() == []


def _shuffled(state: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The state with its dicts' keys in another order (as another writer might)."""
    items = list(state.items())
    rng.shuffle(items)
    return {k: _shuffled(v, rng) if k in ("client_conn", "server_conn") else v for k, v in items}


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(states=st.lists(flow_states, min_size=1, max_size=4), rng=st.randoms(use_true_random=False))
def test_index_summaries_of_any_state_equal_full_decoding(
    states: list[dict[str, Any]], rng: random.Random, tmp_path: Path
) -> None:
    # Some records keep the generator's key order, others are shuffled, so the
    # skimmer's learned layouts both match and miss.
    states = [_shuffled(s, rng) if rng.random() < 0.5 else s for s in states]
    path = tmp_path / "random.flows"
    path.write_bytes(b"".join(tnetstring.dumps(s) for s in states))
    entries = list(CaptureIndexer(path, workers=1).entries())
    assert [e.summary for e in entries] == [summarize(f) for f in read_flows(path)]
