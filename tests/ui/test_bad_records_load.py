"""The UI opens captures with odd records (issue #11, items 3-5, 22): NaN and infinite
timestamps (in a mitmproxy capture and in a flowtui stored summary), a wrong-typed field,
DNS questions that are not a list, a boolean mark. Every flow is listed, none stops the
loading, and each can be selected and shown."""

from __future__ import annotations

import io
import math
from datetime import UTC
from pathlib import Path
from typing import Any

from ui_support import FIXTURES, screen_text

from flowtui.io import read_flows, tnetstring
from flowtui.io.native_format import NativeStateWriter
from flowtui.io.summary import INDEX_FIELDS, index_entry, summarize_state
from flowtui.ui.app import make_app

MIXED = FIXTURES / "mixed_protocols.flows"
OTHERS = ("echo_basic.flows", "errors.flows", "kill_intercept_mark.flows")
"""12 flows with other ids than MIXED's (flows of the same id would be merged)."""


def _odd_capture(path: Path) -> Path:
    with MIXED.open("rb") as f:
        from flowtui.io import FlowReader

        states = [tnetstring.loads(r.payload) for r in FlowReader(f).records()]
    states[1]["server_conn"]["timestamp_end"] = math.nan
    states[1]["messages"][-1][2] = math.inf
    states[3]["request"]["questions"] = 5
    states[5]["client_conn"]["tls_version"] = []
    states[10]["marked"] = True
    path.write_bytes(b"".join(tnetstring.dumps(s) for s in states))
    return path


def _odd_stored_summaries(path: Path) -> Path:
    """A flowtui capture whose stored summaries hold NaN and infinite times."""
    out = io.BytesIO()
    writer = NativeStateWriter(out, meta={})
    flows = [f for name in OTHERS for f in read_flows(FIXTURES / name)]
    for n, flow in enumerate(flows):
        state = flow.get_state()
        summary: dict[str, Any] = summarize_state(state)
        entry = index_entry(flow)
        assert entry is not None
        if n % 3 == 0:
            entry[1 + INDEX_FIELDS.index("duration")] = math.nan
        elif n % 3 == 1:
            entry[1 + INDEX_FIELDS.index("duration")] = -math.inf
            entry[1 + INDEX_FIELDS.index("start")] = math.inf
        summary["ix"] = entry
        writer.add_state(state, summary)
    path.write_bytes(out.getvalue())
    return path


async def test_every_flow_of_odd_captures_is_listed_and_shown(tmp_path: Path) -> None:
    odd = _odd_capture(tmp_path / "odd.flows")
    stored = _odd_stored_summaries(tmp_path / "odd.capture")
    app = make_app([odd, stored], tz=UTC, detail_delay=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.loaded == {str(odd): 12, str(stored): 12}
        assert not app.problems
        text = screen_text(app)
        assert "?" in text and "unreadable" in text
        assert len(app.store) == 24
        assert "●" in text  # the boolean mark
        for _ in range(24):  # select every row: the info line and the panes render it
            await pilot.press("down")
            await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.main.query_one("FlowList").cursor == 23
        assert app.is_running
