"""Soak `flowtui proxy` on 127.0.0.1: many concurrent connections, lots of bytes, two
inspectors (one deliberately slow) and a third that detaches and reattaches; prints JSON.

    python bench/soak.py [--conns 1000] [--mb-per-conn 0.5] [--seconds-limit 600]

Phase 1 relays a fifth of phase 2's bytes, over as many connections, with no inspector;
phase 2 runs with the inspectors attached. Each connection sends its bytes in 64 KB
chunks to an echo upstream and reads every echo back, so "relayed" counts both directions. Measured:
throughput per phase, the proxy's RSS over time, the longest wait for one echo (a stall),
and at the end every flow's bytes in the -w capture, in the mirror of the inspector that
stayed attached, and in a fresh inspector's after it attaches (bounded by `--retain`).
Everything runs under one deadline and is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
CHUNK = 64 * 1024

INSPECTORS = textwrap.dedent(
    """
    import asyncio, json, socket, sys, time
    from flowtui.live.client import LiveClient
    from flowtui.live.protocol import encode, hello

    ADDR = sys.argv[1]
    PATH = ADDR.removeprefix("unix:")

    async def slow():
        # Reads 64 KB every 50 ms: far slower than the traffic, so it overflows.
        r, w = await asyncio.open_unix_connection(PATH)
        w.write(encode(hello("inspector", "slow")))
        got = 0
        while data := await r.read(65536):
            got += len(data)
            await asyncio.sleep(0.05)

    async def flapper(stats):
        while True:
            c = LiveClient(ADDR, retry=False)
            t = asyncio.create_task(c.run())
            try:
                await asyncio.wait_for(c.connected.wait(), 10)
                stats["attaches"] += 1
            except TimeoutError:
                pass
            await asyncio.sleep(1.0)
            c.stop()
            await asyncio.gather(t, return_exceptions=True)
            await asyncio.sleep(0.5)

    async def main():
        fast = LiveClient(ADDR, queue_size=100000)
        def drain(_event):
            pass
        fast.on_event = drain
        stats = {"attaches": 0}
        tasks = [asyncio.create_task(fast.run()), asyncio.create_task(slow()),
                 asyncio.create_task(flapper(stats))]
        await asyncio.wait_for(fast.connected.wait(), 10)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        for t in tasks[1:]:
            t.cancel()
        def mirror(client):
            out = {}
            for f in client.flows.values():
                up = sum(len(m.content) for m in f.messages if m.from_client)
                down = sum(len(m.content) for m in f.messages if not m.from_client)
                out[str(f.client_conn.peername[1])] = [up, down]
            return out
        last = -1
        for _ in range(300):  # the attached inspector: until its mirror is stable for 1 s
            await asyncio.sleep(1)
            total = sum(len(m.content) for f in fast.flows.values() for m in f.messages)
            if total == last and total > 0:
                break
            last = total
        attached = mirror(fast)
        # resync: detach and reattach once, then report the new mirror
        fast.stop()
        await asyncio.gather(tasks[0], return_exceptions=True)
        again = LiveClient(ADDR, retry=False)
        task = asyncio.create_task(again.run())
        await asyncio.wait_for(again.connected.wait(), 30)
        last = -1
        for _ in range(300):  # until the resync has delivered everything (stable for 1 s)
            await asyncio.sleep(1)
            total = sum(len(m.content) for f in again.flows.values() for m in f.messages)
            if total == last and total > 0:
                break
            last = total
        print(json.dumps({"flows": mirror(again), "attached": attached, **stats}), flush=True)
        again.stop()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def _connection(port: int, nbytes: int, ports: dict[int, int]) -> float:
    """One client connection: send ``nbytes`` and read them back; return the longest wait."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    ports[w.get_extra_info("sockname")[1]] = nbytes
    payload = os.urandom(CHUNK)
    longest, sent = 0.0, 0
    while sent < nbytes:
        n = min(CHUNK, nbytes - sent)
        w.write(payload[:n])
        t = time.monotonic()
        await r.readexactly(n)
        longest = max(longest, time.monotonic() - t)
        sent += n
    w.close()
    return longest


async def _phase(port: int, conns: int, nbytes: int, ports: dict[int, int]) -> dict[str, float]:
    start = time.monotonic()
    sem = asyncio.Semaphore(conns)

    async def one() -> float:
        async with sem:
            return await _connection(port, nbytes, ports)

    results = await asyncio.gather(*(one() for _ in range(conns)), return_exceptions=True)
    elapsed = time.monotonic() - start
    stalls = [r for r in results if isinstance(r, float)] or [0.0]
    failed = [repr(r) for r in results if not isinstance(r, float)]
    relayed = 2 * (conns - len(failed)) * nbytes
    return {
        "connections": conns,
        "failed": len(failed),
        "first_failure": failed[0] if failed else None,
        "relayed_mb": round(relayed / 1e6, 1),
        "seconds": round(elapsed, 1),
        "mb_per_s": round(relayed / 1e6 / elapsed, 1),
        "longest_echo_wait_s": round(max(stalls), 2),
    }


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="flowtui-soak-"))
    echo = await asyncio.start_server(_echo, "127.0.0.1", 0, backlog=4096)
    up_port = echo.sockets[0].getsockname()[1]
    listen, sock, capture = _free_port(), tmp / "s" / "live.sock", tmp / "soak.flows"
    proxy = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "proxy", "--listen", f"127.0.0.1:{listen}",
         "--upstream", f"127.0.0.1:{up_port}", "--socket", str(sock), "-w", str(capture),
         "--retain", str(args.retain)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=(tmp / "proxy.log").open("wb"),
    )  # fmt: skip
    rss: list[tuple[float, float]] = []
    t0 = time.monotonic()

    async def sample() -> None:
        while True:
            rss.append((round(time.monotonic() - t0, 1), round(_rss_mb(proxy.pid), 1)))
            await asyncio.sleep(1)

    sampler = asyncio.create_task(sample())
    inspectors: asyncio.subprocess.Process | None = None
    result: dict[str, object] = {"machine_load_1m": os.getloadavg()[0]}
    try:
        for _ in range(300):
            if sock.exists():
                break
            await asyncio.sleep(0.05)
        per_conn = int(args.mb_per_conn * 1e6)
        ports: dict[int, int] = {}
        result["without_inspectors"] = await _phase(listen, args.conns, per_conn // 5, ports)
        inspectors = await asyncio.create_subprocess_exec(
            sys.executable, "-c", INSPECTORS, f"unix:{sock}", env=ENV,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        assert inspectors.stdout is not None and inspectors.stdin is not None
        await asyncio.wait_for(inspectors.stdout.readline(), 30)
        result["with_inspectors"] = await _phase(listen, args.conns, per_conn, ports)
        inspectors.stdin.write(b"report\n")
        await inspectors.stdin.drain()
        report = json.loads(await asyncio.wait_for(inspectors.stdout.readline(), 300))
        result["reattaches"] = report["attaches"]
        for key, mirror in (("attached", report["attached"]), ("reattached", report["flows"])):
            result[f"{key}_inspector_flows_complete"] = sum(
                1 for p, n in ports.items() if mirror.get(str(p)) == [n, n]
            )
        result["connections_total"] = len(ports)
    finally:
        sampler.cancel()
        if inspectors is not None and inspectors.returncode is None:
            inspectors.kill()
            await inspectors.wait()
        proxy.send_signal(signal.SIGINT)
        try:
            proxy.wait(60)
        except subprocess.TimeoutExpired:
            proxy.kill()
            proxy.wait(10)
        echo.close()
    from flowtui.io import read_flows

    written = read_flows(capture)
    complete = 0
    for f in written:
        n = ports.get(f.client_conn.peername[1])
        up = sum(len(m.content) for m in f.messages if m.from_client)
        down = sum(len(m.content) for m in f.messages if not m.from_client)
        complete += n is not None and up == n and down == n
    result["capture_flows"] = len(written)
    result["capture_flows_complete"] = complete
    result["capture_mb"] = round(capture.stat().st_size / 1e6, 1)
    result["proxy_rss_mb"] = {
        "first": rss[0][1],
        "peak": max(v for _, v in rss),
        "samples": rss[:: max(1, len(rss) // 20)],
    }
    log_lines = (tmp / "proxy.log").read_text(errors="replace").splitlines()
    result["proxy_log_tail"] = log_lines[-5:]
    for p in tmp.rglob("*"):
        if p.is_file() or p.is_socket():
            p.unlink()
    return result


def main() -> int:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--conns", type=int, default=1000)
    p.add_argument("--mb-per-conn", type=float, default=0.5, help="MB each connection sends")
    p.add_argument("--seconds-limit", type=float, default=900)
    p.add_argument("--retain", type=int, default=256, help="the proxy's --retain MB")
    args = p.parse_args()
    result = asyncio.run(asyncio.wait_for(main_async(args), args.seconds_limit))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
