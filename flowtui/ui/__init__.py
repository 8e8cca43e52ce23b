"""The Textual user interface; the only package that imports Textual.

`run_app(paths)` is what `flowtui FILE [FILE...]` calls, `run_attach(address)` what
`flowtui attach ADDRESS` calls.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["run_app", "run_attach"]


def run_app(paths: list[Path]) -> int:
    """Open the captures at `paths` in the app; returns the exit status."""
    from flowtui.ui.app import make_app  # Textual loads only when the UI runs

    app = make_app(paths)
    result = app.run()
    return int(result or 0) if app.return_code is None else app.return_code


def run_attach(address: str, token_file: str | None = None, max_memory: int | None = None) -> int:
    """Attach the app to a live proxy's socket; returns the exit status.

    `max_memory` bounds the message content held (None: the default, see
    `flowtui.live.client.MAX_MEMORY`). Raises `ValueError` for a malformed address
    and `OSError`/`ValueError` for an unreadable or empty token file, before the UI
    starts.
    """
    from flowtui.ui.app import make_app
    from flowtui.ui.attach import read_token

    token = read_token(token_file) if token_file else None
    app = make_app([], attach=address, token=token, max_memory=max_memory)
    result = app.run()
    return int(result or 0) if app.return_code is None else app.return_code
