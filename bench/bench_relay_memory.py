"""What a relayed message costs the relay in memory: `flowtui proxy` keeps every message
of a live flow, so a flood of small messages must cost about their size, not a page each.

    python bench/bench_relay_memory.py [--messages 20000] [--size 10]

A real relay (in its own process) between a client and an echo server on 127.0.0.1; the
client sends ``--messages`` messages of ``--size`` bytes one round trip at a time, so
each is its own read. Printed: the relay's RSS before and after, and per message.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live import ECHO, PY, free_port, process, wait_path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=20_000)
    p.add_argument("--size", type=int, default=10, help="bytes per message")
    args = p.parse_args()
    echo_port, port = free_port(), free_port()
    sock = Path(tempfile.mkdtemp(prefix="flowtui-bench-mem-")) / "live.sock"
    relay = [PY, "-m", "flowtui", "proxy", "--listen", f"127.0.0.1:{port}",
             "--upstream", f"127.0.0.1:{echo_port}", "--socket", str(sock)]  # fmt: skip
    with process([PY, "-c", ECHO, str(echo_port)], wait_line="ready"), process(relay) as proc:
        wait_path(sock)
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        payload = b"m" * args.size
        client.sendall(payload)  # the first round trip, before measuring
        client.recv(65536)
        time.sleep(0.2)
        before = rss_mb(proc.pid)
        for _ in range(args.messages):
            client.sendall(payload)
            got = 0
            while got < args.size:
                got += len(client.recv(65536))
        time.sleep(0.2)
        after = rss_mb(proc.pid)
        client.close()
    kept = 2 * args.messages  # each message and its echo
    each = (after - before) * 1024 * 1024 / kept
    print(
        f"relay RSS {before:.1f} MB -> {after:.1f} MB for {kept:,} messages of "
        f"{args.size} bytes: {each:,.0f} bytes each"
    )


if __name__ == "__main__":
    main()
