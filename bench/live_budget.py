"""What a proxy that sends too much costs `flowtui attach`'s client: its memory budget.

    python bench/live_budget.py [--mb 450] [--max-memory-mb 512] [--tree PATH]

A rogue proxy (here, on 127.0.0.1) greets an inspector, then sends `--mb` megabytes of
TCP message content (64 kB messages, 16 per frame, over 10 flows), then a last flow
called ``end``. The inspector is a `LiveClient` in its own process (from `--tree`,
default this checkout: pass an older checkout to compare; an older client without a
budget is run without one). It prints JSON: the inspector's RSS and its peak
(`VmRSS`, `VmHWM`) once ``end`` arrived, what its mirror holds, and the time taken.
Nothing here is asserted (see README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 64 * 1000

INSPECTOR = textwrap.dedent(
    """
    import asyncio, inspect, json, sys
    from pathlib import Path
    from flowtui.live.client import LiveClient

    def rss():
        out = {}
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
        return out

    async def main(port, budget):
        done = asyncio.Event()
        def on_event(event):
            if event.kind == "add" and event.flows[0].id == "end":
                done.set()
        kw = {}
        if "max_memory" in inspect.signature(LiveClient).parameters:
            kw["max_memory"] = budget
        client = LiveClient(f"tcp://127.0.0.1:{port}", token="t", on_event=on_event, **kw)
        task = asyncio.create_task(client.run())
        await asyncio.wait_for(done.wait(), 600)
        flows = list(client.flows.values())
        held = sum(len(m.content) for f in flows for m in getattr(f, "messages", []))
        cut = sum("flowtui.cut" in f.metadata for f in flows)
        budget = kw.get("max_memory")
        print(json.dumps({**rss(), "content_held": held, "budget": budget, "cut_flows": cut}))
        client.stop()
        await task

    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
    """
)


def _state(flow_id: str) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from flowtui.core import Client, Flow, Server, TCPFlow

    client = Client(peername=("127.0.0.1", 1), sockname=("127.0.0.1", 2), timestamp_start=1.0)
    flow = TCPFlow(client, Server(address=("127.0.0.1", 9)))
    return {**Flow.get_state(flow), "id": flow_id, "messages": [], "live": True}


async def serve(mb: float, started: asyncio.Event, finished: asyncio.Event) -> int:
    sys.path.insert(0, str(ROOT))
    from flowtui.live.protocol import FrameDecoder, encode, hello

    async def one(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        decoder = FrameDecoder()
        while not decoder.feed(await r.read(65536)):
            pass
        w.write(encode(hello("proxy", "rogue")))
        w.write(encode({"type": "flows/reset", "flows": []}))
        payload = os.urandom(CHUNK)
        frames = int(mb * 1e6 / CHUNK / 16)
        for flow in range(10):
            w.write(encode({"type": "flows/add", "flow": _state(f"flow-{flow}")}))
        for i in range(frames):
            batch = [[True, payload, 1.0]] * 16
            w.write(encode({"type": "flows/append", "id": f"flow-{i % 10}", "messages": batch}))
            await w.drain()
        w.write(encode({"type": "flows/add", "flow": _state("end")}))
        await w.drain()
        finished.set()
        while await r.read(65536):
            pass

    server = await asyncio.start_server(one, "127.0.0.1", 0)
    started.set()
    port: int = server.sockets[0].getsockname()[1]
    return port


async def run(args: argparse.Namespace) -> dict[str, object]:
    started, finished = asyncio.Event(), asyncio.Event()
    port = await serve(args.mb, started, finished)
    env = dict(os.environ, PYTHONPATH=str(args.tree.resolve()))
    budget = int(args.max_memory_mb * 1024 * 1024)
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", INSPECTOR, str(port), str(budget),
        env=env, cwd=args.tree, stdout=subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 900)
    result: dict[str, object] = json.loads(out)
    return {
        "tree": str(args.tree.resolve()),
        "mb_sent": args.mb,
        "seconds": round(time.monotonic() - start, 1),
        "inspector_rss_mb": round(float(result["VmRSS"]), 1),  # type: ignore[arg-type]
        "inspector_peak_mb": round(float(result["VmHWM"]), 1),  # type: ignore[arg-type]
        "content_held_mb": round(int(result["content_held"]) / 1e6, 1),  # type: ignore[call-overload]
        "budget_mb": args.max_memory_mb if result["budget"] else None,
        "cut_flows": result["cut_flows"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=float, default=450.0)
    p.add_argument("--max-memory-mb", type=float, default=512.0)
    p.add_argument("--tree", type=Path, default=ROOT, help="the flowtui checkout to run")
    print(json.dumps(asyncio.run(run(p.parse_args())), indent=2))


if __name__ == "__main__":
    main()
