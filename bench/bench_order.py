"""Ordering the view of a big store: `store.view.set_order`, reverse and marked-only, as JSON.

usage: python bench/bench_order.py [--flows N] [--runs R] [--file CAPTURE]

Builds a `FlowStore` of N lazy flows (default 100,000) whose summaries vary as a capture's
do: start times rising with jitter, sizes and durations spread over many values, 500
servers, four types, one flow in ten marked (`--file` indexes a capture instead, e.g.
`bench/.cache/synth-100000.flows` built by `run.py`; its synthetic flows have fewer
distinct values). Then times, each the median, min and max of R runs from the store's own
order: `set_order(key)` for each key (and, for size, what the list then reads: the
cursor's flow and a screen of rows), `set_reverse` of an ordered view, `set_marked_only`
on and off, an order under a summary filter, and one flow added and one updated in an
ordered view; and, for the budget, `set_filter(parse("~dst 192.168.7."))` as
bench_filter.py times it. Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from flowtui.core import Client, Flow, Server, TCPFlow, TCPMessage  # noqa: E402
from flowtui.core.filters import parse  # noqa: E402
from flowtui.core.summary import FlowSummary, summarize  # noqa: E402
from flowtui.store import FlowStore, OrderKey  # noqa: E402

T0 = 1_700_000_000.0
FILTER = "~dst 192.168.7."


def _flow(n: int) -> TCPFlow:
    client = Client(
        peername=("10.0.0.1", 40000 + n % 20000),
        sockname=("10.0.0.254", 8080),
        timestamp_start=T0 + n,
    )
    server = Server(address=(f"192.168.{n % 256}.{n * 7 % 256}", 443), timestamp_start=T0 + n)
    flow = TCPFlow(client, server)
    flow.id = f"bench-{n:08d}"
    flow.messages.append(TCPMessage(True, b"x" * (n % 5000), T0 + n + 0.5))
    return flow


class _Record:
    """A lazy flow that decodes a small TCP flow (only updates decode one)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def load(self) -> Flow:
        return _flow(self.n)

    def raw(self) -> bytes:
        return b""

    def load_head(self, messages: int, size: int) -> Flow | None:
        return None


def synthetic(n: int) -> list[tuple[str, FlowSummary, Any]]:
    base = summarize(_flow(0))
    rows = []
    for i in range(n):
        server = f"svc{i * 7919 % 500}.example"
        address = f"192.168.{i % 256}.{i * 7 % 256}:443"
        summary = base._replace(
            type=("tcp", "udp", "http", "dns")[i * 31 % 4],
            start=T0 + i * 0.05 + (i * 7919 % 1000) / 100,
            size=i * 104729 % 1_000_003,
            duration=None if i % 50 == 0 else (i * 6151 % 100_000) / 1000,
            server=server,
            dst=(address, server),
            marked=":default:" if i % 10 == 3 else "",
        )
        rows.append((f"bench-{i:08d}", summary, _Record(i)))
    return rows


def build_store(args: argparse.Namespace) -> FlowStore:
    store = FlowStore()
    if args.file is not None:
        from flowtui.io.lazy import CaptureIndexer

        store.add_lazy((e.id, e.summary, e.ref) for e in CaptureIndexer(args.file).entries())
        return store
    rows = synthetic(args.flows)
    for start in range(0, len(rows), 5000):
        store.add_lazy(rows[start : start + 5000])
    return store


def timed(runs: int, setup: Callable[[], None], action: Callable[[], None]) -> dict[str, float]:
    times = []
    for _ in range(runs):
        setup()
        gc.collect()
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    return {
        "median_ms": round(1000 * statistics.median(times), 2),
        "min_ms": round(1000 * min(times), 2),
        "max_ms": round(1000 * max(times), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--file", type=Path, default=None)
    args = parser.parse_args()
    store = build_store(args)
    view = store.view
    runs = args.runs

    def plain() -> None:
        store.set_filter(None)
        view.set_marked_only(False)
        view.set_order(None, reverse=False)

    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "flows": len(store),
        "runs": runs,
        "budget_filter": timed(runs, plain, lambda: store.set_filter(parse(FILTER))),
        "order": {},
    }
    for key in OrderKey:
        report["order"][key.label] = timed(runs, plain, lambda k=key: view.set_order(k))

    def by_size() -> None:
        plain()
        view.set_order(OrderKey.SIZE)

    middle = store.keys_in_order()[len(store) // 2]

    def as_the_list_does() -> None:  # the new order, then the cursor's flow and a screen
        view.set_order(OrderKey.SIZE)
        pos = view.position(middle) or 0
        for i in range(pos, min(pos + 40, len(view))):
            store.summary_of(view.id_at(i))

    report["order_size_then_cursor_and_screen"] = timed(runs, plain, as_the_list_does)
    report["reverse_ordered"] = timed(runs, by_size, lambda: view.set_reverse(True))
    report["marked_only_on_ordered"] = timed(runs, by_size, lambda: view.set_marked_only(True))

    def marked_by_size() -> None:
        by_size()
        view.set_marked_only(True)

    report["marked_only_off_ordered"] = timed(
        runs, marked_by_size, lambda: view.set_marked_only(False)
    )
    report["marked_only_on_store_order"] = timed(runs, plain, lambda: view.set_marked_only(True))

    def filtered() -> None:
        plain()
        store.set_filter(parse(FILTER))

    report["order_size_under_filter"] = timed(runs, filtered, lambda: view.set_order(OrderKey.SIZE))
    report["filter_on_ordered_view"] = timed(runs, by_size, lambda: store.set_filter(parse(FILTER)))
    # One flow in and one changed, in a view ordered by size (live flows), in µs.
    by_size()
    n = len(store)
    adds, updates = [], []
    for i in range(200):
        flow = _flow(n + i)
        t0 = time.perf_counter()
        store.add([flow])
        adds.append(time.perf_counter() - t0)
        flow.messages.append(TCPMessage(False, b"y" * (i * 37 % 3000), T0 + n + i + 1))
        t0 = time.perf_counter()
        store.update(flow)
        updates.append(time.perf_counter() - t0)
    report["add_one_ordered_us"] = round(1e6 * statistics.median(adds), 1)
    report["update_one_ordered_us"] = round(1e6 * statistics.median(updates), 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
