"""The list's TLS column shows what `~tls` matches: both versions when the sides differ.

In the real fixture `tls_alpn_chain.flows` a client negotiated TLS 1.2 with mitmproxy
while mitmproxy spoke TLS 1.3 upstream. The row used to read `TLSv1.3` although
`~tls 1.2` selected it.
"""

from __future__ import annotations

import re
from datetime import UTC

from ui_support import FIXTURES, screen_text

from flowtui.io import read_flows
from flowtui.ui.app import FlowtuiApp, make_app

CAPTURE = FIXTURES / "tls_alpn_chain.flows"
ROW = re.compile(r"^\s*\d+\s+\d\d:\d\d:\d\d\.\d{3} ")


def _rows(app: FlowtuiApp) -> list[str]:
    """The flow list's rows on screen (index, then start time)."""
    return [line for line in screen_text(app).splitlines() if ROW.match(line)]


async def test_rows_show_both_versions_when_the_sides_differ_and_one_when_they_agree() -> None:
    sides = [(f.client_conn.tls_version, f.server_conn.tls_version) for f in read_flows(CAPTURE)]
    assert ("TLSv1.2", "TLSv1.3") in sides and ("TLSv1.3", "TLSv1.3") in sides
    app = make_app([CAPTURE], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        rows = _rows(app)
        assert len(rows) == len(sides)
        for row, (client, server) in zip(rows, sides, strict=True):
            if client == server:
                assert "TLSv1.3" in row and "1.2/" not in row, row
            else:
                assert " 1.2/1.3 " in row, row


async def test_the_row_a_version_filter_selects_shows_that_version() -> None:
    app = make_app([CAPTURE], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("f", *"~tls 1.2", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.filter_text == "~tls 1.2"
        rows = _rows(app)
        assert len(rows) == len(app.store.view) == 1
        assert "1.2" in rows[0], rows
