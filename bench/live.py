"""Live at line rate: the relay, mitmdump with the addon and the inspector, side by side.

    python bench/live.py [--conns 50] [--mb 4] [--messages 200000] [--only throughput|ingest]

Everything runs on 127.0.0.1, each loop bounded; nothing is asserted (see README.md,
"Live"). Two parts:

* **throughput**: ``--conns`` connections each send ``--mb`` MB in 16 kB writes to an
  echo server (its own process) and read it all back, through: nothing (direct echo),
  ``flowtui proxy`` and ``mitmdump`` (reverse TCP, without and with the addon), with 0,
  1 and 2 inspectors attached; the second inspector is slow (it reads 4 kB every 20 ms,
  so the proxy drops its queue and resyncs it). An inspector is a `LiveClient` in its
  own process. Reported: MB/s both ways together (median of 3 runs), the ratio to
  direct echo, and for
  mitmdump the addon's cost (1 - with / without).
* **ingest**: a synthetic proxy (a `LiveServer` in its own process) publishes
  ``--messages`` 64-byte messages over 10 TCP flows, paced at ``--rate`` (the target,
  50,000/s), then again as fast as it can; the inspector is
  the real app, headless (``run_test``), attached with ``--max-memory-mb``. While the
  flood runs a key (``j``/``k``) is posted every 100 ms and timed until it has
  moved the list's cursor and the next frame was composed. Reported:
  messages ingested per second, key p50/p99/max, catch-up (last message in the store
  minus the proxy's last publish), and the mirror's held bytes and the process RSS
  against the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(PY).parent
CHUNK = 16 * 1024

ECHO = textwrap.dedent(
    """
    import asyncio, sys
    async def handle(r, w):
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except OSError:
            pass
        w.close()
    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
        print("ready", flush=True)
        await server.serve_forever()
    asyncio.run(main())
    """
)

INSPECTOR = textwrap.dedent(
    """
    import asyncio, sys, time
    from flowtui.live.client import LiveClient
    async def main():
        client = LiveClient(sys.argv[1], on_event=lambda e: None, retry=True)
        await client.run()
    asyncio.run(main())
    """
)

SLOW_INSPECTOR = textwrap.dedent(
    """
    import socket, sys, time
    from flowtui.live.protocol import encode, hello
    s = socket.socket(socket.AF_UNIX)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.connect(sys.argv[1].removeprefix("unix:"))
    s.sendall(encode(hello("inspector", "slow-bench")))
    while True:
        if not s.recv(4096):
            break
        time.sleep(0.02)
    """
)

SYNTHETIC_PROXY = textwrap.dedent(
    """
    import asyncio, sys, time
    from flowtui.core import Client, Server, TCPFlow, TCPMessage
    from flowtui.live.endpoints import Endpoint
    from flowtui.live.server import LiveServer

    class Control:
        def base_state(self, flow):
            from flowtui.core import Flow
            return Flow.get_state(flow)
        def kill(self, flow): flow.kill()
        def set_intercept(self, spec): pass
        def changed(self, flow): pass

    async def main(path, total, rate):
        server = LiveServer(Control(), retain_bytes=1 << 40)
        await server.start(Endpoint("unix", path=path))
        print("ready", flush=True)
        while not server.inspectors:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
        flows = []
        for i in range(10):
            client = Client(peername=("127.0.0.1", 40000 + i), sockname=("127.0.0.1", 1),
                            timestamp_start=time.time())
            flow = TCPFlow(client, Server(address=("127.0.0.1", 2)), live=True)
            flows.append(flow)
            server.publish(flow)
        payload = b"m" * 64
        start = time.monotonic()
        for n in range(total):
            flow = flows[n % 10]
            flow.messages.append(TCPMessage(n % 2 == 0, payload))
            server.publish_messages(flow)
            if n % 200 == 199:
                await asyncio.sleep(0)  # let the writer run, as a proxy's traffic would
                if rate:  # paced: n messages by start + n / rate
                    ahead = start + n / rate - time.monotonic()
                    if ahead > 0:
                        await asyncio.sleep(ahead)
        await asyncio.sleep(0)
        end = time.monotonic()
        for flow in flows:
            flow.live = False
            server.publish(flow)
        print(f"published {total} {start} {end}", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}


