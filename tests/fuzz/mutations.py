"""Field-type mutations: every field of every record kind crossed with odd values.

A seed is one record of a real capture (tests/data, /work/shared/fixtures): TCP, UDP,
HTTP, WebSocket, DNS, errors, both connections, certificates. A mutation replaces one
field of it (any depth, any list's first and last item, the stored summary of a flowtui
record) with one odd value (NaN, ±inf, -1, 2**64, huge and empty strings, bytes for text
and text for bytes, wrong containers, escape sequences, deep nesting, a missing field).
The mutated record is written, followed by a good record, in mitmproxy's format or
flowtui's, and then goes through every place a capture's values reach:

  reader   `FlowReader.stream()`: both records come out (the bad one as an `UnknownFlow`
           if it does not model), the good one unchanged
  dump     `format_flow_lines`, `state_to_json` and every export format for each flow
  convert  `save_flows` in both formats, read back to the same states
  index    the UI's `CaptureIndexer`: the same number of entries, each one opens
  columns  every list column of every summary (indexed and computed), the info line
  details  the flow pane, both connection panes, the message rows (text and hex)
  filters  a parsed expression per operator, on the flow and on its summary columns

A failure is any exception but the documented ones (`FlowReadException` for a record
that does not even decode), or an unsafe character in what would reach the terminal.
`run_mutations` drives it; tests/fuzz/mutate.py is the command line, test_mutations.py
runs a sample in the suite.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import random
import re
import struct
import tempfile
import traceback
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack

from flowtui import export
from flowtui.cli import format_flow_lines, state_to_json
from flowtui.core import Flow, UnknownFlow
from flowtui.core.filters import parse
from flowtui.core.filters.columns import SummaryColumns
from flowtui.core.messages import MessageFlow
from flowtui.core.summary import FlowSummary, summarize
from flowtui.io import FlowReader, FlowReadException, save_flows, summarize_state
from flowtui.io.lazy import CaptureIndexer
from flowtui.io.native_format import encode_header
from flowtui.io.summary import index_entry
from flowtui.io.tnetstring import loads
from flowtui.store import FlowStore
from flowtui.ui.widgets.conn_format import connection_text, flow_text
from flowtui.ui.widgets.flow_columns import COLUMNS, fit, state_signs
from flowtui.ui.widgets.flow_info import FlowInfo
from flowtui.ui.widgets.message_rows import build_rows, notes_for, row_text

__all__ = ["MUTATION_VALUES", "Mutation", "Report", "mutations", "run_mutation", "run_mutations"]

ROOT = Path(__file__).resolve().parent.parent.parent
SEED_DIRS = (ROOT / "tests" / "data", Path("/work/shared/fixtures"))
"""Where the seed captures are (the second is optional: a machine may not have it)."""


class Deep:
    """A list nested `depth` levels deep, encoded without recursion."""

    def __init__(self, depth: int) -> None:
        self.depth = depth


class Delete:
    """The field is removed."""


ESCAPES = "\x1b]52;c;aGk=\x07\x1b]0;title\x07\x1b[2J\x1b[?1049l\x1b]8;;http://x\x1b\\\u202e\x9b"
"""OSC 52 clipboard, window title, clear screen, leave the alternate screen, a link, a
bidi override and a C1 CSI: what must never reach the terminal raw."""


def _flip(value: Any) -> Any:
    """Bytes where text is expected and the reverse."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return str(value).encode()


MUTATION_VALUES: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("nan", lambda v: math.nan),
    ("inf", lambda v: math.inf),
    ("-inf", lambda v: -math.inf),
    ("-1", lambda v: -1),
    ("2**64", lambda v: 2**64),
    ("-2**70", lambda v: -(2**70)),
    ("1.5", lambda v: 1.5),
    ("huge str", lambda v: "x" * 70_000),
    ("huge bytes", lambda v: b"\xff" * 70_000),
    ("empty str", lambda v: ""),
    ("empty bytes", lambda v: b""),
    ("flipped", _flip),
    ("none", lambda v: None),
    ("true", lambda v: True),
    ("empty list", lambda v: []),
    ("empty dict", lambda v: {}),
    ("wrapped", lambda v: [v]),
    ("list in list", lambda v: [[]]),
    ("escapes str", lambda v: ESCAPES),
    ("escapes bytes", lambda v: ESCAPES.encode()),
    ("deep 900", lambda v: Deep(900)),
    ("deep 200000", lambda v: Deep(200_000)),
    ("missing", lambda v: Delete()),
)
"""The odd values, by name; each is a function of the value it replaces."""

