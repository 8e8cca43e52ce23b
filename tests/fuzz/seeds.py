"""Seed inputs for each fuzz target, cut from the real captures under tests/data."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

from flowtui.io import FlowReader, NativeFlowWriter, tnetstring
from flowtui.live.protocol import encode, hello

__all__ = ["seeds", "write_seeds"]

DATA = Path(__file__).resolve().parent.parent / "data"
MAX_SEED = 64 * 1024
"""Seeds bigger than this are cut into records (the fuzzer's max_len)."""

FILTERS = (
    "~tcp & ~sni example",
    '!(~udp | ~dns) ~b "hello\\"world"',
    "~tls 1.3 & ~alpn h2 | ~cert CN=example",
    "~size >= 1k & ~src 127.0.0.1:8080 & ~dst [::1]",
    "~m GET ~u /api ~c 200 ~h content-type ~d example.com ~marked ~comment x",
    "~q ~s ~e ~all ~websocket ~replay ~t json ~bq x ~bs y ~hq a ~hs b",
    "(a+)+ | (?-i:Case) | [a-z]{2,} | \\d+",
)


def _captures() -> Iterator[Path]:
    yield from sorted(DATA.glob("*/*.flows"))


def _records(path: Path) -> Iterator[bytes]:
    """The raw tnetstring records of a mitmproxy capture."""
    with path.open("rb") as f:
        for record in FlowReader(f).records():
            yield record.payload


def _native(path: Path) -> bytes:
    """The capture rewritten in flowtui's format."""
    out = io.BytesIO()
    with path.open("rb") as f:
        writer = NativeFlowWriter(out)
        for flow in FlowReader(f).stream():
            writer.add(flow)
    return out.getvalue()


def seeds(target: str) -> Iterator[bytes]:
    """The seed inputs of one target."""
    for path in _captures():
        data = path.read_bytes()
        records = list(_records(path))
        if target in ("reader", "index"):
            yield data if len(data) <= MAX_SEED else b"".join(records[:4])
            yield _native(path)[:MAX_SEED]
        elif target == "native":
            yield _native(path)[:MAX_SEED]
        elif target in ("tnetstring", "migration"):
            for rec in records[:6]:
                if len(rec) <= MAX_SEED:
                    yield rec if target == "tnetstring" else b"\x00" + rec
        elif target == "protocol":
            for rec in records[:3]:
                state = tnetstring.loads(rec)
                yield encode(hello("proxy", "flowtui")) + encode(
                    {"type": "flows/add", "flow": state}
                )
    if target == "filter":
        for text in FILTERS:
            yield text.encode()
    if target == "protocol":
        yield encode({"type": "flows/update", "id": "x", "changes": {"marked": ":star:"}})
        yield encode({"type": "reply", "rid": 1, "ok": True}) + encode({"type": "ping", "rid": 2})


def write_seeds(target: str, directory: Path) -> int:
    """Write the seeds of ``target`` into ``directory`` (named by hash); return how many."""
    directory.mkdir(parents=True, exist_ok=True)
    n = 0
    for data in seeds(target):
        (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
        n += 1
    return n
