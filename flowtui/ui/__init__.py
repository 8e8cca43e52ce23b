"""The Textual user interface; the only package that imports Textual.

`run_app(paths)` is what `flowtui FILE [FILE...]` calls, `run_attach(address)` what
`flowtui attach ADDRESS` calls, `run_config()` what `flowtui config` calls. The first
two read the config file and report its problems on stderr before the UI starts (and
again as notifications in it); the app still starts, on defaults where the file is
wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from flowtui.config import Config

__all__ = ["run_app", "run_attach", "run_config"]


def _config(path: Path | None) -> Config:
    """The user's config (`path`, else the default location), its problems on stderr."""
    from textual.theme import BUILTIN_THEMES

    from flowtui.config import load_config
    from flowtui.ui.commands import BY_ID

    config, problems = load_config(
        path, command_ids=BY_ID, themes=BUILTIN_THEMES, required=path is not None
    )
    for problem in problems:
        print(f"flowtui: config: {problem} (the default is used)", file=sys.stderr)
    return config


def run_app(paths: list[Path], config_path: Path | None = None) -> int:
    """Open the captures at `paths` in the app; returns the exit status."""
    from flowtui.ui.app import make_app  # Textual loads only when the UI runs

    app = make_app(paths, config=_config(config_path))
    result = app.run()
    return int(result or 0) if app.return_code is None else app.return_code


def run_attach(
    address: str,
    token_file: str | None = None,
    max_memory: int | None = None,
    config_path: Path | None = None,
) -> int:
    """Attach the app to a live proxy's socket; returns the exit status.

    `max_memory` bounds the message content held (None: the config's, else the
    default, see `flowtui.live.client.MAX_MEMORY`). Raises `ValueError` for a malformed
    address and `OSError`/`ValueError` for an unreadable or empty token file, before
    the UI starts.
    """
    from flowtui.ui.app import make_app
    from flowtui.ui.attach import read_token

    token = read_token(token_file) if token_file else None
    config = _config(config_path)
    app = make_app([], attach=address, token=token, max_memory=max_memory, config=config)
    result = app.run()
    return int(result or 0) if app.return_code is None else app.return_code


def run_config(path: Path | None = None, default: bool = False, out: TextIO | None = None) -> int:
    """``flowtui config``: the file's path and the effective settings (its problems on
    stderr, status 1 if any); with `default`, a commented default file."""
    from textual.theme import BUILTIN_THEMES

    from flowtui.config import config_path, default_text, effective_text, load_config
    from flowtui.ui.commands import BY_ID, COMMANDS

    out = out or sys.stdout
    if default:
        rows = [(c.id, c.keys, c.title) for c in COMMANDS if c.keys]
        out.write(default_text(rows))
        return 0
    where = config_path() if path is None else path
    config, problems = load_config(
        where, command_ids=BY_ID, themes=BUILTIN_THEMES, required=path is not None
    )
    exists = "" if where.exists() else " (none: defaults)"
    out.write(f"# config file: {where}{exists}\n")
    out.write(effective_text(config))
    for problem in problems:
        print(f"flowtui: config: {problem} (the default is used)", file=sys.stderr)
    return 1 if problems else 0
