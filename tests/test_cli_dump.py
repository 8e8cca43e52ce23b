"""`flowtui dump FILE [EXPR]` against the real `mitmdump -nr FILE EXPR`: the same HTTP
lines for every capture, and a filter expression chooses flows as mitmdump's does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from export_oracle import CAPTURES, capture_id, pairs

MITMDUMP = Path(sys.executable).with_name("mitmdump")

HTTP_CAPTURES = [p for p in CAPTURES if any(b.type == "http" for _, b in pairs(p))]


def flowtui_cmd(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def mitmdump(path: Path, expr: str) -> list[str]:
    """mitmdump's lines; a wide terminal so that it does not cut URLs."""
    if not MITMDUMP.exists():
        pytest.skip("mitmdump is not installed beside the interpreter")
    env = {**os.environ, "COLUMNS": "100000"}
    proc = subprocess.run(
        [str(MITMDUMP), "-n", "-r", str(path), expr],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    # Its own log lines ("[08:06:13.886] Only processing flows that match ...") aside.
    return [line for line in proc.stdout.splitlines() if not LOG_LINE.match(line)]


LOG_LINE = re.compile(r"^\[\d\d:\d\d:\d\d\.\d{3}\] ")


def once(lines: list[str]) -> list[str]:
    """mitmdump prints a flow with both a response and an error twice (once for each
    event); flowtui prints it once. Drop the second copy."""
    out: list[str] = []
    at = 0
    while at < len(lines):
        block = lines[at : at + 3]
        if (
            len(block) == 3
            and block[2].startswith(" << ")
            and lines[at + 3 : at + 6] == block
            and block[1].lstrip().startswith("<< ")
        ):
            out += block
            at += 6
            continue
        out.append(lines[at])
        at += 1
    return out


@pytest.mark.mitmproxy
@pytest.mark.parametrize("path", HTTP_CAPTURES, ids=capture_id)
def test_http_lines_equal_mitmdumps(path: Path) -> None:
    ours = flowtui_cmd("dump", path, "~http")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.splitlines() == once(mitmdump(path, "~http"))


@pytest.mark.mitmproxy
@pytest.mark.parametrize(
    "expr",
    ["~http & ~m POST", "~c 404 | ~websocket", "~http & !~u /encoded/ & ~s", "~h Set-Cookie"],
)
def test_a_filter_chooses_the_flows_mitmdump_chooses(expr: str) -> None:
    path = next(p for p in HTTP_CAPTURES if p.stem == "http_bodies")
    ours = flowtui_cmd("dump", path, expr)
    assert ours.returncode == 0, ours.stderr
    expected = once(mitmdump(path, expr))
    assert expected, "the filter should match something"
    assert ours.stdout.splitlines() == expected


def test_filter_applies_to_every_flow_type_and_to_json() -> None:
    path = next(p for p in CAPTURES if p.stem == "mixed_protocols")
    tcp = flowtui_cmd("dump", path, "~tcp")
    assert tcp.returncode == 0
    assert [line.split("  ")[1] for line in tcp.stdout.splitlines()] == ["tcp", "tcp"]
    js = flowtui_cmd("dump", "--json", path, "~dns")
    assert js.returncode == 0 and len(js.stdout.splitlines()) == 2
    assert flowtui_cmd("dump", path, "~u nothing-matches-this").stdout == ""


@pytest.mark.parametrize(
    ("expr", "message", "caret"),
    [
        ("~nope x", "unknown filter '~nope'", "  ^"),
        ("~http & (~c 200", "'(' is never closed", "  " + " " * 8 + "^"),
        ("~c abc", "", None),
    ],
)
def test_a_bad_expression_is_a_usage_error_with_a_caret(
    expr: str, message: str, caret: str | None
) -> None:
    path = CAPTURES[0]
    proc = flowtui_cmd("dump", path, expr)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("usage: flowtui dump")
    assert lines[1].startswith("flowtui dump: error: bad filter expression: " + message)
    assert lines[2] == "  " + expr
    if caret is not None:
        assert lines[3] == caret
    assert lines[3].strip() == "^"


def test_a_hostile_expression_is_shown_escaped() -> None:
    proc = flowtui_cmd("dump", CAPTURES[0], "~nope \x1b[2J")
    assert proc.returncode == 2
    assert "\x1b" not in proc.stderr and "~nope \\x1b[2J" in proc.stderr
