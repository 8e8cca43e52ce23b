"""Shared test set-up: a colour-independent environment and capture-path fixtures.

NO_COLOR would change every snapshot, so it is removed before any app starts
(TEXTUAL_THEME cannot be fixed here; the app sets its theme in on_mount).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.pop("NO_COLOR", None)

from ui_support import FIXTURES, SAMPLE


@pytest.fixture
def sample_path() -> Path:
    """The bundled sample capture."""
    return SAMPLE


@pytest.fixture
def fixtures_dir() -> Path:
    """The folder of real mitmproxy 11 captures."""
    return FIXTURES
