"""A deterministic generator of large mitmproxy captures, for save and round-trip tests.

Flows are cloned from the real mitmproxy 11 captures (tests/data, every flow kind), with
fresh ids, shifted times and generated content, so a capture of any size is made of
states mitmproxy itself wrote. Every ``UNKNOWN_EVERY``-th flow has a type flowtui does not
model, to check that such records survive byte for byte.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from truth import TRUTH

from flowtui.io import tnetstring

__all__ = ["UNKNOWN_EVERY", "generate_states", "split_records", "write_capture"]

UNKNOWN_EVERY = 97
"""One flow in this many has a type flowtui does not model."""


def _content(rng: random.Random, size: int) -> bytes:
    """Text-ish or binary content of ``size`` bytes."""
    if rng.random() < 0.5:
        return rng.randbytes(size)
    words = (b"GET ", b"flowtui ", b"\r\n", b'{"k": 1}', b"\x00\xff", b"\xe2\x82\xac ")
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words)
    return bytes(out[:size])


def _fill(state: dict[str, Any], rng: random.Random, size: int) -> None:
    """Replace the payloads of a state by generated content of about ``size`` bytes."""
    kind = state["type"]
    if kind in ("tcp", "udp"):
        for msg in state["messages"]:
            msg[1] = _content(rng, rng.randint(0, size))
    elif kind == "http":
        for part in ("request", "response"):
            if state.get(part) is not None:
                state[part]["content"] = _content(rng, rng.randint(0, size))


def generate_states(count: int, *, seed: int = 6, size: int = 256) -> Iterator[dict[str, Any]]:
    """``count`` flow states in format 21, the same for the same arguments."""
    rng = random.Random(seed)
    templates = [state for _, _, state in TRUTH]
    for n in range(count):
        state = copy.deepcopy(templates[n % len(templates)])
        state["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        state["timestamp_created"] = 1_700_000_000.0 + n / 1000
        state["comment"] = f"generated #{n}" if n % 7 == 0 else ""
        state["marked"] = ":star:" if n % 11 == 0 else ""
        _fill(state, rng, size)
        if n % UNKNOWN_EVERY == UNKNOWN_EVERY - 1:
            state["type"] = "quic-future"
            state["future_field"] = {"n": n, "blob": rng.randbytes(8)}
        yield state


def write_capture(path: Path, count: int, *, seed: int = 6, size: int = 256) -> int:
    """Write a mitmproxy-format capture of ``count`` generated flows; return its size."""
    with path.open("wb") as f:
        for state in generate_states(count, seed=seed, size=size):
            f.write(tnetstring.dumps(state))
        return f.tell()


def split_records(data: bytes) -> list[bytes]:
    """A mitmproxy capture's raw records (each a tnetstring: `len:payload}`), as written."""
    out, pos = [], 0
    while pos < len(data):
        colon = data.index(b":", pos)
        end = colon + 1 + int(data[pos:colon]) + 1
        out.append(data[pos:end])
        pos = end
    return out
