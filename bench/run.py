"""flowtui's large-capture benchmark: prints JSON figures, never asserts on time.

usage: python bench/run.py [--flows N ...] [--formats mitmproxy,flowtui] [--no-mitmproxy]

For each size (default 10,000 and 100,000 flows) it builds (once, into bench/.cache/)
a synthetic capture in both formats (see synth.py) and measures each scenario in a
fresh subprocess, so peak RSS (`ru_maxrss`) belongs to that scenario alone:

- app: the real app under `run_test` (120x40, headless): time to the first frame with
  rows, time until the file is fully indexed, open the 10,000-message flow, filter
  times (a summary field, `~b` content), key-to-frame latency p50/p99 with every flow
  loaded, the detail panes' frame after a key once the cursor rests (`detail_delay`
  included), and peak RSS;
- mitmproxy: mitmproxy's own `FlowReader(...).stream()` over the same file (when
  mitmproxy is installed): time and peak RSS, and the ratios to flowtui's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import synth  # noqa: E402


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# -- scenarios (each runs in its own process) -------------------------------------------


async def _app_scenario(path: Path) -> dict[str, Any]:
    from flowtui.core.filters import parse
    from flowtui.ui.app import make_app
    from flowtui.ui.widgets.flow_list import FlowList

    frames: list[tuple[float, int]] = []
    t0 = time.perf_counter()
    app = make_app([path])
    original = app._display

    def probe(screen: Any, renderable: Any) -> None:
        if renderable is not None and not app._batch_count:
            renderable.render_segments(app.console)  # count the ANSI encoding too
            frames.append((time.perf_counter(), len(app.store.view)))
        original(screen, renderable)

    app._display = probe  # type: ignore[method-assign]
    out: dict[str, Any] = {}

    async def next_frame(since: float, limit: float = 120.0) -> float:
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            for t, _ in reversed(frames):
                if t > since:
                    return t - since
                break
            await asyncio.sleep(0.0005)
        return float("nan")

    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.perf_counter() + 600
        first = None
        while time.perf_counter() < deadline:
            first = next((t for t, rows in frames if rows > 0), None)
            if first is not None:
                break
            await asyncio.sleep(0.001)
        out["first_rows_s"] = round((first or float("nan")) - t0, 3)
        while str(path) not in app.loaded and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        out["indexed_s"] = round(time.perf_counter() - t0, 3)
        out["flows"] = len(app.store)
        out["problem"] = app.problems.get(str(path))
        await pilot.pause()
        flow_list = app.query_one(FlowList)
        flow_list.focus()
        await pilot.pause()
        latencies: dict[str, list[float]] = {}
        for key in ["down"] * 30 + ["pagedown"] * 10 + ["end", "home"] * 5 + ["up"] * 5:
            since = time.perf_counter()
            await pilot.press(key)
            latencies.setdefault(key, []).append(await next_frame(since))
        every = sorted(v for vs in latencies.values() for v in vs)
        out["key_to_frame_ms"] = {
            "p50": round(1000 * statistics.median(every), 1),
            "p99": round(1000 * every[min(len(every) - 1, int(len(every) * 0.99))], 1),
            "by_key_median": {
                k: round(1000 * statistics.median(v), 1) for k, v in latencies.items()
            },
        }
        # The detail panes once the cursor rests: key, `detail_delay`, then the panes' frame.
        from flowtui.ui.widgets.message_view import MessageView

        view = app.query_one(MessageView)
        rests: list[float] = []
        for _ in range(10):
            since = time.perf_counter()
            await pilot.press("down")
            target = app.store.view.id_at(flow_list.cursor)
            while time.perf_counter() - since < 10 and not (view.flow and view.flow.id == target):
                await asyncio.sleep(0.0005)
            shown = time.perf_counter()
            paint = await next_frame(shown, limit=1.0)  # nan: painted before it was seen
            rests.append(shown - since + (0.0 if paint != paint else paint))
        out["detail_after_rest_ms"] = round(1000 * statistics.median(rests), 1)
        out["detail_delay_ms"] = round(1000 * app.detail_delay, 1)
        # Open the 10,000-message flow (the first one): cursor home, then its messages shown.
        await pilot.press("end")
        await pilot.pause()
        since = time.perf_counter()
        await pilot.press("home")
        await pilot.pause()
        out["open_10k_message_flow_ms"] = round(1000 * (await next_frame(since)), 1)
        for name, text in (("summary_dst", "~dst 192.168.7."), ("content_b", "~b flowtui-needle")):
            since = time.perf_counter()
            predicate = parse(text)
            app.apply_filter(text, predicate)
            while app.store.filter is not predicate and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            out[f"filter_{name}_ms"] = round(1000 * (time.perf_counter() - since), 1)
            out[f"filter_{name}_matches"] = len(app.store.view)
        app.apply_filter("", None)
        await pilot.pause()
    out["peak_rss_mb"] = _peak_mb()
    # Index worker processes (large mitmproxy captures): they have exited and been
    # reaped by now; count each at the largest one's peak, an upper bound.
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    child = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    out["index_worker_peak_rss_mb"] = child
    out["peak_rss_total_mb"] = round(out["peak_rss_mb"] + (workers * child if child else 0), 1)
    return out


def _mitmproxy_scenario(path: Path) -> dict[str, Any]:
    from mitmproxy.io import FlowReader

    t0 = time.perf_counter()
    with path.open("rb") as f:
        flows = list(FlowReader(f).stream())
    return {
        "flows": len(flows),
        "read_s": round(time.perf_counter() - t0, 3),
        "peak_rss_mb": _peak_mb(),
    }


def _subprocess(scenario: str, path: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--scenario", scenario, str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]}
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _has_mitmproxy() -> bool:
    try:
        import mitmproxy.io  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--formats", default="mitmproxy,flowtui")
    parser.add_argument("--no-mitmproxy", action="store_true")
    parser.add_argument("--scenario", choices=["app", "mitmproxy"])
    parser.add_argument("file", nargs="?")
    args = parser.parse_args()
    if args.scenario:
        path = Path(args.file)
        if args.scenario == "app":
            result = asyncio.run(_app_scenario(path))
        else:
            result = _mitmproxy_scenario(path)
        print(json.dumps(result))
        return
    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    for n in args.flows:
        for fmt in args.formats.split(","):
            path = synth.capture(n, fmt)
            entry: dict[str, Any] = {"file": path.name, "bytes": path.stat().st_size}
            entry["flowtui"] = app = _subprocess("app", path)
            if fmt == "mitmproxy" and _has_mitmproxy() and not args.no_mitmproxy:
                entry["mitmproxy"] = mitm = _subprocess("mitmproxy", path)
                if "read_s" in mitm and "indexed_s" in app:
                    entry["indexed_speedup_vs_mitmproxy"] = round(
                        mitm["read_s"] / app["indexed_s"], 2
                    )
                    entry["peak_rss_ratio_vs_mitmproxy"] = round(
                        app["peak_rss_total_mb"] / mitm["peak_rss_mb"], 3
                    )
            report[f"{n}/{fmt}"] = entry
            print(json.dumps({f"{n}/{fmt}": entry}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
