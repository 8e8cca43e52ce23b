"""Appends cost O(1) per message end to end: a live flow growing by thousands of
messages, shown in the attached app, has each message's rows built once (no rebuild of
the flow per message), its summary counted from the new messages only, and the store
updated once per frame however many events arrived. Functional counts, no timing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from live_helpers import relay_setup, wait_until

import flowtui.store.flow_store as flow_store_module
from flowtui.core import Client, Server, TCPFlow, TCPMessage
from flowtui.live.client import LiveEvent
from flowtui.store import FlowStore
from flowtui.ui.app import make_app
from flowtui.ui.attach import FRAME, Attachment
from flowtui.ui.message_document import MessageDocument
from flowtui.ui.widgets.message_view import MessageView
from flowtui.ui.widgets.row_builder import RowBuilder

MESSAGES = 10_000


def _flow() -> TCPFlow:
    client = Client(peername=("127.0.0.1", 1), sockname=("127.0.0.1", 2), timestamp_start=1.0)
    return TCPFlow(client, Server(address=("127.0.0.1", 3)), live=True)


async def test_a_flow_growing_by_10000_messages_appends_rows_without_rebuilding(
    tmp_path: Path, monkeypatch
) -> None:
    built: list[int] = []
    rebuilds: list[int] = []
    full_summaries: list[str] = []
    real_extend, real_rebuild = RowBuilder.extend, MessageDocument.rebuild
    real_summarize = flow_store_module.summarize

    def extend(self, count):  # type: ignore[no-untyped-def]
        before = self.built
        result = real_extend(self, count)
        built.append(self.built - before)
        return result

    def rebuild(self, *a, **kw):  # type: ignore[no-untyped-def]
        rebuilds.append(len(self.flow.messages) if isinstance(self.flow, TCPFlow) else -1)
        return real_rebuild(self, *a, **kw)

    def summarize(flow, totals=None):  # type: ignore[no-untyped-def]
        if isinstance(flow, TCPFlow) and totals is None:
            full_summaries.append(flow.id)
        return real_summarize(flow) if totals is None else real_summarize(flow, totals)

    monkeypatch.setattr(RowBuilder, "extend", extend)
    monkeypatch.setattr(MessageDocument, "rebuild", rebuild)
    monkeypatch.setattr(flow_store_module, "summarize", summarize)

    async with relay_setup(tmp_path) as (relay, _echo, addr):
        app = make_app([], attach=addr, detail_delay=0)
        async with app.run_test(size=(120, 40)):
            r, w = await asyncio.open_connection(*relay.listen)
            w.write(b"first")
            await asyncio.wait_for(r.readexactly(10), 5)
            await wait_until(lambda: len(app.store) == 1, timeout=10)
            view = app.screen_stack[0].query_one(MessageView)
            await wait_until(lambda: view.document.counts.counted == 2, timeout=10)
            rebuilds_before = len(rebuilds)
            for i in range(1, MESSAGES // 2):  # a round trip each: one message each way
                payload = b"m%05d" % i
                w.write(payload)
                await asyncio.wait_for(r.readexactly(len(payload) + 5), 5)
            w.transport.abort()
            flow = app.store.view[-1]
            assert isinstance(flow, TCPFlow)
            await wait_until(lambda: view.document.counts.counted == MESSAGES, timeout=30)
            await wait_until(lambda: view.document.complete, timeout=10)
            assert len(flow.messages) == MESSAGES
            assert len(view.rows) >= MESSAGES
            # every message's rows were built exactly once: appended, never rebuilt
            assert sum(built) == MESSAGES
            assert rebuilds[rebuilds_before:] == []
            # its summary counted all messages only when first added/updated
            assert full_summaries.count(flow.id) <= 2
            summary = app.store.summary(flow)
            assert summary.messages == MESSAGES
            assert summary.bytes_up == sum(len(m.content) for m in flow.messages if m.from_client)
            assert summary.bytes_down == sum(
                len(m.content) for m in flow.messages if not m.from_client
            )


async def test_events_in_one_frame_make_one_store_update_per_flow() -> None:
    store = FlowStore()
    updates: list[str] = []
    store.subscribe(lambda e: updates.extend(f.id for f in e.flows) if e.kind == "update" else None)
    attachment = Attachment("unix:/nonexistent.sock", store)
    a, b = _flow(), _flow()
    attachment.apply(LiveEvent("add", (a, b)))
    await asyncio.sleep(FRAME * 3)
    assert len(store) == 2 and attachment.flushes == 1
    for i in range(1000):  # a flood: a thousand appends to a, one to b, in one frame
        a.messages.append(TCPMessage(True, b"x%d" % i))
        attachment.apply(LiveEvent("update", (a,)))
    attachment.apply(LiveEvent("update", (b,)))
    assert updates == []  # held for the frame
    await asyncio.sleep(FRAME * 3)
    assert sorted(updates) == sorted([a.id, b.id])
    assert attachment.flushes == 2
    assert store.summary(a).messages == len(a.messages)
    attachment.apply(LiveEvent("remove", flow_id=b.id))
    attachment.flush()
    assert b.id not in store and len(store) == 1
