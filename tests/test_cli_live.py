"""`flowtui proxy` and `flowtui addon-path` as a user runs them: real processes, 127.0.0.1 only."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowtui.core import TCPFlow
from flowtui.io import read_flows


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *args], capture_output=True, text=True, timeout=30
    )


def test_addon_path_prints_the_addon_file() -> None:
    result = run_cli("addon-path")
    assert result.returncode == 0
    path = Path(result.stdout.strip())
    assert path.name == "mitmproxy_addon.py" and path.is_file()
    assert "flowtui_listen" in path.read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def echo_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that answers every chunk with b"ECHO:" + chunk."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                while chunk := conn.recv(65536):
                    conn.sendall(b"ECHO:" + chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    server.close()
    thread.join(5)


def connect_with_retry(port: int, deadline: float) -> socket.socket:
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_proxy_relays_and_records_a_capture(echo_server: int, tmp_path: Path) -> None:
    listen = free_port()
    capture, log = tmp_path / "relay.flows", tmp_path / "proxy.log"
    command = [
        sys.executable, "-m", "flowtui", "proxy", "--listen", f"127.0.0.1:{listen}",
        "--upstream", f"127.0.0.1:{echo_server}", "--socket", str(tmp_path / "s" / "live.sock"),
        "-w", str(capture),
    ]  # fmt: skip
    with log.open("wb") as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        try:
            with connect_with_retry(listen, time.monotonic() + 15) as client:
                for payload in (b"hello\n", b"\x00\xff binary"):
                    client.sendall(payload)
                    assert client.recv(65536) == b"ECHO:" + payload
            deadline = time.monotonic() + 10  # the flow is written when the connection ends
            while not (capture.exists() and capture.stat().st_size):
                assert time.monotonic() < deadline, "the relay never wrote the flow"
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    assert proc.returncode in (0, 130, -signal.SIGINT), log.read_text()
    flows = read_flows(capture)
    assert len(flows) == 1
    flow = flows[0]
    assert isinstance(flow, TCPFlow)
    assert [(m.from_client, m.content) for m in flow.messages] == [
        (True, b"hello\n"),
        (False, b"ECHO:hello\n"),
        (True, b"\x00\xff binary"),
        (False, b"ECHO:\x00\xff binary"),
    ]
    assert flow.server_conn.address == ("127.0.0.1", echo_server)
