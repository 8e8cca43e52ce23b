"""Read speed of mitmproxy's tnetstring format vs flowtui's msgpack format, as JSON.

usage: python bench/bench_io.py [FLOWS]   (default 5000 flows built from the test fixtures)
       python bench/bench_io.py --http [FLOWS [ROUNDS]]   (default 10,000 flows, 1 round)

`--http` opens and indexes the HTTP-heavy synthetic capture (`synth.http_capture`)
with flowtui's index pass and reads it with mitmproxy's `FlowReader`, each in its own
process, and prints both times, peak memory and the ratios (see `run.py --http`,
which also measures the app and writes `results-http.json`).
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

from flowtui.io import FlowReader, FlowWriter, NativeFlowWriter, read_flows

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "mitmproxy-11"


def main() -> None:
    if sys.argv[1:2] == ["--http"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import run  # the benchmark's scenarios, each run in its own process

        count = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
        rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
        entry = run.http_entry(count, ("index",), rounds)
        print(json.dumps({f"http/{count}": entry}, indent=1))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    pool = [f for p in sorted(DATA.glob("*.flows")) for f in read_flows(p)]
    flows = [pool[i % len(pool)] for i in range(count)]
    result: dict[str, object] = {"flows": count}
    for name, writer_cls in (("mitmproxy", FlowWriter), ("flowtui", NativeFlowWriter)):
        buf = io.BytesIO()
        writer = writer_cls(buf)
        t0 = time.perf_counter()
        for f in flows:
            writer.add(f)
        write_s = time.perf_counter() - t0
        data = buf.getvalue()
        t0 = time.perf_counter()
        n = sum(1 for _ in FlowReader(io.BytesIO(data)).stream())
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        m = sum(1 for _ in FlowReader(io.BytesIO(data)).records(with_state=False))
        index_s = time.perf_counter() - t0
        assert n == m == count
        result[name] = {
            "bytes": len(data),
            "read_MB_per_s": round(len(data) / 1e6 / read_s, 1),
            "read_flows_per_s": round(count / read_s),
            "write_MB_per_s": round(len(data) / 1e6 / write_s, 1),
            "index_pass_s": round(index_s, 3),
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
