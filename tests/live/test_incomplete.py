"""Nothing silently lost: a stalled inspector whose flows the proxy forgot meanwhile
marks them incomplete, says how much is missing and where the proxy recorded them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from live_helpers import relay_setup, running_client, wait_until

from flowtui.live.notes import INCOMPLETE_KEY, incomplete_note
from flowtui.store import FlowStore
from flowtui.ui.attach import Attachment


async def _round_trip(listen: tuple[str, int], payload: bytes, times: int = 1) -> None:
    r, w = await asyncio.open_connection(*listen)
    for _ in range(times):
        w.write(payload)
        await asyncio.wait_for(r.readexactly(len(payload) + 5), 5)
    w.close()
    await w.wait_closed()


async def test_a_flow_forgotten_while_the_inspector_stalled_is_marked_incomplete(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "relay.flows"
    async with (
        relay_setup(tmp_path, retain_bytes=100_000, queue_limit=50_000, write_to=str(capture))
        as (relay, _echo, addr),
        running_client(addr) as client,
    ):  # fmt: skip
        r, w = await asyncio.open_connection(*relay.listen)
        w.write(b"a" * 100)
        await asyncio.wait_for(r.readexactly(105), 3)
        await wait_until(
            lambda: client.flows and len(next(iter(client.flows.values())).messages) == 2
        )
        first = next(iter(client.flows))
        assert client._writer is not None
        client._writer.transport.pause_reading()  # the inspector stalls
        for _ in range(100):  # 2 MB through the first flow: past the socket and the queue
            w.write(b"b" * 10_000)
            await asyncio.wait_for(r.readexactly(10_005), 5)
        w.close()
        await w.wait_closed()
        for _ in range(5):  # newer flows push the first one out of --retain
            await _round_trip(relay.listen, b"c" * 30_000)
        await wait_until(lambda: first in relay.live.forgotten)
        # It still owed the inspector messages of the forgotten flow: it resyncs instead.
        assert any(s.reset_pending or s.resets > 1 for s in relay.live._sessions)
        client._writer.transport.resume_reading()
        await wait_until(lambda: INCOMPLETE_KEY in client.flows[first].metadata, timeout=10)
        flow = client.flows[first]
        info = flow.metadata[INCOMPLETE_KEY]
        assert info["messages"] == 202 - len(flow.messages) > 0
        had = 100 + 105 + 100 * (10_000 + 10_005)  # what the proxy had of it
        assert info["bytes"] == had - sum(len(m.content) for m in flow.messages)
        note = incomplete_note(flow)
        assert note is not None and f"{info['messages']} messages" in note
        assert str(capture.resolve()) in note
        assert "incomplete" in client.status
        # `w` in attach mode warns before saving it
        attachment = Attachment(addr, FlowStore())
        attachment.client.record = client.record
        warning = attachment.incomplete_warning(client.flows.values())
        assert (
            warning is not None and "1 incomplete" in warning and str(capture.resolve()) in warning
        )
        assert (
            attachment.incomplete_warning([client.flows[f] for f in client.flows if f != first])
            is None
        )


async def test_w_in_attach_mode_warns_before_saving_an_incomplete_flow(tmp_path: Path) -> None:
    from flowtui.ui.app import make_app
    from flowtui.ui.screens.dialogs import SaveDialog

    capture = tmp_path / "relay.flows"
    async with relay_setup(tmp_path, write_to=str(capture)) as (relay, _echo, addr):
        app = make_app([], attach=addr, detail_delay=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await _round_trip(relay.listen, b"part")
            await wait_until(lambda: len(app.store) == 1, timeout=10)
            flow = app.store.view[-1]
            # as the client marks a flow the proxy dropped part of (see the test above)
            flow.metadata[INCOMPLETE_KEY] = {"messages": 3, "bytes": 300, "record": None}
            app._notifications.clear()
            await pilot.press("w", "a")
            assert isinstance(app.screen, SaveDialog)
            said = [str(n.message) for n in app._notifications]
            assert any("1 incomplete" in s and str(capture.resolve()) in s for s in said), said