Path_ = tuple[Any, ...]
SUMMARY = "<summary>"
"""First path element of a mutation of a flowtui record's stored summary."""


# --------------------------------------------------------------------------- seeds


@functools.cache
def seed_states() -> tuple[tuple[str, bytes], ...]:
    """Every distinct record of the seed captures: (where, tnetstring payload)."""
    seen: set[bytes] = set()
    out = []
    for base in SEED_DIRS:
        for path in sorted(base.glob("**/*.flows")):
            with path.open("rb") as f:
                for record in FlowReader(f).records():
                    if record.payload not in seen:
                        seen.add(record.payload)
                        out.append(
                            (f"{path.parent.name}/{path.name}#{record.index}", record.payload)
                        )
    return tuple(out)


def _paths(value: Any, prefix: Path_ = (), depth: int = 0) -> Iterator[Path_]:
    """Every field of a state: dict values, a list's first and last items, recursively."""
    if depth > 6:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key), depth + 1)
    elif isinstance(value, list | tuple) and value:
        for i in sorted({0, len(value) - 1}):
            yield (*prefix, i)
            yield from _paths(value[i], (*prefix, i), depth + 1)


@functools.cache
def _good_seed() -> int:
    """The record written after every mutated one: the smallest seed (the cheapest)."""
    states = seed_states()
    return min(range(len(states)), key=lambda s: len(states[s][1]))


@functools.cache
def _seed_flow(seed: int) -> Flow:
    return next(FlowReader(io.BytesIO(seed_states()[seed][1])).stream())


@functools.cache
def _summary_paths(seed: int) -> tuple[Path_, ...]:
    """The stored summary's keys, and each field of its `"ix"` list."""
    summary = _stored_summary(_seed_flow(seed))
    paths: list[Path_] = [(SUMMARY, key) for key in summary]
    paths += [(SUMMARY, "ix", i) for i in range(len(summary.get("ix", ())))]
    return tuple(paths)


def _stored_summary(flow: Flow) -> dict[str, Any]:
    """The summary flowtui's writer stores beside `flow`."""
    summary = summarize_state(flow.get_state())
    entry = index_entry(flow)
    if entry is not None:
        summary["ix"] = entry
    return summary


@dataclass(frozen=True)
class Mutation:
    """One field of one seed record, replaced by one odd value, in one format."""

    seed: int
    path: Path_
    value: int
    native: bool

    def describe(self) -> str:
        where = seed_states()[self.seed][0]
        fmt = "flowtui" if self.native else "mitmproxy"
        path = ".".join(map(str, self.path))
        return f"{where} [{fmt}] {path} = {MUTATION_VALUES[self.value][0]}"


def mutations(seed: int = 0) -> list[Mutation]:
    """Every mutation, in a shuffled order fixed by `seed` (a sample is a prefix)."""
    out = list(_every_mutation())
    random.Random(seed).shuffle(out)
    return out


@functools.cache
def _every_mutation() -> tuple[Mutation, ...]:
    out = []
    for s, (_, payload) in enumerate(seed_states()):
        state = loads(payload)
        state_paths = list(_paths(state))
        for v in range(len(MUTATION_VALUES)):
            for p in state_paths:
                out.append(Mutation(s, p, v, native=False))
                out.append(Mutation(s, p, v, native=True))
            for p in _summary_paths(s):
                out.append(Mutation(s, p, v, native=True))
    return tuple(out)


def _mutated(value: Any, path: Path_, new: Callable[[Any], Any]) -> Any:
    """`value` with the field at `path` replaced by `new(old)` (containers copied)."""
    key, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    if rest:
        copy[key] = _mutated(copy[key], rest, new)
        return copy
    replacement = new(copy[key])
    if isinstance(replacement, Delete):
        del copy[key]
    else:
        copy[key] = replacement
    return copy


# --------------------------------------------------------------------------- encoding


def _tn(value: Any, out: list[bytes]) -> int:
    """mitmproxy's tnetstring encoding (NaN and deep nesting included); returns its size."""
    if isinstance(value, Deep):
        data = _deep_tnetstring(value.depth)
        out.append(data)
        return len(data)
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass")
        tag = b";"
    elif isinstance(value, bytes):
        tag = b","
    elif value is None:
        out.append(b"0:~")
        return 3
    elif isinstance(value, bool):
        data = b"4:true!" if value else b"5:false!"
        out.append(data)
        return len(data)
    elif isinstance(value, int):
        value, tag = str(value).encode(), b"#"
    elif isinstance(value, float):
        value, tag = repr(value).encode(), b"^"
    else:
        slot = len(out)
        out.append(b"")
        size = 0
        if isinstance(value, dict):
            tag = b"}"
            for k, v in reversed(value.items()):
                size += _tn(k, out) + _tn(v, out)
        else:
            tag = b"]"
            for v in value:
                size += _tn(v, out)
        out.append(tag)
        out[slot] = head = b"%d:" % size
        return len(head) + size + 1
    head = b"%d:" % len(value)
    out += (head, value, tag)
    return len(head) + len(value) + 1


