"""Write SVG screenshots of the main states into screenshots/, over the bundled sample
(and the HTTP inspector over captures recorded with mitmdump, tests/data/mitmproxy-11).

Drives the real app (built by `make_app`, as the CLI and the tests do) with `run_test`
and `save_screenshot`, not `textual run --press` (which drops keys). Times in UTC and a
fixed clock, so the pictures only change when the UI does.

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.widgets import TabbedContent  # noqa: E402

from flowtui.ui.app import make_app  # noqa: E402

SAMPLE = Path("flowtui/sample/sample.flows")
OUT = ROOT / "screenshots"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

# name -> (row to select, tab to show, keys to press)
SHOTS: dict[str, tuple[int, str | None, tuple[str, ...]]] = {
    "01-flow-list": (0, None, ()),
    "02-tls-certificates": (0, "tab-connection", ("enter",)),
    "03-hex-view": (4, None, ("enter", "h", "h")),
    "04-intercepted-flow": (12, None, ()),
    "05-killed-flow": (9, "tab-connection", ()),
    "06-comment-dialog": (4, None, ("semicolon",)),
    "07-filter": (0, None, ("f", *"~marked", "enter")),
    "08-help": (0, None, ("question_mark",)),
    "09-http-flow": (11, None, ()),
    "10-http-mixed-list": (7, None, ()),
    "11-websocket": (14, None, ("enter",)),
}
CAPTURES: dict[str, Path] = {
    "09-http-flow": Path("tests/data/mitmproxy-11/http_bodies.flows"),
    "10-http-mixed-list": Path("tests/data/mitmproxy-11/mixed_protocols.flows"),
    "11-websocket": Path("tests/data/mitmproxy-11/http_bodies.flows"),
}
"""Shots over another capture than the sample."""
FROM_SNAPSHOTS: dict[str, Path] = {
    "12-held-messages": Path("tests/ui/__snapshots__/test_held_snapshots")
    / "test_held_messages_in_the_viewer.svg",
    "13-replay": Path("tests/ui/__snapshots__/test_steer_snapshots")
    / "test_replay_next_to_its_original.svg",
}
"""Live states, taken from the snapshot tests that drive the real app attached to a real
`LiveServer` with fixed flows (`make test` keeps them current; run this after it)."""


async def shoot(name: str, row: int, tab: str | None, keys: tuple[str, ...]) -> Path:
    capture = CAPTURES.get(name, SAMPLE)
    app = make_app([capture], now=lambda: NOW, tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("home", *["down"] * row)
        if tab:
            app.screen.query_one(TabbedContent).active = tab
            await pilot.pause()
        await app.workers.wait_for_complete()
        if keys:
            await pilot.press(*keys)
        await app.workers.wait_for_complete()
        await pilot.pause()
        return Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT)))


async def main() -> None:
    os.chdir(ROOT)
    OUT.mkdir(exist_ok=True)
    for name, (row, tab, keys) in SHOTS.items():
        print(await shoot(name, row, tab, keys))
    for name, snapshot in FROM_SNAPSHOTS.items():
        target = OUT / f"{name}.svg"
        target.write_bytes(snapshot.read_bytes())
        print(target)


if __name__ == "__main__":
    asyncio.run(main())
