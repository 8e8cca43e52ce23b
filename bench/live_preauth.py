"""What strangers cost `flowtui proxy`: peers on the TCP live socket that never authenticate.

    python bench/live_preauth.py [--peers 100] [--mb-per-peer 32] [--tree PATH]

Starts `flowtui proxy` (from `--tree`, default this checkout: pass an older checkout to
compare) with its live socket on 127.0.0.1 and a token, then opens `--peers` connections
at once. Each announces a frame just under 32 MiB (the protocol's limit) and sends zeros
towards it, never a hello, until the proxy closes it or it has sent its share. Prints
JSON: the proxy's RSS before (`VmRSS`), its peak (`VmHWM`), its RSS 2 s after the last
peer is gone, and what the peers got through. Nothing here is asserted (see README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 64 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (the peak) of `pid`, in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


async def peer(port: int, share: int) -> tuple[int, bool]:
    """Bytes sent before the proxy closed us (or `share`), and whether it closed us."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return 0, True
    sent = 0
    closed = False
    try:
        writer.write(struct.pack(">I", 32 * 1024 * 1024 - 1))
        zeros = bytes(CHUNK)
        while sent < share:
            writer.write(zeros)
            await asyncio.wait_for(writer.drain(), 30)
            sent += CHUNK
        await asyncio.wait_for(reader.read(), 30)  # until the proxy gives up on us
        closed = True
    except (OSError, TimeoutError):
        closed = True
    finally:
        writer.transport.abort()
    return sent, closed


async def attack(port: int, peers: int, share: int) -> list[tuple[int, bool]]:
    return await asyncio.gather(*(peer(port, share) for _ in range(peers)))


def wait_listening(port: int, deadline: float) -> None:
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--peers", type=int, default=100)
    p.add_argument("--mb-per-peer", type=float, default=32.0)
    p.add_argument("--tree", type=Path, default=ROOT, help="the flowtui checkout to run")
    args = p.parse_args()
    live, listen = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        token = Path(tmp) / "token"
        command = [
            sys.executable, "-m", "flowtui", "proxy", "--listen", f"127.0.0.1:{listen}",
            "--upstream", "127.0.0.1:9", "--tcp", f"127.0.0.1:{live}",
            "--token-file", str(token),
        ]  # fmt: skip
        env = dict(os.environ, PYTHONPATH=str(args.tree.resolve()))
        proc = subprocess.Popen(
            command, env=env, cwd=args.tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_listening(live, time.monotonic() + 20)
            time.sleep(0.5)
            before = rss_mb(proc.pid)
            start = time.monotonic()
            share = int(args.mb_per_peer * 1024 * 1024)
            results = asyncio.run(attack(live, args.peers, share))
            seconds = time.monotonic() - start
            time.sleep(2)
            after = rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    sent = [s for s, _ in results]
    print(
        json.dumps(
            {
                "tree": str(args.tree.resolve()),
                "peers": args.peers,
                "rss_before_mb": round(before["VmRSS"], 1),
                "rss_peak_mb": round(after["VmHWM"], 1),
                "rss_after_mb": round(after["VmRSS"], 1),
                "peers_closed_by_proxy": sum(1 for _, c in results if c),
                "mb_sent_by_peers": round(sum(sent) / 1e6, 1),
                "most_mb_sent_by_one_peer": round(max(sent, default=0) / 1e6, 2),
                "seconds": round(seconds, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