@functools.cache
def _deep_tnetstring(depth: int) -> bytes:
    """A list nested `depth` deep, built outside in (no copy of the inside per level)."""
    sizes = [3]
    for _ in range(depth):
        sizes.append(len(str(sizes[-1])) + sizes[-1] + 2)
    heads = b"".join(b"%d:" % size for size in reversed(sizes[:-1]))
    return heads + b"0:]" + b"]" * depth


def tnetstring_record(state: Any) -> bytes:
    out: list[bytes] = []
    _tn(state, out)
    return b"".join(out)


_DEEP_MARK = "\x00deep-placeholder\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _msgpack(value: Any) -> bytes:
    """msgpack of a state (as flowtui's writer packs it), with `Deep` values and ints
    beyond 64 bits that the writer would store as its ext type."""
    deep: list[Deep] = []

    def swap(v: Any) -> Any:
        if isinstance(v, Deep):
            deep.append(v)
            return _DEEP_MARK
        if isinstance(v, dict):
            return {swap(k): swap(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [swap(x) for x in v]
        if isinstance(v, int) and not isinstance(v, bool) and not -(2**63) <= v < 2**64:
            return msgpack.ExtType(1, str(v).encode())
        if isinstance(v, str) and _SURROGATE.search(v):
            return v.encode("utf-8", "surrogatepass")
        return v

    data: bytes = msgpack.packb(swap(value), use_bin_type=True)
    mark: bytes = msgpack.packb(_DEEP_MARK, use_bin_type=True)
    for d in deep:
        data = data.replace(mark, b"\x91" * d.depth + b"\x90", 1)
    return data


def native_record(state: bytes, summary: bytes) -> bytes:
    """One flowtui record around already packed `state` and `summary`."""
    crc = zlib.crc32(state, zlib.crc32(summary))
    return struct.pack(">2sBBIII", b"FR", 1, 0, len(summary), len(state), crc) + summary + state


def capture_of(m: Mutation) -> bytes:
    """The capture for `m`: the mutated record, then a good one."""
    payload = seed_states()[m.seed][1]
    good_payload = seed_states()[_good_seed()][1]
    value = MUTATION_VALUES[m.value][1]
    if not m.native:
        state = _mutated(loads(payload), m.path, value)
        return tnetstring_record(state) + good_payload
    flow = _seed_flow(m.seed)
    state, summary = flow.get_state(), _stored_summary(flow)
    if m.path[0] == SUMMARY:
        summary = _mutated(summary, m.path[1:], value)
    else:
        state = _mutated(loads(payload), m.path, value)
        summary = {}
    first = native_record(_msgpack(state), _msgpack(summary) if summary else b"")
    return encode_header({"writer": "mutations"}) + first + _native_good(m.seed)


@functools.cache
def _native_good(seed: int) -> bytes:
    """The good record that follows a mutated one, in flowtui's format."""
    good = _seed_flow(_good_seed())
    return native_record(_msgpack(good.get_state()), _msgpack(_stored_summary(good)))


# --------------------------------------------------------------------------- checks


class Failure(Exception):
    """A check did not hold."""


UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""Characters that must not reach a terminal: C0 (newline aside: panes have lines), DEL,
C1, bidi overrides and isolates, lone surrogates."""


def _safe(site: str, text: Any, *, lines: bool = False) -> None:
    plain = getattr(text, "plain", text)
    if not isinstance(plain, str):
        raise Failure(f"{site}: not text but {type(plain).__name__}")
    bad = UNSAFE.search(plain)
    if bad is None and not lines and "\n" in plain:
        bad = re.search("\n", plain)
    if bad is not None:
        raise Failure(f"{site}: unsafe character {bad.group()!r} on output")


def _same(a: Any, b: Any) -> bool:
    """State equality with NaN equal to itself and lists equal to tuples."""
    return bool(a == b) or _alike(a, b)


def _alike(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_alike(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_alike(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


FILTERS = (
    "~tcp", "~udp", "~dns", "~http", "~websocket", "~all", "~e", "~marked", "~replay",
    "~replayq", "~replays", "~q", "~s", "~comment x", "~meta x", "~src 127", "~dst 1",
    "~sni example", "~tls", "~tls 1.3", "~alpn h2", "~cert CN", "~size >= 10",
    "~size < 1k", "~b hello", "~bq x", "~bs y", "~d example", "~u /", "~m GET",
    "~c 200", "~h host", "~hq a", "~hs b", "~t json", "~a", "~unreadable", "hello",
    "!~tcp & (~udp | ~dns)",
)  # fmt: skip
"""One expression per operator (those the parser refuses are skipped)."""


@functools.cache
def _filters() -> tuple[Any, ...]:
    out = []
    for text in FILTERS:
        try:
            out.append(parse(text))
        except Exception:  # an operator this version does not have
            continue
    return tuple(out)


@functools.cache
def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def _columns(site: str, s: FlowSummary, n: int) -> None:
    if not isinstance(s, FlowSummary):
        raise Failure(f"{site}: summary is {type(s).__name__}")
    for col in COLUMNS:
        cell = col.cell(s, n, UTC)
        _safe(f"{site} {col.key}", cell)
        _safe(f"{site} {col.key}", fit(cell, col.width or 40, col.right))
    _safe(f"{site} state", state_signs(s))


def _details(flow: Flow) -> None:
    _safe("details flow", flow_text(flow, tz=UTC, width=80), lines=True)
    t0 = flow.client_conn.timestamp_start
    for conn in (flow.client_conn, flow.server_conn):
        _safe("details connection", connection_text(conn, t0=t0, now=_now(), tz=UTC), lines=True)
    for note in notes_for(flow):
        _safe("details notes", note)
    if isinstance(flow, MessageFlow):
        messages = flow.messages
        for mode in ("auto", "hex", "text"):
            rows = build_rows(
                messages, first_index=0, mode=mode, direction="both", text_width=80, t0=t0
            )
            for row in rows[:200]:
                _safe(f"details rows {mode}", row_text(row, messages))
    store = FlowStore()
    store.add([flow])
    _safe("details info line", FlowInfo(store).describe(flow), lines=True)


def _filter_all(flow: Flow, summary: FlowSummary) -> None:
    columns = SummaryColumns([summary])
    for flt in _filters():
        flt(flow)
        if flt.on_summaries:
            flt.match_summary(summary)
            flt.match_columns(columns)


def _convert(flows: list[Flow], fmt: str, tmp: Path) -> None:
    path = tmp / f"out.{fmt}"
    count = save_flows(path, flows, format=fmt)
    if count != len(flows):
        raise Failure(f"convert {fmt}: wrote {count} of {len(flows)} flows")
    with path.open("rb") as f:
        again = list(FlowReader(f, name=str(path)).stream())
    if len(again) != len(flows):
        raise Failure(f"convert {fmt}: read back {len(again)} of {len(flows)} flows")
    for a, b in zip(flows, again, strict=True):
        if not _same(a.get_state(), b.get_state()):
            raise Failure(f"convert {fmt}: a flow reads back changed")


def _index(path: Path, expected: int | None) -> list[FlowSummary]:
    indexer = CaptureIndexer(path, workers=1)
    summaries = []
    try:
        for entry in indexer.entries():
            summaries.append(entry.summary)
            try:
                entry.ref.load()
            except FlowReadException:
                if expected is not None:
                    raise
    except FlowReadException:
        if expected is not None:
            raise
    finally:
        indexer.fileobj.close()
    if expected is not None and len(summaries) != expected:
        raise Failure(f"index: {len(summaries)} of {expected} flows listed")
    return summaries


SITES = ("reader", "dump", "convert", "index", "columns", "details", "filters")
"""Every place a mutated capture goes (`run_mutation` runs all, or those asked for)."""


def run_mutation(
    m: Mutation, tmp: Path, sites: frozenset[str] = frozenset(SITES)
) -> tuple[str, str] | None:
    """Run one mutation through `sites` (the reader always); None, or (site, what went
    wrong)."""
    site = "capture"
    try:
        data = capture_of(m)
        site = "reader"
        flows: list[Flow] = []
        broken = None
        try:
            for flow in FlowReader(io.BytesIO(data), name="m.flows").stream():
                flows.append(flow)
        except FlowReadException as e:
            broken = e
            if not e.reason.strip() or e.reason.rstrip().endswith(":"):
                raise Failure(f"reader: an error without a reason: {e}") from None
        if broken is None:
            if len(flows) != 2:
                raise Failure(f"reader: {len(flows)} of 2 flows")
            good = _seed_flow(_good_seed())
            if not _same(flows[1].get_state(), good.get_state()):
                raise Failure("reader: the good record after the mutated one changed")
            bad = flows[0]
            if isinstance(bad, UnknownFlow) and ("m.flows: flow #0" not in bad.location):
                raise Failure(f"reader: unreadable record not located: {bad.location}")
        # The good record is the same in every run: past the reader, only the mutated
        # record's flow is worth the time (it is the one that can go wrong).
        flows = flows[:1]
        summaries = [summarize(flow) for flow in flows]
        indexed: list[FlowSummary] = []
        for site in SITES[1:]:
            if site in sites:
                _SITE_CHECKS[site](m, data, broken, flows, summaries, indexed, tmp)
    except Failure as e:
        return site, str(e)
    except Exception as e:
        frame = traceback.extract_tb(e.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        return site, f"{type(e).__name__} at {where}: {str(e)[:200]}"
    return None


Check = Callable[
    [Mutation, bytes, "FlowReadException | None", list[Flow], list[FlowSummary],
     list[FlowSummary], Path],
    None,
]  # fmt: skip


def _check_dump(m: Mutation, data: bytes, broken: Any, flows: list[Flow], *_: Any) -> None:
    for n, flow in enumerate(flows):
        for line in format_flow_lines(n, flow):
            _safe("dump line", line)
        _safe("dump json", state_to_json(flow.get_state()))
        for fmt in export.formats():  # a format that does not apply says so, never crashes
            if export.applies(fmt, flow):
                with contextlib.suppress(export.ExportError):
                    export.export([flow], fmt)


def _check_convert(m: Mutation, data: bytes, broken: Any, flows: list[Flow], *rest: Any) -> None:
    tmp = rest[-1]
    for fmt in ("mitmproxy", "flowtui"):
        _convert(flows, fmt, tmp)


def _check_index(
    m: Mutation,
    data: bytes,
    broken: Any,
    flows: list[Flow],
    summaries: list[FlowSummary],
    indexed: list[FlowSummary],
    tmp: Path,
) -> None:
    path = tmp / "in.capture"
    path.write_bytes(data)
    indexed[:] = _index(path, None if broken else 2)[:1]


def _check_columns(
    m: Mutation,
    data: bytes,
    broken: Any,
    flows: list[Flow],
    summaries: list[FlowSummary],
    indexed: list[FlowSummary],
    tmp: Path,
) -> None:
    for n, s in enumerate(indexed, 1):
        _columns("columns indexed", s, n)
    for n, s in enumerate(summaries, 1):
        _columns("columns", s, n)


def _check_details(m: Mutation, data: bytes, broken: Any, flows: list[Flow], *_: Any) -> None:
    for flow in flows:
        _details(flow)


def _check_filters(
    m: Mutation,
    data: bytes,
    broken: Any,
    flows: list[Flow],
    summaries: list[FlowSummary],
    indexed: list[FlowSummary],
    tmp: Path,
) -> None:
    for flow, s in zip(flows, summaries, strict=True):
        _filter_all(flow, s)
    for s in indexed:
        SummaryColumns([s])
        for flt in _filters():
            if flt.on_summaries:
                flt.match_summary(s)


_SITE_CHECKS: dict[str, Check] = {
    "dump": _check_dump,
    "convert": _check_convert,
    "index": _check_index,
    "columns": _check_columns,
    "details": _check_details,
    "filters": _check_filters,
}


@dataclass
class Report:
    """What a run saw."""

    mutations: int = 0
    seconds: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)
    """Failures by site and cause."""
    examples: dict[str, str] = field(default_factory=dict)
    """One mutation per failure kind."""

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def run_mutations(
    ms: list[Mutation], report: Report | None = None, sites: frozenset[str] = frozenset(SITES)
) -> Report:
    """Run `ms` through `sites` in this process, adding to `report`."""
    import time

    report = report or Report()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutations-", dir=_tmp_root()) as tmp:
        for m in ms:
            result = run_mutation(m, Path(tmp), sites)
            report.mutations += 1
            if result is not None:
                key = _DIGITS.sub("N", _PATHS.sub("<file>", f"{result[0]}: {result[1]}"))
                report.failures[key] += 1
                report.examples.setdefault(key, m.describe())
    report.seconds += time.monotonic() - start
    return report


_PATHS = re.compile(r"/\S+/")
_DIGITS = re.compile(r"\d+")


def _tmp_root() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None
