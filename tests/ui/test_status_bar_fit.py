"""The status bar with several files open, and the palette's Screenshot command.

With several captures open the counts and the load state must stay on the status line
(the file names give way), and a screenshot is saved where the user says, with a clear
error when it cannot be (Textual's own command fails when `~/Downloads` is missing).
"""

from __future__ import annotations

import shutil
from datetime import UTC
from pathlib import Path

import pytest
from ui_support import FIXTURES, screen_text

from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.screens.screenshot import ScreenshotDialog
from flowtui.ui.widgets.status_bar import fit_names


def _copies(tmp_path: Path, count: int) -> list[Path]:
    """`count` different real captures under a long directory name."""
    deep = tmp_path / ("captures-from-the-nightly-regression-run-" * 2)
    deep.mkdir()
    names = sorted(FIXTURES.glob("*.flows"))[:count]
    assert len(names) == count
    return [Path(shutil.copy(n, deep / n.name)) for n in names]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_several_files_keep_the_counts_and_load_state_on_the_line(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    paths = _copies(tmp_path, 4)
    app: FlowtuiApp = make_app(paths, tz=UTC, detail_delay=0)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        total = len(app.store)
        line = screen_text(app).splitlines()[size[1] - 2]
        assert f"{total}/{total} shown" in line, line
        assert "loaded" in line, line
        assert paths[0].name[:8] in line, line


def test_fit_names_prefers_paths_then_names_then_a_count() -> None:
    files = ("/a/long/dir/one.flows", "/a/long/dir/two.flows", "/x/three.flows")
    assert fit_names(files, 200) == ", ".join(files)
    assert fit_names(files, 40) == "one.flows, two.flows, three.flows"
    assert fit_names(files, 20) == "one.flows +2 more"
    cut = fit_names(("/d/" + "n" * 50 + ".flows",), 20)
    assert cut.startswith("nnnn") and cut.endswith("…") and len(cut) == 20
    assert fit_names((), 10) == "no file"
    # A name full of escapes is shown escaped, whatever the room.
    assert "\x1b" not in fit_names(("/tmp/\x1b]0;x\x07.flows",), 5)


async def test_palette_screenshot_asks_for_a_path_and_saves_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    monkeypatch.chdir(tmp_path)
    app: FlowtuiApp = make_app([FIXTURES / "echo_basic.flows"], tz=UTC, detail_delay=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"screenshot")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ScreenshotDialog)
        field = app.screen.query_one("#screenshot-path")
        assert str(tmp_path) in str(field.value)  # type: ignore[attr-defined]
        target = tmp_path / "shots" / "missing-dir" / "list.svg"
        field.value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause(0.3)
        notes = [str(n.message) for n in app._notifications]
        assert any("Screenshot not saved" in n and "list.svg" in n for n in notes), notes
        assert not target.exists()

        await app.run_action("screenshot_to")
        await pilot.pause()
        good = tmp_path / "list"
        app.screen.query_one("#screenshot-path").value = str(good)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause(0.3)
        saved = tmp_path / "list.svg"
        assert saved.read_text(encoding="utf-8").lstrip().startswith("<svg")
        assert "echo_basic.flows" in saved.read_text(encoding="utf-8")
