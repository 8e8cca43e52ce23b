"""The headless packages never load Textual (STYLE.md point 1): checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "modules",
    [
        ["flowtui.core"],
        ["flowtui.io"],
        ["flowtui.store"],
        ["flowtui.core", "flowtui.io", "flowtui.store", "flowtui.cli"],
    ],
)
def test_headless_modules_do_not_import_textual(modules: list[str]) -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"{modules} imported Textual modules: {out}"


def test_ui_package_import_is_light() -> None:
    """`import flowtui.ui` (what the CLI does) loads Textual only when the app runs."""
    code = "import sys, flowtui.ui; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
