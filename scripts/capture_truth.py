"""What the capture recorders share: finding mitmdump, and writing a capture's ground
truth (mitmproxy's own `get_state()` of every flow, bytes as base64) next to it, with a
readable digest per flow whose protocol part each recorder adds."""

from __future__ import annotations

import base64
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["find_mitmdump", "to_json", "write_truth"]


def find_mitmdump() -> str:
    """The mitmdump beside this interpreter (the venv's), else on PATH; exits if none."""
    beside = Path(sys.executable).with_name("mitmdump")
    exe = str(beside) if beside.exists() else shutil.which("mitmdump")
    if exe is None:
        sys.exit("mitmdump not found")
    return exe


def to_json(value: Any) -> Any:
    """A state as JSON: bytes as `{"__bytes__": base64}`, tuples as lists."""
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def _digest(index: int, state: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The keys every fixture's summary has, with the recorder's own in the middle."""
    return {
        "index": index,
        "type": state["type"],
        "id": state["id"],
        "marked": state["marked"],
        "comment": state["comment"],
        "error": state["error"]["msg"] if state["error"] else None,
        "intercepted": state["intercepted"],
        "is_replay": state["is_replay"],
        "metadata_keys": sorted(state["metadata"]),
        **extra,
        "client_conn": {"peername": to_json(state["client_conn"]["peername"])},
        "server_conn": {"address": to_json(state["server_conn"]["address"])},
    }


def write_truth(capture: Path, protocol: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    """Write `capture`.json from mitmproxy's reading of it; `protocol(state)` gives the
    digest's protocol keys of one flow. Returns the number of flows."""
    from mitmproxy import io as mio

    with capture.open("rb") as f:
        states = [flow.get_state() for flow in mio.FlowReader(f).stream()]
    doc = {
        "capture": capture.name,
        "summary": [_digest(i, s, protocol(s)) for i, s in enumerate(states)],
        "reader": "mitmproxy.io.FlowReader(f).stream() -> flow.get_state()",
        "encoding": 'bytes -> {"__bytes__": base64}; tuples -> lists',
        "flow_count": len(states),
        "flows": [to_json(s) for s in states],
    }
    out = capture.with_name(capture.name + ".json")
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(states)