@contextlib.contextmanager
def process(args: list[str], *, wait_line: str | None = None) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env=env(),
    )  # fmt: skip
    try:
        if wait_line is not None:
            assert proc.stdout is not None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if wait_line in line or not line:
                    break
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_path(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.05)


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# -- throughput ------------------------------------------------------------------------


async def _one_connection(port: int, total: int) -> None:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    block = os.urandom(CHUNK)

    async def send() -> None:
        sent = 0
        while sent < total:
            w.write(block)
            sent += CHUNK
            await w.drain()

    async def receive() -> None:
        got = 0
        while got < total:
            data = await asyncio.wait_for(r.read(65536), 60)
            if not data:
                raise ConnectionError("closed early")
            got += len(data)

    await asyncio.gather(send(), receive())
    w.close()


REPEATS = 3
"""Each load runs this many times; the median is reported (the machine is shared)."""


def load(port: int, conns: int, mb: float) -> float:
    """MB/s, both directions together, of `conns` echoed connections of `mb` each: the
    median of `REPEATS` runs."""
    runs = sorted(_load(port, conns, mb) for _ in range(REPEATS))
    return runs[len(runs) // 2]


def _load(port: int, conns: int, mb: float) -> float:
    total = int(mb * 1024 * 1024) // CHUNK * CHUNK

    async def run() -> float:
        start = time.monotonic()
        await asyncio.gather(*(_one_connection(port, total) for _ in range(conns)))
        return time.monotonic() - start

    elapsed = asyncio.run(run())
    return 2 * conns * total / elapsed / 1e6


@contextlib.contextmanager
def inspectors(address: str, count: int) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        if count >= 1:
            stack.enter_context(process([PY, "-c", INSPECTOR, address]))
        if count >= 2:
            stack.enter_context(process([PY, "-c", SLOW_INSPECTOR, address]))
        time.sleep(1.0 if count else 0)  # attached (and greeted) before the traffic
        yield


def throughput(conns: int, mb: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="flowtui-bench-live-"))
    echo_port = free_port()
    try:
        with process([PY, "-c", ECHO, str(echo_port)], wait_line="ready"):
            load(echo_port, 2, 0.5)  # warm up
            out["direct"] = load(echo_port, conns, mb)
            for n in (0, 1, 2):
                port, sock = free_port(), tmp / f"relay{n}.sock"
                args = [PY, "-m", "flowtui", "proxy", "--listen", f"127.0.0.1:{port}",
                        "--upstream", f"127.0.0.1:{echo_port}", "--socket", str(sock)]  # fmt: skip
                with process(args):
                    wait_path(sock)
                    with inspectors(f"unix:{sock}", n):
                        out[f"relay, {n} inspectors"] = load(port, conns, mb)
            for addon in (False, True):
                for n in (0, 1, 2) if addon else (0,):
                    port, sock = free_port(), tmp / f"mitm{n}.sock"
                    args = [str(BIN / "mitmdump"), "-q", "--listen-host", "127.0.0.1",
                            "--listen-port", str(port), "--mode",
                            f"reverse:tcp://127.0.0.1:{echo_port}",
                            "--set", f"confdir={tmp / 'conf'}"]  # fmt: skip
                    if addon:
                        args += ["-s", str(ROOT / "flowtui/live/mitmproxy_addon.py"),
                                 "--set", f"flowtui_listen=unix:{sock}"]  # fmt: skip
                    with process(args):
                        if addon:
                            wait_path(sock)
                        wait_port(port)
                        with inspectors(f"unix:{sock}", n):
                            name = f"mitmdump + addon, {n} inspectors" if addon else "mitmdump"
                            out[name] = load(port, conns, mb)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    direct, plain = out["direct"], out["mitmdump"]
    return {
        "MB/s": {k: round(v, 1) for k, v in out.items()},
        "of direct": {k: round(v / direct, 2) for k, v in out.items() if k.startswith("relay")},
        "addon cost": {
            k: round(1 - v / plain, 2) for k, v in out.items() if k.startswith("mitmdump +")
        },
    }


