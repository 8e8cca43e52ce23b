"""Hostile captured text in the running app: nothing parsed as markup, no escapes out,
no action triggered (a `[@click=app.quit]` comment is clicked and the app keeps running)."""

from __future__ import annotations

from datetime import UTC

from textual.widgets import TabbedContent
from ui.factories import hostile_flow
from ui_support import screen_text

from flowtui.store import FlowStore
from flowtui.ui.app import make_app


async def test_hostile_flow_renders_as_visible_escapes() -> None:
    store = FlowStore()
    store.add([hostile_flow()])
    app = make_app([], tz=UTC, detail_delay=0, store=store)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        for tab in ("tab-messages", "tab-connection"):
            app.main.query_one(TabbedContent).active = tab
            await pilot.pause()
            text = screen_text(app)
            assert "\x1b" not in text and "\x00" not in text and "\r" not in text
            assert "[@click=app.quit]" in text
            assert "\\x1b" in text
        # Click every cell of the flow-info line holding the comment: nothing may run.
        info = app.main.query_one("#flow-info")
        for x in range(0, info.size.width, 3):
            for y in range(info.size.height):
                await pilot.click(info, offset=(x, y))
        assert app.is_running
        ansi = screen_text(app, styles=True)
        assert "\x1b]52" not in ansi and "\x1b[2J" not in ansi
