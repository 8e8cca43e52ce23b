"""Every flow of the real captures (tests/data and the shared fixtures), read by flowtui
and by mitmproxy 11, for the export tests that use mitmproxy's exports as the oracle."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from flowtui.core import Flow
from flowtui.io import read_flows

ROOT = Path(__file__).parent / "data"
SHARED = Path("/work/shared/fixtures")

CAPTURES = sorted(ROOT.glob("mitmproxy-*/*.flows")) + (
    sorted(SHARED.glob("mitmproxy-*/*.flows")) if SHARED.is_dir() else []
)


@functools.cache
def pairs(path: Path) -> list[tuple[Flow, Any]]:
    """(flowtui's flow, mitmproxy's flow) for every flow of one capture."""
    from mitmproxy import io as mio

    ours = read_flows(path)
    with path.open("rb") as f:
        theirs = list(mio.FlowReader(f).stream())
    assert len(ours) == len(theirs), path
    return list(zip(ours, theirs, strict=True))


def capture_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}/{path.stem}"


def flows_of_type(kind: str) -> list[tuple[str, Flow, Any]]:
    """(name, ours, theirs) for each flow of type `kind` in every capture."""
    out = []
    for path in CAPTURES:
        for i, (a, b) in enumerate(pairs(path)):
            if b.type == kind:
                out.append((f"{capture_id(path)}#{i}", a, b))
    return out
