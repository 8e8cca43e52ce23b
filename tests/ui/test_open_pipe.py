"""Opening a pipe: a FIFO or a process substitution (`flowtui <(cat x.flows)`) is read as
a stream, spooled to a temporary file, listed and opened like a file; saving never
proposes to overwrite the pipe."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC
from pathlib import Path

import pytest
from textual.widgets import Input
from ui_support import ROOT, SAMPLE, screen_text

from flowtui.core import Flow
from flowtui.io import read_flows, save_flows
from flowtui.ui.app import make_app
from flowtui.ui.screens.dialogs import SaveDialog


def _fifo_fed_with(path: Path, data: bytes) -> threading.Thread:
    """A FIFO at `path` and a thread that writes `data` into it in small pieces."""
    os.mkfifo(path)

    def write() -> None:
        with path.open("wb") as f:  # opens once the reader has
            for at in range(0, len(data), 4096):
                f.write(data[at : at + 4096])
                f.flush()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
async def test_a_fifo_is_read_as_a_stream_and_its_flows_listed(tmp_path: Path, fmt: str) -> None:
    source = SAMPLE
    if fmt == "flowtui":
        source = tmp_path / "sample.flowtui"
        save_flows(source, read_flows(SAMPLE), format="flowtui")
    fifo = tmp_path / "pipe.flows"
    writer = _fifo_fed_with(fifo, source.read_bytes())
    app = make_app([fifo], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        writer.join(5)
        assert not app.problems, app.problems
        assert app.loaded == {str(fifo): 30} and app.session.formats[str(fifo)] == fmt
        expected = read_flows(source)
        assert [f.id for f in app.store.view] == [f.id for f in expected]
        # every record is read again from the spool, as from a file
        states = [e.get_state() if isinstance(e, Flow) else e.load().get_state()
                  for e in app.store.entries()]  # fmt: skip
        assert states == [f.get_state() for f in expected]
        assert "30/30" in screen_text(app) and "pipe.flows" in screen_text(app)
        # `w` asks for a path: it does not propose the pipe
        app.saving.ask()
        await pilot.pause()
        await pilot.press("a")
        assert isinstance(app.screen, SaveDialog)
        assert app.screen.query_one(Input).value not in (str(fifo), "")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_process_substitution_opens_in_the_ui(tmp_path: Path) -> None:
    """`flowtui <(cat x.flows)` in a real terminal (tmux): the flows are listed."""
    socket = f"flowtui-pipe-{os.getpid()}"
    python = shlex.quote(sys.executable)
    command = (
        f"cd {shlex.quote(str(ROOT))} && PYTHONPATH=. {python} -m flowtui "
        f"<(cat {shlex.quote(str(SAMPLE))}); echo flowtui-exit=$?; sleep 30"
    )
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "140", "-y", "40", "bash", "-c", command],
        check=True,
        timeout=10,
    )
    try:
        screen = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True, timeout=10
            ).stdout
            if "30/30" in screen or "flowtui-exit" in screen:
                break
            time.sleep(0.2)
        assert "no such file" not in screen
        assert "30/30" in screen, screen
        assert "/dev/fd/" in screen  # the title names what was given
    finally:
        subprocess.run([*tmux, "kill-server"], timeout=10, check=False)


async def test_a_pipe_that_pauses_shows_the_flows_before_the_pause(tmp_path: Path) -> None:
    flows = read_flows(SAMPLE)
    first, rest = tmp_path / "first.flows", tmp_path / "rest.flows"
    save_flows(first, flows[:10], format="mitmproxy")  # two captures back to back: one
    save_flows(rest, flows[10:], format="mitmproxy")
    fifo = tmp_path / "pipe.flows"
    os.mkfifo(fifo)
    go_on = threading.Event()

    def write() -> None:
        with fifo.open("wb") as f:
            f.write(first.read_bytes())
            f.flush()
            go_on.wait(30)  # the writer pauses, the pipe stays open
            f.write(rest.read_bytes())

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    app = make_app([fifo], tz=UTC, detail_delay=0)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(200):  # bounded: up to 10 s
                if len(app.store) == 10:
                    break
                await pilot.pause(0.05)
            assert len(app.store) == 10 and str(fifo) not in app.loaded  # still loading
            go_on.set()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.loaded == {str(fifo): 30} and not app.problems
            assert [f.id for f in app.store.view] == [f.id for f in flows]
    finally:
        go_on.set()
        writer.join(5)
