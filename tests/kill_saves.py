"""SIGKILL a saving process at random points and check the target is never half written.

Shared by tests/io/test_save_kills.py (a small campaign in the suite) and
scripts/kill_saves.py (the big one whose figures are in docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["KillReport", "kill_campaign"]

ROOT = Path(__file__).resolve().parent.parent

SAVE_SCRIPT = """
import sys
from flowtui.io import read_flows, save_flows
flows = read_flows(sys.argv[1])
print("loaded", flush=True)
save_flows(sys.argv[2], flows, format=sys.argv[3])
"""
"""What the UI's `w` does, minus the UI: flows in memory, then save_flows on a worker."""


@dataclass
class KillReport:
    """What a campaign saw."""

    mode: str
    kills: int = 0
    """Runs killed before they finished."""
    finished: int = 0
    """Runs that completed before the kill landed."""
    old: int = 0
    """Kills after which the target was the complete old file."""
    new: int = 0
    """Kills after which the target was the complete new file."""
    bad: list[str] = field(default_factory=list)
    """Anything else: a torn target (must stay empty)."""
    stale_temps_max: int = 0
    """Most temporary files seen next to the target after one kill (before the next save)."""
    full_run_seconds: float = 0.0
    """One uninterrupted run, for scale."""
    write_seconds: float = 0.0
    """How long the writing part of that run took (from the temporary file's creation)."""
    temps_after_clean_save: int = -1
    """Temporary files left after a final save that was not killed (must be 0)."""
    final_is_new: bool = False
    """The final, unkilled save produced exactly the expected new file."""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _command(mode: str, src: Path, dst: Path, fmt: str) -> list[str]:
    if mode == "convert":
        return [sys.executable, "-m", "flowtui", "convert", str(src), str(dst), "--format", fmt]
    return [sys.executable, "-c", SAVE_SCRIPT, str(src), str(dst), fmt]


def _temps(dst: Path) -> list[Path]:
    return [p for p in dst.parent.iterdir() if p.name.startswith(f".{dst.name}.")]


def kill_campaign(
    mode: str, src: Path, workdir: Path, *, kills: int, seed: int = 6, fmt: str = "flowtui"
) -> KillReport:
    """Run ``mode`` ("convert" or "save") from ``src`` into a target ``kills`` times,
    SIGKILLing it at a random moment of a full run, and classify the target each time."""
    report = KillReport(mode)
    rng = random.Random(seed)
    dst = workdir / "target.capture"
    old = workdir / "old.capture"
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    # The "old" file: the previous version of the target (the sample capture, saved).
    sample = ROOT / "flowtui/sample/sample.flows"
    _completed(_command("convert", sample, old, fmt), env)
    old_sha = _sha(old)
    shutil.copyfile(old, dst)

    # One full run, timed: when the temporary file appears (writing starts) and when done.
    start = time.monotonic()
    proc = subprocess.Popen(
        _command(mode, src, dst, fmt), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    writing_at = _wait_for_temp(proc, dst)
    proc.wait(timeout=600)
    report.full_run_seconds = time.monotonic() - start
    report.write_seconds = report.full_run_seconds - (writing_at - start)
    new_sha = _sha(dst)
    shutil.copyfile(old, dst)

    for n in range(kills):
        proc = subprocess.Popen(
            _command(mode, src, dst, fmt),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if n % 2:  # anywhere in the run
            delay = rng.uniform(0.05, report.full_run_seconds)
        else:  # while the new file is being written (the dangerous part)
            _wait_for_temp(proc, dst)
            delay = rng.uniform(0, report.write_seconds * 1.1)
        try:
            proc.wait(timeout=delay)
            report.finished += 1
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            report.kills += 1
        digest = _sha(dst)
        if digest == old_sha:
            report.old += 1
        elif digest == new_sha:
            report.new += 1
            shutil.copyfile(old, dst)  # start the next round from the old file again
        else:
            report.bad.append(f"torn target after {delay:.2f}s ({dst.stat().st_size} bytes)")
            shutil.copyfile(old, dst)
        report.stale_temps_max = max(report.stale_temps_max, len(_temps(dst)))
    # One last save that is not killed cleans up what the killed ones left behind.
    _completed(_command(mode, src, dst, fmt), env)
    report.temps_after_clean_save = len(_temps(dst))
    report.final_is_new = _sha(dst) == new_sha
    return report


def _completed(command: list[str], env: dict[str, str]) -> None:
    """Run a save to its end: success, or a convert that wrote everything and says some
    records were unreadable (kept as they were; status 1 with that one summary line)."""
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode == 1 and "unreadable (kept as they were)" in proc.stderr:
        return
    proc.check_returncode()


def _wait_for_temp(proc: subprocess.Popen[bytes], dst: Path) -> float:
    """Poll (bounded) until the writer's temporary file appears; return that moment."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.suffix == ".tmp" and str(proc.pid) in p.name for p in _temps(dst)):
            break
        time.sleep(0.002)
    return time.monotonic()
