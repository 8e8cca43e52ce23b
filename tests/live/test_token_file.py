"""Token files are refused as ssh refuses private keys: shared or another user's.

Both sides: the proxy's `--token-file` (`flowtui proxy`, read or created) and
`flowtui attach --token-file`, run as a user runs them. The tests run as root, so
ownership is tested by giving a file to another uid (65534).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from mitm_helpers import free_port

from flowtui.live.endpoints import load_or_create_token

OTHER_UID = 65534


def _flowtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *args],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _token_file(tmp_path: Path, how: str) -> Path:
    path = tmp_path / "token"
    path.write_text("s3cret-token\n", encoding="utf-8")
    path.chmod(0o600)
    if how == "mode":
        path.chmod(0o644)
    elif how == "group":
        path.chmod(0o620)
    elif how == "owner":
        os.chown(path, OTHER_UID, -1)
    return path


BAD = [("mode", "chmod 600"), ("group", "chmod 600"), ("owner", "another user")]


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
@pytest.mark.parametrize(("how", "advice"), BAD, ids=[b[0] for b in BAD])
def test_attach_refuses_a_token_file_others_can_use(tmp_path: Path, how: str, advice: str) -> None:
    path = _token_file(tmp_path, how)
    result = _flowtui("attach", f"tcp://127.0.0.1:{free_port()}", "--token-file", str(path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and advice in lines[0]
    assert "\x1b" not in result.stderr  # no UI was started


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
@pytest.mark.parametrize(("how", "advice"), BAD, ids=[b[0] for b in BAD])
def test_proxy_refuses_a_token_file_others_can_use(tmp_path: Path, how: str, advice: str) -> None:
    path = _token_file(tmp_path, how)
    result = _flowtui(
        "proxy", "--listen", f"127.0.0.1:{free_port()}", "--upstream", "127.0.0.1:9",
        "--tcp", f"127.0.0.1:{free_port()}", "--token-file", str(path),
    )  # fmt: skip
    assert result.returncode == 1
    assert str(path) in result.stderr and advice in result.stderr
    assert "live socket listening" not in result.stderr  # it never listened


def test_a_private_token_file_is_used(tmp_path: Path) -> None:
    path = _token_file(tmp_path, "private")
    assert load_or_create_token(str(path)) == "s3cret-token"


def test_a_new_token_file_is_private_and_appears_whole(tmp_path: Path) -> None:
    path = tmp_path / "new-token"
    old = os.umask(0)  # the file's mode must not depend on the umask
    try:
        token = load_or_create_token(str(path))
    finally:
        os.umask(old)
    info = path.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.geteuid()
    assert path.read_text(encoding="utf-8") == token + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new-token"]  # no temporary left
    assert load_or_create_token(str(path)) == token


def test_a_fifo_in_place_of_the_token_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    os.mkfifo(path, 0o600)
    with pytest.raises(ValueError, match="not a regular file"):
        load_or_create_token(str(path))
