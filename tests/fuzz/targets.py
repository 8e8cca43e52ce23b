"""Fuzz targets: one function per parser that takes untrusted bytes.

Each target feeds its bytes to one reader the way flowtui does and swallows only the
errors that reader documents (FlowReadException, TNetStringError, FilterError, ...).
Anything else escaping is a crash: the fuzzer (tests/fuzz/run.py) records the input and
the regression test (test_fuzz_regressions.py) replays every kept input in the suite.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowtui.core import Flow, UnknownFlow
from flowtui.core.filters import FilterError, parse
from flowtui.core.messages import MessageFlow
from flowtui.core.summary import summarize
from flowtui.io import FlowReader, FlowReadException, summarize_state, tnetstring
from flowtui.io.compat import MigrationError, migrate_flow
from flowtui.io.lazy import CaptureIndexer
from flowtui.io.native_format import MAGIC, encode_header
from flowtui.live.protocol import FrameDecoder, ProtocolError, check_hello

__all__ = ["CORPUS", "CRASHERS", "TARGETS", "probe_flows"]

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
"""Minimised inputs that reach new code, one folder per target."""
CRASHERS = HERE / "crashers"
"""Inputs that once crashed a target, one folder per target; fixed, kept as regressions."""

MAX_FLOWS = 64
"""Flows taken from one input: enough to reach every code path, bounded per input."""


def _consume(flows: Any) -> None:
    """Read every flow and push each back through the code paths a save uses."""
    for n, flow in enumerate(flows):
        if n >= MAX_FLOWS:
            break
        state = flow.get_state()
        if not isinstance(flow, UnknownFlow):
            summarize_state(state)
            tnetstring.dumps(state)


def fuzz_reader(data: bytes) -> None:
    """Both capture formats and detection, through FlowReader over a byte stream."""
    with contextlib.suppress(FlowReadException):
        _consume(FlowReader(io.BytesIO(data), name="fuzz").stream())


def fuzz_native(data: bytes) -> None:
    """flowtui's msgpack format: the input is the record stream after a valid header."""
    if not data.startswith(MAGIC):
        data = encode_header({"writer": "fuzz"}) + data
    fuzz_reader(data)


def fuzz_tnetstring(data: bytes) -> None:
    """The tnetstring codec: decoding, and what decodes must re-encode to the same value."""
    try:
        value = tnetstring.loads(data)
    except tnetstring.TNetStringError:
        return
    # Dict items are written in reverse order and read in file order (as mitmproxy does),
    # so it takes two round trips to come back to the same bytes.
    again = tnetstring.dumps(value)
    if tnetstring.dumps(tnetstring.loads(tnetstring.dumps(tnetstring.loads(again)))) != again:
        raise AssertionError("tnetstring re-encoding is not stable")


def fuzz_migration(data: bytes) -> None:
    """One tnetstring record forced to format 18, 19 or 20 and migrated to a Flow."""
    if not data:
        return
    version, data = 18 + data[0] % 3, data[1:]
    try:
        state = tnetstring.loads(data)
    except tnetstring.TNetStringError:
        return
    if not isinstance(state, dict):
        return
    state["version"] = version
    try:
        migrated = migrate_flow(state)
    except MigrationError:
        return
    try:
        flow = Flow.from_state(migrated)
    except ValueError:
        return
    _consume([flow])


_PROBE: list[Flow] = []


def probe_flows() -> list[Flow]:
    """Real flows of every kind (the mitmproxy 11 fixtures) to run parsed filters on."""
    if not _PROBE:
        data = HERE.parent / "data" / "mitmproxy-11"
        for name in ("mixed_protocols.flows", "tls_alpn_chain.flows", "errors.flows"):
            with (data / name).open("rb") as f:
                _PROBE.extend(FlowReader(f).stream())
    return _PROBE


def fuzz_filter(data: bytes) -> None:
    """The filter parser, then the parsed filter on real flows of every kind."""
    text = data.decode("utf-8", errors="replace")
    try:
        flt = parse(text)
    except FilterError:
        return
    for flow in probe_flows():
        flt(flow)


def fuzz_protocol(data: bytes) -> None:
    """The live protocol decoder, fed in uneven chunks like a socket delivers them."""
    decoder = FrameDecoder(max_frame=1 << 20)
    step = 1 + (data[0] % 64 if data else 0)
    try:
        for i in range(0, len(data), step):
            for message in decoder.feed(data[i : i + step]):
                if message["type"] in ("hello", "error"):
                    with contextlib.suppress(ProtocolError):
                        check_hello(message, "proxy")
    except ProtocolError:
        pass


_KINDS = {
    str: ("type", "client", "server", "detail", "tls_version", "marked", "comment", "meta"),
    bool: ("intercepted", "killed", "error", "modified", "live", "read_only", "websocket"),
}


def fuzz_index(data: bytes) -> None:
    """The index pass of the UI (skimmer, stored summaries) over a file: every entry's
    summary has the types the flow list formats, and a flow that opens has exactly the
    summary it was listed with (unless it opens as unreadable: the index checks field
    names and the fields it lists, not every value the model checks); a message flow's
    preview is that flow with its first messages only."""
    if not data.startswith(MAGIC) and not data[:1].isdigit():
        data = encode_header({"writer": "fuzz"}) + data[1:]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.capture"
        path.write_bytes(data)
        indexer = CaptureIndexer(path, workers=1)
        with contextlib.suppress(FlowReadException):
            for n, entry in enumerate(indexer.entries()):
                if n >= MAX_FLOWS:
                    break
                summary = entry.summary
                for kind, names in _KINDS.items():
                    for name in names:
                        if type(getattr(summary, name)) is not kind:
                            raise AssertionError(f"summary.{name} is not {kind.__name__}")
                preview = entry.ref.load_head(2, 64)  # never raises: None or a flow
                sparse = entry.ref._sparse_head(2, 64, 48)  # reading 48 bytes and the rest
                try:
                    flow = entry.ref.load()
                except FlowReadException:
                    continue
                if not isinstance(flow, UnknownFlow) and summarize(flow) != summary:
                    raise AssertionError("a flow opens with another summary than listed")
                if isinstance(flow, MessageFlow):  # then its preview is the same, cut short
                    if preview is None or not _cut_of(preview, flow):
                        raise AssertionError("a preview is not the flow cut short")
                    if sparse is not None and not _cut_of(sparse, flow):
                        raise AssertionError("a sparse preview is not the flow cut short")


def _cut_of(preview: Flow, flow: MessageFlow) -> bool:
    """True if `preview` is `flow` with only its first messages."""
    whole, count = flow.get_state(), len(preview.messages)  # type: ignore[attr-defined]
    return bool(preview.get_state() == {**whole, "messages": whole["messages"][:count]})


TARGETS: dict[str, Callable[[bytes], None]] = {
    "reader": fuzz_reader,
    "native": fuzz_native,
    "tnetstring": fuzz_tnetstring,
    "migration": fuzz_migration,
    "filter": fuzz_filter,
    "protocol": fuzz_protocol,
    "index": fuzz_index,
}
"""Every fuzz target by name (the folder names under corpus/ and crashers/)."""
