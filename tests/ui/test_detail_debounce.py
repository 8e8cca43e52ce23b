"""The detail panes follow a cursor that was at rest at once, and during a burst of keys
only once it rests again: moving over flows neither decodes them nor redraws the panes
(a held key costs only the list's changed lines)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from ui_support import SAMPLE

from flowtui.io.lazy import RecordRef
from flowtui.ui.app import make_app
from flowtui.ui.widgets.flow_list import FlowList
from flowtui.ui.widgets.message_view import MessageView

REST = 1.0
"""A rest longer than the keys of a test take (they take milliseconds)."""


def _spy_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record which records get decoded (the real decoding still runs)."""
    loaded: list[int] = []
    original = RecordRef.load

    def load(self: RecordRef) -> Any:
        loaded.append(self.index)
        return original(self)

    monkeypatch.setattr(RecordRef, "load", load)
    return loaded


async def test_a_burst_of_moves_decodes_only_its_first_flow_until_it_rests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app([SAMPLE], tz=UTC, detail_delay=REST)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(REST + 0.1)  # at rest since the first flow was shown
        flows = app.query_one(FlowList)
        flows.focus()
        loaded = _spy_loads(monkeypatch)
        for _ in range(5):
            await pilot.press("down")
        await pilot.pause()
        assert flows.cursor == 5
        assert loaded == [1]  # the first move was shown at once, the others passed over
        shown = app.query_one(MessageView).flow
        assert shown is not None and shown.id == app.store.view.id_at(1)


async def test_a_single_key_shows_its_flow_at_once() -> None:
    app = make_app([SAMPLE], tz=UTC, detail_delay=REST)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(REST + 0.1)  # at rest since the first flow was shown
        app.query_one(FlowList).focus()
        await pilot.press("end")
        await pilot.pause()
        shown = app.query_one(MessageView).flow
        assert shown is not None and shown.id == app.store.view.id_at(len(app.store.view) - 1)


async def test_the_panes_show_the_flow_the_cursor_rests_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Whether the flows passed over were shown depends on the key rate: not asserted.
    app = make_app([SAMPLE], tz=UTC, detail_delay=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        flows = app.query_one(FlowList)
        flows.focus()
        loaded = _spy_loads(monkeypatch)
        for _ in range(5):
            await pilot.press("down")
        target = app.store.view.id_at(5)
        view = app.query_one(MessageView)
        for _ in range(200):  # bounded: the panes follow after 50 ms
            if view.flow is not None and view.flow.id == target:
                break
            await pilot.pause(0.02)
        assert view.flow is not None and view.flow.id == target
        assert 5 in loaded  # decoded when the cursor rested on it
