"""Key to the first painted frame when opening an HTTP flow with a big body.

usage: python bench/bench_http_detail.py [--runs R]

Builds (once, into bench/.cache/) a capture in mitmproxy's format, written by
mitmproxy's own `FlowWriter`: small flows around one with a 10 MB JSON response body
and one with a 100 MB JSON response body. The real app (120x40, headless, default
settings, the Response tab showing) then moves the cursor onto each big flow from the
flow above it, R times, and prints JSON:

- `key_to_first_frame_ms`: from the key to the first frame painted after it;
- `key_to_body_frame_ms`: from the key to the first frame whose Response pane shows
  that flow's body lines (its preview: the head of the body), the figure the target
  is about (two frames, 33 ms);
- `whole_flow_s`: until the whole flow is decoded and shown (a worker thread);
- `first_body_line`: the body's first line as shown, to check it is the body.

Nothing is asserted: tests never time anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / ".cache"
SIZES = {"10MB": 10_000_000, "100MB": 100_000_000}


def _json_body(size: int) -> bytes:
    """A JSON array of objects, `size` bytes or a little more."""
    item = b'{"id": %d, "name": "item %d", "tags": ["alpha", "beta"], "ok": true}'
    parts: list[bytes] = []
    total, i = 2, 0
    while total < size:
        part = item % (i, i)
        parts.append(part)
        total += len(part) + 2
        i += 1
    return b"[" + b", ".join(parts) + b"]"


def capture() -> Path:
    """The benchmark capture (built once): flows #1, #3, #5 small, #2 with a 10 MB JSON
    body, #4 with a 100 MB one."""
    path = CACHE / "http-detail.flows"
    if path.exists():
        return path
    from mitmproxy import io as mio
    from mitmproxy.test import tflow

    CACHE.mkdir(exist_ok=True)
    flows = []
    for body in (b"{}", _json_body(SIZES["10MB"]), b"[]", _json_body(SIZES["100MB"]), b"{}"):
        f = tflow.tflow(resp=True)
        assert f.response is not None
        f.response.headers["content-type"] = "application/json"
        f.response.content = body
        flows.append(f)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        writer = mio.FlowWriter(out)
        for f in flows:
            writer.add(f)
    tmp.rename(path)
    return path


async def measure(path: Path, runs: int) -> dict[str, Any]:
    from textual.widgets import TabbedContent

    from flowtui.ui.app import make_app
    from flowtui.ui.widgets.detail_pane import DetailPane

    app = make_app([path])
    original = app._display
    frames: list[tuple[float, str | None, int]] = []

    def probe(screen: Any, renderable: Any) -> None:
        if renderable is not None and not app._batch_count:
            renderable.render_segments(app.console)  # the ANSI encoding counts too
            shown: str | None = None
            lines = 0
            try:
                pane = app.screen.query_one("#response", DetailPane)
                shown = pane.flow.id if pane.flow is not None else None
                lines = len(pane.body)
            except Exception:
                pass
            frames.append((time.perf_counter(), shown, lines))
        original(screen, renderable)

    app._display = probe  # type: ignore[method-assign]
    out: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.perf_counter() + 300
        while str(path) not in app.loaded and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        await pilot.pause()
        app.screen.query_one(TabbedContent).active = "tab-response"
        store = app.store
        ids = [store.view.id_at(i) for i in range(len(store.view))]
        for row, name in ((1, "10MB"), (3, "100MB")):
            target = ids[row]
            firsts, bodies, wholes = [], [], []
            first_line = ""
            for _ in range(runs):
                await pilot.press("home", *["down"] * (row - 1))
                await app.workers.wait_for_complete()
                await asyncio.sleep(0.3)  # the cursor at rest: the panes follow at once
                frames.clear()
                since = time.perf_counter()
                await pilot.press("down")
                end = time.perf_counter() + 120
                body_at = None
                while time.perf_counter() < end and body_at is None:
                    body_at = next((t for t, shown, n in frames if shown == target and n > 0), None)
                    await asyncio.sleep(0.0005)
                first_at = next((t for t, _, _ in frames if t > since), float("nan"))
                firsts.append(first_at - since)
                bodies.append((body_at or float("nan")) - since)
                pane = app.screen.query_one("#response", DetailPane)
                if pane.body:
                    first_line = pane.body[0].plain
                while time.perf_counter() < end and (pane.preview or not pane.body_complete):
                    await asyncio.sleep(0.01)
                wholes.append(time.perf_counter() - since)
                await app.workers.wait_for_complete()
            out[name] = {
                "body_bytes": SIZES[name],
                "key_to_first_frame_ms": _stats(firsts),
                "key_to_body_frame_ms": _stats(bodies),
                "whole_flow_s": round(statistics.median(wholes), 2),
                "first_body_line": first_line[:60],
            }
    return out


def _stats(values: list[float]) -> dict[str, float]:
    every = sorted(v * 1000 for v in values)
    return {
        "median": round(statistics.median(every), 1),
        "min": round(every[0], 1),
        "max": round(every[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path = capture()
    result = asyncio.run(measure(path, args.runs))
    print(json.dumps({"capture": str(path), "runs": args.runs, **result}, indent=1))


if __name__ == "__main__":
    main()
