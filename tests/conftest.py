"""Shared test set-up: a colour-independent environment, capture paths, screen text.

NO_COLOR would change every snapshot, so it is removed before any app starts
(TEXTUAL_THEME cannot be fixed here; the app sets its theme in on_mount).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.pop("NO_COLOR", None)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "flowtui" / "sample" / "sample.flows"
"""The bundled real capture (30 flows)."""
FIXTURES = ROOT / "tests" / "data" / "mitmproxy-11"
"""Real mitmproxy 11 captures with ground truth."""


@pytest.fixture
def sample_path() -> Path:
    """The bundled sample capture."""
    return SAMPLE


@pytest.fixture
def fixtures_dir() -> Path:
    """The folder of real mitmproxy 11 captures."""
    return FIXTURES


def screen_text(app: Any, styles: bool = False) -> str:
    """The app's current screen as text (the route `export_screenshot` takes)."""
    from rich.console import Console

    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=styles)
