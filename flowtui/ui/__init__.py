"""The Textual user interface; the only package that imports Textual.

`run_app(paths)` is what `flowtui FILE [FILE...]` calls.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["run_app"]


def run_app(paths: list[Path]) -> int:
    """Open the captures at `paths` in the app; returns the exit status."""
    from flowtui.ui.app import make_app  # Textual loads only when the UI runs

    app = make_app(paths)
    result = app.run()
    return int(result or 0) if app.return_code is None else app.return_code
