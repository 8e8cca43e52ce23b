"""Ground truth of the real mitmproxy captures in tests/data, for any test to use.

Each `X.flows.json` holds mitmproxy 11's own `get_state()` of every flow in `X.flows`,
with bytes encoded as `{"__bytes__": base64}` and tuples as lists.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "mitmproxy-11"


def decode(obj: Any) -> Any:
    """Turn the truth files' JSON encoding back into states."""
    if isinstance(obj, dict):
        if set(obj) == {"__bytes__"}:
            return base64.b64decode(obj["__bytes__"])
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj


def as_lists(obj: Any) -> Any:
    """A state with every tuple turned into a list, to compare with JSON-born states."""
    if isinstance(obj, dict):
        return {k: as_lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [as_lists(v) for v in obj]
    return obj


def _load() -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    for path in sorted(DATA.glob("*.flows.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for i, state in enumerate(doc["flows"]):
            out.append((path.name.removesuffix(".flows.json"), i, decode(state)))
    return out


TRUTH = _load()
"""(capture name, flow index, state) for every flow of every capture."""


def truth_states(capture: Path) -> list[dict[str, Any]]:
    """The ground truth beside a capture (`X.flows.json`): mitmproxy's state of each flow."""
    doc = json.loads(capture.with_name(capture.name + ".json").read_text(encoding="utf-8"))
    return [decode(s) for s in doc["flows"]]


def mitmproxy_states(capture: Path) -> list[Any]:
    """What the real mitmproxy 11 reads from `capture`: each flow's state, tuples as lists."""
    from mitmproxy import io as mio

    with capture.open("rb") as f:
        return [as_lists(flow.get_state()) for flow in mio.FlowReader(f).stream()]


def state_of(name: str, index: int) -> dict[str, Any]:
    """A fresh copy of flow `index` of capture `name` (e.g. `"tls_alpn_chain", 0`)."""
    for n, i, state in TRUTH:
        if (n, i) == (name, index):
            return copy.deepcopy(state)
    raise KeyError((name, index))
