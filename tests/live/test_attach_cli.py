"""`flowtui attach` as a user runs it: bad arguments fail before any UI, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _attach(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", "attach", *args],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["tcp://127.0.0.1:1", "--token-file", "{tmp}/missing"], "{tmp}/missing"),
        (["tcp://127.0.0.1:1", "--token-file", "{tmp}/empty"], "is empty"),
    ],
    ids=["missing-token-file", "empty-token-file"],
)
def test_attach_fails_in_one_line_with_status_1(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    (tmp_path / "empty").chmod(0o600)  # private, so its emptiness is what is refused
    result = _attach(*(a.format(tmp=tmp_path) for a in args))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert expected.format(tmp=tmp_path) in lines[0]
    assert "\x1b" not in result.stderr  # no UI was started


def test_attach_refuses_a_bad_address_as_a_usage_error() -> None:
    result = _attach("tcp://127.0.0.1")
    assert result.returncode == 2 and result.stdout == ""
    assert "expected tcp://HOST:PORT" in result.stderr.splitlines()[-1]
    assert "\x1b" not in result.stderr  # no UI was started


def test_attach_max_memory_reaches_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowtui import cli, ui

    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(ui, "run_attach", lambda *args: calls.append(args) or 0)
    assert cli.main(["attach", "unix:/nowhere.sock", "--max-memory", "64M"]) == 0
    assert cli.main(["attach", "unix:/nowhere.sock", "--max-memory", "2g"]) == 0
    assert cli.main(["attach", "unix:/nowhere.sock"]) == 0
    assert [c[2] for c in calls] == [64 * 1024**2, 2 * 1024**3, None]


def test_attach_refuses_a_bad_max_memory() -> None:
    result = _attach("unix:/nowhere.sock", "--max-memory", "lots")
    assert result.returncode == 2
    assert "expected a size such as 512M" in result.stderr
