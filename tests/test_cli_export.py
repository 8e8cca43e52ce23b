"""`flowtui export` through the real entry point (`python -m flowtui export ...`): each
format's output equals the library's, options choose flows, and every failure has its
exit status (1 data, 2 usage) and one clear line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from truth import DATA

from flowtui.export import export
from flowtui.io import read_flows

MIXED = DATA / "mixed_protocols.flows"
BODIES = DATA / "http_bodies.flows"


def flowtui_cmd(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", "export", *map(str, args)],
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_har_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "x.har"
    proc = flowtui_cmd("har", MIXED, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert "har: left out 6 flows (not an HTTP flow)" in err
    assert f"{out}: wrote " in err
    assert out.read_bytes() == export(read_flows(MIXED), "har")
    assert len(json.loads(out.read_bytes())["log"]["entries"]) == 6
    assert [p.name for p in tmp_path.iterdir()] == ["x.har"]  # no temporary file left


def test_curl_of_the_filtered_flows_to_a_pipe() -> None:
    proc = flowtui_cmd("curl", BODIES, "--filter", "~m POST")
    assert proc.returncode == 0, proc.stderr
    posts = [
        f for f in read_flows(BODIES) if getattr(f, "request", None) and f.request.method == "POST"
    ]
    assert proc.stdout == export(posts, "curl")
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == len(posts)  # one line each: no raw newline inside a command
    # A body with a NUL byte cannot be a command-line argument: a comment says so.
    assert [line.split(" ")[0] for line in lines] == ["curl", "#", "curl", "curl", "curl"]
    assert "a NUL character cannot be passed" in lines[1]


@pytest.mark.parametrize("fmt", ["raw", "raw_request", "raw_response"])
def test_raw_of_one_flow(fmt: str) -> None:
    proc = flowtui_cmd(fmt, BODIES, "--flow", "10")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == export([read_flows(BODIES)[9]], fmt)


def test_flow_and_filter_together_and_repeated_flows() -> None:
    proc = flowtui_cmd("httpie", BODIES, "--flow", "1", "--flow", "10", "--flow", "1")
    flows = read_flows(BODIES)
    assert proc.stdout == export([flows[0], flows[9]], "httpie")
    proc = flowtui_cmd("httpie", BODIES, "--flow", "1", "--flow", "10", "--filter", "~m POST")
    assert proc.stdout == export([flows[9]], "httpie")


def test_pcap_and_stream_bytes_to_a_pipe() -> None:
    proc = flowtui_cmd("pcap", MIXED)
    assert proc.returncode == 0
    assert proc.stdout[:4] == b"\xd4\xc3\xb2\xa1"
    assert proc.stdout == export(read_flows(MIXED), "pcap")
    proc = flowtui_cmd("tcp_raw_server", MIXED, "--flow", "2")
    assert proc.stdout == b"".join(
        m.content for m in read_flows(MIXED)[1].messages if not m.from_client
    )
    proc = flowtui_cmd("hexdump", MIXED, "--filter", "~tcp")
    assert proc.returncode == 0 and proc.stdout.isascii()
    assert proc.stdout.count(b"\n# tcp flow ") == 1


def _on_a_terminal(*args: str | Path) -> tuple[int, str, str]:
    """Run with stdout on a pseudo-terminal."""
    main, sub = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "flowtui", "export", *map(str, args)],
            stdout=sub,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
        os.close(sub)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace"), proc.stderr.decode()


def test_binary_formats_never_reach_a_terminal() -> None:
    status, out, err = _on_a_terminal("pcap", MIXED)
    assert status == 2 and out == ""
    assert "pcap is binary: give -o FILE or pipe the output" in err


def test_text_to_a_terminal_is_cleaned(tmp_path: Path) -> None:
    """A HAR holding a bidi override and C1 controls shows them as escapes on a terminal."""
    flows = read_flows(BODIES)
    flow = flows[0]
    flow.request.headers["X-Evil"] = "\u202e\x9b2J"
    from flowtui.io import save_flows

    path = tmp_path / "evil.flows"
    save_flows(path, [flow], format="mitmproxy")
    status, out, _ = _on_a_terminal("har", path)
    assert status == 0
    assert "\u202e" not in out and "\x9b" not in out and "\\u202e\\x9b2J" in out


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["nonsense", MIXED], 2, "invalid choice: 'nonsense'"),
        (["curl", MIXED, "--flow", "0"], 2, "expected a flow number from 1, not '0'"),
        (["curl", MIXED, "--flow", "13"], 2, "--flow 13: "),
        (["curl", MIXED, "--filter", "~c"], 2, "bad filter expression: "),
        (["pcap", BODIES], 1, "pcap needs a TCP or UDP flow; none of the 19 flows is"),
        (["raw", BODIES], 1, "raw exports one flow at a time, not 19"),
        (["curl", MIXED, "--flow", "2"], 1, "curl needs an HTTP flow; flow "),
        (["har", MIXED, "--filter", "~u nothing-here"], 1, "no flows to export match the filter"),
        (["har", "/nonexistent/x.flows"], 1, "/nonexistent/x.flows"),
        (["har", MIXED, "-o", "/nonexistent/dir/x.har"], 1, "/nonexistent/dir/x.har: "),
    ],
)
def test_failures_have_their_exit_status(args: list[str | Path], status: int, message: str) -> None:
    proc = flowtui_cmd(*args)
    err = proc.stderr.decode()
    assert proc.returncode == status, err
    assert message in err
    assert proc.stdout == b""
    if status == 1:
        assert err.count("\n") == 1 and err.startswith("flowtui: error: ")
    assert "Traceback" not in err
