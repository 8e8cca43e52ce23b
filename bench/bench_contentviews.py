"""Content views on big bodies: time to the first screen, and whole renders, as JSON.

usage: python bench/bench_contentviews.py [--runs R] [--no-100mb]

Builds deterministic JSON bodies in memory (records of ids, names, tags and nested
objects, about 10 MB and 100 MB, pretty-printed by `json.dumps(indent=1)`, and a 10 MB
minified one) and times, in this process, `render_lines(...)` up to its first 50 lines
(what the detail pane needs for its first frame, as the preview mechanism asks for
it), the same for 10 MB of HTML, minified JavaScript, text and hex, then `render(...)`
of a 1 MB body whole (JSON, and the same records as XML, msgpack and form fields).
Median, min and max of `--runs` each.
Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

import msgpack  # noqa: E402

from flowtui.ui.contentviews import render, render_lines  # noqa: E402


def document(size: int) -> Any:
    """A list of records whose JSON is about `size` bytes."""
    record = {
        "id": 0,
        "name": "record name with ünïcode ✓",
        "active": True,
        "score": 12.5,
        "tags": ["alpha", "beta", "gamma"],
        "owner": {"login": "someone", "url": "https://example.com/u/someone", "n": None},
    }
    per = len(json.dumps(record, indent=1))
    return [dict(record, id=i) for i in range(max(1, size // per))]


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "median_ms": round(statistics.median(times), 2),
        "min_ms": round(min(times), 2),
        "max_ms": round(max(times), 2),
    }


def first_lines(body: bytes, ctype: str, n: int = 50, view: str = "auto") -> None:
    got = list(islice(render_lines(body, content_type=ctype, view=view), n))
    if len(got) != n:
        raise SystemExit(f"expected {n} lines, got {len(got)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-100mb", action="store_true", help="skip the 100 MB body")
    args = parser.parse_args()
    out: dict[str, Any] = {"python": sys.version.split()[0], "runs": args.runs}

    sizes = [10_000_000] + ([] if args.no_100mb else [100_000_000])
    for size in sizes:
        body = json.dumps(document(size), indent=1, ensure_ascii=False).encode()
        label = f"{size // 1_000_000}MB"
        out[f"json_{label}_bytes"] = len(body)
        out[f"json_{label}_first_50_lines"] = timed(
            lambda body=body: first_lines(body, "application/json"), args.runs
        )
        del body
    minified = json.dumps(document(10_000_000), separators=(",", ":")).encode()
    out["json_10MB_minified_first_50_lines"] = timed(
        lambda minified=minified: first_lines(minified, "application/json"), args.runs
    )
    del minified

    big = document(10_000_000)
    others: dict[str, tuple[bytes, str]] = {
        "html": (
            b"<html><body>"
            + b"".join(
                b'<div class="r"><p id="p%d">%s</p><b>x</b></div>' % (r["id"], r["name"].encode())
                for r in big * 4
            )
            + b"</body></html>",
            "text/html",
        ),
        "javascript_minified": (
            b"".join(
                b"function f%d(a){if(a){return a+%d}return 0};" % (i, i) for i in range(250_000)
            ),
            "application/javascript",
        ),
        "text": (json.dumps(big, indent=1).encode(), "text/plain; charset=utf-8"),
        "hex": (json.dumps(big).encode(), "application/octet-stream"),
    }
    for name, (body, ctype) in others.items():
        view = "hex" if name == "hex" else "auto"
        out[f"{name}_{len(body) // 1_000_000}MB_first_50_lines"] = timed(
            lambda body=body, ctype=ctype, view=view: first_lines(body, ctype, view=view),
            args.runs,
        )
    del big, others

    doc = document(1_000_000)
    whole: dict[str, tuple[bytes, str]] = {
        "json": (json.dumps(doc, indent=1).encode(), "application/json"),
        "json_minified": (json.dumps(doc, separators=(",", ":")).encode(), "application/json"),
        "msgpack": (msgpack.packb(doc), "application/msgpack"),
        "xml": (
            b"<records>"
            + b"".join(
                b'<r id="%d"><name>%s</name><tags><t>a</t><t>b</t></tags></r>'
                % (r["id"], r["name"].encode())
                for r in doc
            )
            + b"</records>",
            "application/xml",
        ),
        "urlencoded": (
            b"&".join(b"field%d=value+%d" % (i, i) for i in range(len(doc) * 3)),
            "application/x-www-form-urlencoded",
        ),
    }
    for name, (body, ctype) in whole.items():
        lines = len(render(body, content_type=ctype).lines)
        out[f"whole_1MB_{name}"] = {
            "bytes": len(body),
            "lines": lines,
            **timed(lambda body=body, ctype=ctype: render(body, content_type=ctype), args.runs),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
