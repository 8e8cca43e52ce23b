"""Coverage-guided fuzzing of flowtui's parsers with atheris (libFuzzer).

    python tests/fuzz/run.py --runs 100000            # every target, 100k inputs each
    python tests/fuzz/run.py --seconds 10 reader      # one target for 10 s (make fuzz)
    python tests/fuzz/run.py --runs 100000 --merge    # also refresh the kept corpus

Each target runs in its own subprocess with an address-space limit (RLIMIT_AS), so an
input that makes a reader allocate what a length prefix claims fails loudly instead of
swapping, and a per-input deadline (libFuzzer's -timeout), so a hang is a finding. A crash
stops the target and leaves the input in tests/fuzz/crashers/<target>/, where the suite
replays it (test_fuzz_regressions.py). Prints one JSON line per target with its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent.parent)]  # tests/ helpers, this checkout

MEMORY_LIMIT = 2 << 30
"""Address space of a fuzzing subprocess (bytes): far below a 10 GB length prefix."""
PER_INPUT_SECONDS = 5
"""An input taking longer than this is reported as a hang."""
MAX_LEN = 64 * 1024


CHILD_ENV = "FLOWTUI_FUZZ_TARGET"
"""Set in the fuzzing subprocess: the target it runs (libFuzzer re-runs argv[0] to merge)."""


WRAPPER_ENV = "FLOWTUI_FUZZ_WRAPPER"


def _child(target: str, libfuzzer_args: list[str]) -> None:
    """Run inside the limited subprocess: instrument flowtui and hand over to libFuzzer."""
    import atheris

    with atheris.instrument_imports(include=["flowtui"]):
        from fuzz.targets import TARGETS, probe_flows

    probe_flows()  # load the probe flows once, outside any input's deadline
    # libFuzzer re-runs argv[0] (to merge): the wrapper that brings us back here.
    atheris.Setup([os.environ.get(WRAPPER_ENV, sys.argv[0]), *libfuzzer_args], TARGETS[target])
    atheris.Fuzz()


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_target(
    target: str, runs: int | None, seconds: int | None, merge: bool
) -> dict[str, object]:
    """Fuzz one target in a subprocess; return its figures."""
    from fuzz.seeds import write_seeds
    from fuzz.targets import CORPUS, CRASHERS

    kept = CORPUS / target
    crashers = CRASHERS / target
    kept.mkdir(parents=True, exist_ok=True)
    crashers.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"flowtui-fuzz-{target}-") as tmp:
        work, seed_dir = Path(tmp, "work"), Path(tmp, "seeds")
        work.mkdir()
        command = _wrapper(Path(tmp))
        write_seeds(target, seed_dir)
        args = [
            str(work),
            str(kept),
            str(seed_dir),
            f"-timeout={PER_INPUT_SECONDS}",
            "-rss_limit_mb=2048",
            f"-max_len={MAX_LEN}",
            f"-artifact_prefix={crashers}/",
            "-print_final_stats=1",
        ]
        if runs is not None:
            args.append(f"-runs={runs}")
        if seconds is not None:
            args.append(f"-max_total_time={seconds}")
        start = time.monotonic()
        proc = subprocess.run(
            [command, *args],
            capture_output=True,
            text=True,
            preexec_fn=_limit_memory,
            env=dict(os.environ, **{CHILD_ENV: target, WRAPPER_ENV: command}),
            check=False,
        )
        elapsed = time.monotonic() - start
        log = proc.stdout + proc.stderr
        if merge and proc.returncode == 0:
            _merge(target, kept, work, command)
    return _figures(target, proc.returncode, log, elapsed, crashers)


def _wrapper(directory: Path) -> str:
    """An executable that runs this file with this interpreter (libFuzzer re-runs it)."""
    path = directory / "fuzz-target"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    path.chmod(0o755)
    return str(path)


def _merge(target: str, kept: Path, work: Path, command: str) -> None:
    """Replace the kept corpus by a minimal set covering it and the new inputs."""
    with tempfile.TemporaryDirectory(prefix=f"flowtui-merge-{target}-") as tmp:
        merged = Path(tmp)
        subprocess.run(
            [command, "-merge=1", str(merged), str(kept), str(work), f"-max_len={MAX_LEN}"],
            capture_output=True,
            preexec_fn=_limit_memory,
            env=dict(os.environ, **{CHILD_ENV: target, WRAPPER_ENV: command}),
            check=True,
        )
        for old in kept.iterdir():
            old.unlink()
        for new in merged.iterdir():
            (kept / new.name).write_bytes(new.read_bytes())


def _figures(target: str, rc: int, log: str, elapsed: float, crashers: Path) -> dict[str, object]:
    """What the campaign did, from libFuzzer's final statistics."""

    def stat(name: str) -> int | None:
        m = re.search(rf"stat::{name}:\s+(\d+)", log)
        return int(m.group(1)) if m else None

    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    result: dict[str, object] = {
        "target": target,
        "ok": rc == 0,
        "inputs": stat("number_of_executed_units"),
        "seconds": round(elapsed, 1),
        "execs_per_second": stat("average_exec_per_sec"),
        "coverage_edges": int(cov[-1][0]) if cov else None,
        "features": int(cov[-1][1]) if cov else None,
        "peak_rss_mb": stat("peak_rss_mb"),
        "crashers_kept": sum(1 for _ in crashers.iterdir()),
    }
    if rc != 0:
        tail = [ln for ln in log.splitlines() if ln.strip()][-30:]
        result["failure"] = "\n".join(tail)
    return result


def main() -> int:
    if os.environ.get(CHILD_ENV):
        _child(os.environ[CHILD_ENV], sys.argv[1:])
        return 0
    from fuzz.targets import TARGETS

    p = argparse.ArgumentParser(description="Fuzz flowtui's parsers with atheris.")
    p.add_argument("targets", nargs="*", choices=[[], *TARGETS], default=[])
    p.add_argument("--runs", type=int, help="inputs per target")
    p.add_argument("--seconds", type=int, help="time per target")
    p.add_argument("--merge", action="store_true", help="refresh tests/fuzz/corpus/")
    args = p.parse_args()
    if args.runs is None and args.seconds is None:
        args.seconds = 10
    failed = False
    for target in args.targets or list(TARGETS):
        figures = run_target(target, args.runs, args.seconds, args.merge)
        print(json.dumps(figures), flush=True)
        failed |= not figures["ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
