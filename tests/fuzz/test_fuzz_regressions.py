"""Every kept fuzz input (the minimised corpus and every crasher found) still runs cleanly.

The campaign itself is `make fuzz` / tests/fuzz/run.py; this replays its findings in the
normal suite so a fixed crash can never come back unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz.seeds import seeds
from fuzz.targets import CORPUS, CRASHERS, TARGETS


def _inputs() -> list[tuple[str, Path]]:
    found = []
    for root in (CRASHERS, CORPUS):
        for target in TARGETS:
            folder = root / target
            if folder.is_dir():
                found += [(target, p) for p in sorted(folder.iterdir()) if p.is_file()]
    return found


@pytest.mark.parametrize(
    ("target", "path"), _inputs(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_kept_input_is_handled(target: str, path: Path) -> None:
    """A crasher or corpus input either parses or fails with the reader's own error."""
    TARGETS[target](path.read_bytes())


@pytest.mark.parametrize("target", list(TARGETS))
def test_seeds_are_handled(target: str) -> None:
    """The real captures the campaign starts from pass through every target."""
    for data in seeds(target):
        TARGETS[target](data)


def test_every_target_has_a_corpus() -> None:
    """The campaign's minimised corpus is kept for every target (and stays small)."""
    total = 0
    for target in TARGETS:
        files = [p for p in (CORPUS / target).iterdir() if p.is_file()]
        assert files, f"no corpus for {target}"
        total += sum(p.stat().st_size for p in files)
    assert total < 8 << 20
