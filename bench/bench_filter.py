"""Summary filters over a big lazy store: `FlowStore.set_filter(parse(expr))`, as JSON.

usage: python bench/bench_filter.py [--file CAPTURE] [--replicate N] [--runs R]
                                    [--changed K] [--content]

Indexes a capture once (default `bench/.cache/synth-100000.flows`, built by `run.py`;
`--replicate` repeats its entries under new ids, e.g. the 10k file times 10), puts every
entry in a `FlowStore` as a lazy flow, then times `store.set_filter(parse(expr))` (parse
included, as the app does it) for each expression: median, min and max of `--runs`,
each from a view without a filter and with a fresh `Filter`, so nothing carries over
from one run to the next. `--changed K` first updates K flows spread over the store
(they become resident, as after marking), so the resident path is measured too.
`--content` also times the `~b` worker's loop (raw pre-test, decode candidates);
`--distinct-clients` gives every flow its own client address (`~src`'s worst case).
Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from flowtui.core.filters import parse  # noqa: E402
from flowtui.io.lazy import CaptureIndexer  # noqa: E402
from flowtui.store import FlowStore  # noqa: E402

EXPRESSIONS = [
    "~dst 192.168.7.",
    "~src 10.0.3.",
    "~src :4[0-9]{3}5$",
    "~sni svc12",
    "~tls",
    "~tls 1.3",
    "!~tls",
    "~alpn h2",
    "~marked",
    "~comment todo",
    "~size >1000",
    "~tcp",
    "~all",
    "~tcp & ~dst 192.168.7.",
    "~sni svc1 | ~dst 192.168.7.",
    "!~tls 1.2 & ~size >1k & ~src 10.0.",
    "(~dst 192.168.1 | ~dst 192.168.2) & !(~sni svc3 | ~marked) & ~tcp",
]
"""Typical summary filters: one field, negations, and combinations."""


def build_store(
    path: Path, replicate: int, distinct_clients: bool
) -> tuple[FlowStore, float, float]:
    """A store holding every entry of `path` (`replicate` times) as lazy flows, the
    seconds indexing took and the seconds `add_lazy` took. `distinct_clients` gives
    every flow its own client address (`~src`'s worst case: nothing repeats)."""
    t0 = time.perf_counter()
    entries = list(CaptureIndexer(path).entries())
    index_s = time.perf_counter() - t0
    store = FlowStore()
    t0 = time.perf_counter()
    n = 0
    for copy in range(replicate):
        suffix = "" if copy == 0 else f"-{copy}"
        rows = []
        for e in entries:
            summary = e.summary
            if distinct_clients:
                n += 1
                client = f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}:{40000 + n % 20000}"
                summary = summary._replace(client=client, src=(client,))
            rows.append((e.id + suffix, summary, e.ref))
        store.add_lazy(rows)
    return store, index_s, time.perf_counter() - t0


def change_flows(store: FlowStore, count: int) -> None:
    """Update `count` flows spread over the store (each decoded and resident after)."""
    step = max(len(store) // max(count, 1), 1)
    ids = [store.view.id_at(i) for i in range(0, len(store.view), step)][:count]
    for i, flow_id in enumerate(ids):
        flow = store.get(flow_id)
        assert flow is not None
        flow.comment = "todo: look" if i % 2 else "seen"
        flow.marked = ":star:" if i % 3 == 0 else ""
        store.update(flow)


def time_filter(store: FlowStore, expr: str, runs: int) -> dict[str, Any]:
    times: list[float] = []
    parse_times: list[float] = []
    matches = 0
    for _ in range(runs):
        store.set_filter(None)
        gc.collect()
        t0 = time.perf_counter()
        predicate = parse(expr)
        t1 = time.perf_counter()
        store.set_filter(predicate)
        t2 = time.perf_counter()
        times.append(t2 - t0)
        parse_times.append(t1 - t0)
        matches = len(store.view)
    return {
        "median_ms": round(1000 * statistics.median(times), 2),
        "min_ms": round(1000 * min(times), 2),
        "max_ms": round(1000 * max(times), 2),
        "parse_ms": round(1000 * statistics.median(parse_times), 3),
        "matches": matches,
        "on_summaries": parse(expr).on_summaries,
    }


def time_content(store: FlowStore, expr: str) -> dict[str, Any]:
    """The app's `~b` worker loop over `snapshot()`: raw pre-test, then decode."""
    predicate = parse(expr)
    t0 = time.perf_counter()
    hits = decoded = 0
    for _id, _rev, summary, item in store.snapshot().rows():
        if summary is None:
            ok = predicate(item)  # type: ignore[arg-type]
        elif not predicate.may_match(summary, item.raw()):  # type: ignore[union-attr]
            ok = False
        else:
            decoded += 1
            ok = predicate(item.load())  # type: ignore[union-attr]
        hits += ok
    return {"s": round(time.perf_counter() - t0, 2), "matches": hits, "decoded": decoded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=HERE / ".cache" / "synth-100000.flows")
    parser.add_argument("--replicate", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--changed", type=int, default=0)
    parser.add_argument("--content", action="store_true")
    parser.add_argument("--distinct-clients", action="store_true")
    parser.add_argument("--expr", action="append", help="instead of the built-in set")
    args = parser.parse_args()
    store, index_s, add_s = build_store(args.file, args.replicate, args.distinct_clients)
    change_flows(store, args.changed)
    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "file": args.file.name,
        "flows": len(store),
        "changed": args.changed,
        "distinct_clients": args.distinct_clients,
        "index_s": round(index_s, 1),
        "add_lazy_s": round(add_s, 3),
        "runs": args.runs,
        "filters": {},
    }
    for expr in args.expr or EXPRESSIONS:
        report["filters"][expr] = result = time_filter(store, expr, args.runs)
        print(json.dumps({expr: result}), file=sys.stderr, flush=True)
    if args.content:
        report["content_b"] = time_content(store, "~b flowtui-needle")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
