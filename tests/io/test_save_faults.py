"""Nothing lost on save: SIGKILL mid-save, a full disk, a read-only directory.

The target is always the complete old file or the complete new one (compared by
sha256), temporary files of a killed save are removed by the next save, and a save that
cannot complete says where and why in one line and leaves the old file as it was.
"""

from __future__ import annotations

import io
import os
import pwd
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from capture_gen import split_records, write_capture
from kill_saves import ROOT, kill_campaign

from flowtui.io import FlowReader, FlowWriteException, read_flows, save_flows
from flowtui.io.lazy import CaptureIndexer
from flowtui.store import FlowStore

SAMPLE = ROOT / "flowtui" / "sample" / "sample.flows"


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated capture of a few MB (the big campaign is scripts/kill_saves.py)."""
    path = tmp_path_factory.mktemp("gen") / "big.flows"
    write_capture(path, 700, size=700)
    return path


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("mode", ["convert", "save"])
def test_sigkill_mid_save_leaves_old_or_new_file(mode: str, capture: Path, tmp_path: Path) -> None:
    """`flowtui convert` and a UI-style save_flows, killed 6 times at random points."""
    report = kill_campaign(mode, capture, tmp_path, kills=6, seed=len(mode))
    assert report.bad == []
    assert report.old + report.new == 6 and report.kills >= 3
    assert report.stale_temps_max <= 1  # a killed save's leftovers go at the next save
    assert report.temps_after_clean_save == 0 and report.final_is_new


def test_stale_temp_of_a_dead_writer_is_removed(tmp_path: Path) -> None:
    """A temporary file named for a process that no longer exists goes at the next save."""
    target = tmp_path / "x.flows"
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = tmp_path / f".x.flows.{proc.stdout.strip()}.abc123.tmp"
    live = tmp_path / f".x.flows.{os.getpid()}.def456.tmp"
    dead.write_bytes(b"half a capture")
    live.write_bytes(b"another save in progress")
    save_flows(target, read_flows(SAMPLE))
    assert _temps(tmp_path) == [live.name]


@pytest.fixture
def tiny_disk() -> Iterator[Path]:
    """A 1 MB tmpfs (needs root and mount); skipped where mounting is not allowed."""
    where = Path(tempfile.mkdtemp(prefix="flowtui-tinydisk-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        where.rmdir()
        pytest.skip("cannot mount a tmpfs here (the RLIMIT_FSIZE test covers a full disk)")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)
        where.rmdir()


def test_full_disk_keeps_old_file(tiny_disk: Path, capture: Path) -> None:
    target = tiny_disk / "capture.flows"
    save_flows(target, read_flows(SAMPLE))
    before = target.read_bytes()
    flows = read_flows(capture)
    with pytest.raises(FlowWriteException) as info:
        save_flows(target, flows)
    assert str(target) in str(info.value) and "No space left on device" in str(info.value)
    assert "\n" not in str(info.value)
    assert target.read_bytes() == before and _temps(tiny_disk) == []


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG


def test_file_size_limit_in_convert_keeps_old_file(capture: Path, tmp_path: Path) -> None:
    """A full disk without mount: convert under RLIMIT_FSIZE fails cleanly, one line."""
    target = tmp_path / "out.flows"
    save_flows(target, read_flows(SAMPLE))
    before = target.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "flowtui", "convert", str(capture), str(target)],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(target) in lines[0] and "File too large" in lines[0]
    assert target.read_bytes() == before and _temps(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_read_only_directory_for_the_saving_user() -> None:
    """As user nobody, in a root-owned 0755 directory: clear error, old file kept."""
    nobody = pwd.getpwnam("nobody")
    where = Path(tempfile.mkdtemp(prefix="flowtui-ro-"))
    try:
        where.chmod(0o755)
        target = where / "capture.flows"
        flows = read_flows(SAMPLE)
        save_flows(target, flows[:3])
        target.chmod(0o666)  # even a writable file: the rename needs the directory
        before = target.read_bytes()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: drop to nobody, try the save, report, exit
            os.close(r)
            message = b"saved"
            try:
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
                save_flows(target, flows)
            except FlowWriteException as e:
                message = str(e).encode()
            except BaseException as e:
                message = f"unexpected {e!r}".encode()
            os.write(w, message[:4000])
            os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as pipe:
            message = pipe.read().decode()
        os.waitpid(pid, 0)
        assert str(target) in message and "Permission denied" in message, message
        assert target.read_bytes() == before and _temps(where) == []
    finally:
        for p in where.iterdir():
            p.unlink()
        where.rmdir()


def test_file_name_with_a_nul_byte_is_a_clear_error(tmp_path: Path) -> None:
    """Found by the hostile-screens test: a pasted NUL in the save path crashed the app."""
    with pytest.raises(FlowWriteException, match="NUL byte"):
        save_flows(tmp_path / "a\x00b.flows", read_flows(SAMPLE))
    assert list(tmp_path.iterdir()) == []


# -- targets that are not regular files (issue #11, item 10) ---------------------------


def _read_all(path: Path, out: list[bytes]) -> None:
    with path.open("rb") as f:
        out.append(f.read())


def test_a_fifo_target_is_written_as_a_stream_not_replaced(tmp_path: Path) -> None:
    expected = tmp_path / "regular.flows"
    save_flows(expected, read_flows(SAMPLE))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(fifo, got), daemon=True)
    reader.start()
    try:
        assert save_flows(fifo, read_flows(SAMPLE), format="mitmproxy") == 30
    finally:
        reader.join(timeout=30)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert got == [expected.read_bytes()]
    assert _temps(tmp_path) == []


def test_convert_into_a_fifo_streams(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(fifo, got), daemon=True)
    reader.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flowtui", "convert", str(SAMPLE), str(fifo)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
    finally:
        reader.join(timeout=30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert got and got[0].startswith(b"\x89FLOWTUI")  # no suffix: flowtui's format
    assert len(list(FlowReader(io.BytesIO(got[0])).stream())) == 30


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a device node")
def test_a_character_device_target_stays_a_device(tmp_path: Path) -> None:
    """A node with /dev/null's numbers, made in a temporary directory (the machine's own
    /dev/null is never touched)."""
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod is not allowed here")
    assert save_flows(null, read_flows(SAMPLE), format="mitmproxy") == 30
    st = null.stat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert _temps(tmp_path) == []


def test_a_directory_target_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "dir.flows"
    target.mkdir()
    with pytest.raises(FlowWriteException, match="is a directory"):
        save_flows(target, read_flows(SAMPLE))
    assert target.is_dir() and _temps(tmp_path) == []


# -- a capture changed on disk under the same size (issue #11, item 9) -----------------


def _rewrite_in_place(path: Path) -> None:
    """Move the 5th record to the end, writing over the file (same size, same inode)."""
    records = split_records(path.read_bytes())
    shuffled = b"".join([*records[:4], *records[5:], records[4]])
    with path.open("r+b") as f:
        f.write(shuffled)


@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
def test_save_refuses_to_copy_records_of_a_capture_changed_in_place(
    tmp_path: Path, fmt: str
) -> None:
    source = tmp_path / ("capture.flows" if fmt == "mitmproxy" else "capture.flowtui")
    save_flows(source, read_flows(SAMPLE), format=fmt)
    os.utime(source, (1_000_000_000, 1_000_000_000))  # any write after opening moves it
    store = FlowStore()
    store.add_lazy((e.id, e.summary, e.ref) for e in CaptureIndexer(source).entries())
    if fmt == "mitmproxy":
        _rewrite_in_place(source)
    else:  # flip one byte inside the 5th record's state (same size)
        data = bytearray(source.read_bytes())
        at = store.entries()[4].offset + store.entries()[4].raw_length - 3  # type: ignore[union-attr]
        data[at] ^= 0xFF
        source.write_bytes(bytes(data))
    changed = source.read_bytes()
    out = tmp_path / ("out.flows" if fmt == "mitmproxy" else "out.flowtui")
    for target in (out, source):
        with pytest.raises(FlowWriteException) as info:
            save_flows(target, store.entries(), format=fmt)
        message = str(info.value)
        assert f"{source} changed on disk since it was opened" in message
        assert "record #5 at byte" in message and "nothing was saved" in message
    assert not out.exists() and source.read_bytes() == changed
    assert _temps(tmp_path) == []


def test_convert_refuses_a_suffix_of_another_format(tmp_path: Path) -> None:
    target = tmp_path / "y.json"
    done = subprocess.run(
        [sys.executable, "-m", "flowtui", "convert", str(SAMPLE), str(target)],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode != 0 and not target.exists()
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(target) in lines[0]
    assert "'.json'" in lines[0] and ".flowtui" in lines[0] and "--format" in lines[0]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowtui",
            "convert",
            str(SAMPLE),
            str(target),
            "--format",
            "flowtui",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode == 0 and len(read_flows(target)) == 30


@pytest.mark.parametrize("name", ["big.ftui", "out.capture", "noext"])
def test_convert_writes_flowtui_format_under_a_name_that_promises_no_other(
    tmp_path: Path, name: str
) -> None:
    """Only a suffix that names another format is refused: `.ftui` (the README's own
    example), a made-up suffix or none at all get flowtui's format."""
    target = tmp_path / name
    done = subprocess.run(
        [sys.executable, "-m", "flowtui", "convert", str(SAMPLE), str(target)],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode == 0, done.stderr
    assert "flowtui format" in done.stderr
    assert len(list(read_flows(target))) == len(list(read_flows(SAMPLE)))