# -- ingest ------------------------------------------------------------------------------


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextlib.asynccontextmanager
async def synthetic_proxy(
    sock: Path, total: int, rate: int
) -> AsyncIterator[subprocess.Popen[str]]:
    args = [PY, "-c", SYNTHETIC_PROXY, str(sock), str(total), str(rate)]
    with process(args, wait_line="ready") as p:
        yield p


async def key_to_frame(app: Any, key: str) -> float:
    """Seconds from a key event posted to the app until the list's cursor moved and the
    next frame after that was composed (``call_after_refresh``)."""
    from textual import events

    flow_list = app.main.flow_list
    before = flow_list.cursor
    loop = asyncio.get_running_loop()
    t0 = time.monotonic()
    app.post_message(events.Key(key, None))
    deadline = t0 + 10
    while flow_list.cursor == before and time.monotonic() < deadline:
        await asyncio.sleep(0.001)
    painted: asyncio.Future[None] = loop.create_future()
    flow_list.call_after_refresh(lambda: painted.done() or painted.set_result(None))
    await asyncio.wait_for(painted, 10)
    return time.monotonic() - t0


async def ingest(total: int, max_memory_mb: int, rate: int) -> dict[str, Any]:
    from flowtui.ui.app import make_app  # Textual only for this part

    tmp = Path(tempfile.mkdtemp(prefix="flowtui-bench-ingest-"))
    sock = tmp / "synthetic.sock"
    rss_before = rss_mb()
    try:
        async with synthetic_proxy(sock, total, rate) as proxy:
            app = make_app(
                [], attach=f"unix:{sock}", detail_delay=0, max_memory=max_memory_mb << 20
            )
            async with app.run_test(size=(120, 40)):
                store = app.store

                def ingested() -> int:
                    return sum(store.summary_of(k).messages or 0 for k in store.keys_in_order())

                first = last_change = None
                keys: list[float] = []
                seen, deadline = 0, time.monotonic() + 600
                press = 0
                while time.monotonic() < deadline:
                    t0 = time.monotonic()
                    took = await key_to_frame(app, "k" if press % 2 else "j")
                    press += 1
                    if first is not None and seen < total:  # during the flood only
                        keys.append(took)
                    now_seen = ingested()
                    now = time.monotonic()
                    if now_seen and first is None:
                        first = now
                    if now_seen != seen:
                        seen, last_change = now_seen, now
                    if seen >= total:
                        break
                    await asyncio.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))
                assert proxy.stdout is not None
                line = proxy.stdout.readline().split()
                start, end = float(line[2]), float(line[3])
                attachment = app.attachment
                assert attachment is not None
                held = attachment.client.held
        keys.sort()

        def pct(p: float) -> float:
            return round(keys[min(len(keys) - 1, int(p * len(keys)))] * 1000, 1)

        done = last_change or time.monotonic()
        return {
            "messages": total,
            "paced at msg/s": rate or "no",
            "ingested": seen,
            "proxy publish rate msg/s": round(total / (end - start)),
            "ingest msg/s": round(seen / (done - start)),
            "catch-up s": round(done - end, 2),
            "key ms p50/p99/max": [pct(0.5), pct(0.99), round(keys[-1] * 1000, 1)],
            "keys pressed": len(keys),
            "held MB / limit MB": [round(held / 2**20, 1), max_memory_mb],
            "process RSS MB before / after": [round(rss_before, 1), round(rss_mb(), 1)],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--conns", type=int, default=50, help="connections (the issue's 50)")
    p.add_argument("--mb", type=float, default=4.0, help="MB each connection sends (4)")
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--max-memory-mb", type=int, default=64)
    p.add_argument("--rate", type=int, default=50_000, help="paced flood, messages/s")
    p.add_argument("--only", choices=("throughput", "ingest"))
    args = p.parse_args()
    result: dict[str, Any] = {"cpus": os.cpu_count(), "load": os.getloadavg()[0]}
    if args.only != "ingest":
        result["throughput"] = throughput(args.conns, args.mb)
    if args.only != "throughput":
        for rate in (args.rate, 0):  # paced at the target, then as fast as it can
            name = f"ingest, paced at {rate} msg/s" if rate else "ingest, unpaced"
            result[name] = asyncio.run(ingest(args.messages, args.max_memory_mb, rate))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
