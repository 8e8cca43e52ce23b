"""File names are shown safely too: they come from the command line, not from us."""

from __future__ import annotations

import os
import shutil
from datetime import UTC
from pathlib import Path

from ui_support import SAMPLE, screen_ansi, screen_text

from flowtui.ui.app import make_app


async def test_undecodable_and_hostile_file_names_open_and_show_escaped(tmp_path: Path) -> None:
    # b"\xff" is not UTF-8: Python hands it over as the lone surrogate "\udcff".
    raw_name = b"cap-\xff-\x1b]0;PWNED\x07.flows"
    target = tmp_path / os.fsdecode(raw_name)
    shutil.copyfile(SAMPLE, target)
    app = make_app([target], tz=UTC, detail_delay=0)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.store) == 30
        text = screen_text(app)
        assert "cap-\\udcff-\\x1b]0;PWNED\\x07.flows" in text
        ansi = screen_ansi(app)
        assert "\x1b]0;" not in ansi and "\udcff" not in ansi
