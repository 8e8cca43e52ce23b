"""`flowtui attach` holds a bounded amount of message content, whatever the proxy sends.

A rogue proxy on 127.0.0.1 sends more content than the inspector's budget; the mirror
stays within it, the oldest flow is cut from its end (what is kept is its first
messages, exactly as sent), and the cut flow says how much it lost, in its metadata
and on screen.
"""

from __future__ import annotations

import asyncio
import copy
import os
from datetime import UTC
from typing import Any

from live_helpers import RogueProxy, tcp_flow_state, wait_until
from ui_support import FIXTURES, screen_text

from flowtui.core import HTTPFlow, TCPFlow
from flowtui.io import read_flows
from flowtui.live.budget import CUT_KEY, MESSAGE_COST, cut_note
from flowtui.live.client import LiveClient
from flowtui.live.protocol import encode
from flowtui.ui.app import make_app
from flowtui.ui.widgets.flow_info import FlowInfo

CHUNK = 64 * 1024


def _flow_frames(flow_id: str, port: int, chunks: list[bytes]) -> list[bytes]:
    state = {**tcp_flow_state(port), "id": flow_id}
    frames = [encode({"type": "flows/add", "flow": state})]
    for i in range(0, len(chunks), 4):  # a few messages per append frame
        batch = [[True, c, 1.0 + i] for c in chunks[i : i + 4]]
        frames.append(encode({"type": "flows/append", "id": flow_id, "messages": batch}))
    return frames


def _held(client: LiveClient) -> int:
    """What the mirror really holds, counted from its flows (not the client's counter)."""
    total = 0
    for flow in client.flows.values():
        if isinstance(flow, TCPFlow):
            total += sum(len(m.content) + MESSAGE_COST for m in flow.messages)
    return total


async def test_a_rogue_proxy_cannot_grow_the_inspector_past_its_budget() -> None:
    limit = 1024 * 1024
    old_chunks = [os.urandom(CHUNK) for _ in range(40)]  # 2.6 MB
    new_chunks = [os.urandom(CHUNK) for _ in range(6)]  # 0.4 MB
    frames = [encode({"type": "flows/reset", "flows": []})]
    frames += _flow_frames("old", 1, old_chunks) + _flow_frames("new", 2, new_chunks)
    rogue = RogueProxy(frames)
    await rogue.start()
    client = LiveClient(f"tcp://127.0.0.1:{rogue.port}", token="t", max_memory=limit)
    events: list[Any] = []
    client.on_event = events.append
    task = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(rogue.sent.wait(), 10)
        new_sent = sum(map(len, new_chunks))
        await wait_until(
            lambda: (
                "new" in client.flows
                and client.flows["new"].metadata.get(CUT_KEY) is None
                and sum(len(m.content) for m in client.flows["new"].messages) == new_sent
            ),
            timeout=10,
        )
        assert client.held == _held(client) <= limit
        old = client.flows["old"]
        assert isinstance(old, TCPFlow)
        kept = [m.content for m in old.messages]
        assert kept == old_chunks[: len(kept)] and len(kept) < len(old_chunks)  # its head
        cut = old.metadata[CUT_KEY]
        assert cut == {"received": sum(map(len, old_chunks)), "kept": sum(map(len, kept))}
    finally:
        client.stop()
        await asyncio.wait_for(task, 5)
        await rogue.stop()


async def test_the_cut_shows_on_the_flow_in_the_ui() -> None:
    chunks = [os.urandom(CHUNK) for _ in range(32)]  # 2.1 MB into a 512 kB budget
    frames = [encode({"type": "flows/reset", "flows": []}), *_flow_frames("big", 1, chunks)]
    rogue = RogueProxy(frames)
    await rogue.start()
    app = make_app(
        [], attach=f"tcp://127.0.0.1:{rogue.port}", token="t", tz=UTC, detail_delay=0,
        max_memory=512 * 1024,
    )  # fmt: skip
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await asyncio.wait_for(rogue.sent.wait(), 10)
            assert app.attachment is not None
            client = app.attachment.client

            def received() -> int:
                flow = client.flows.get("big")
                return flow.metadata.get(CUT_KEY, {}).get("received", 0) if flow else 0

            await wait_until(lambda: received() == 32 * CHUNK)
            assert client.held <= 512 * 1024
            await pilot.pause()
            info = app.screen.query_one(FlowInfo)
            text = info.describe(app.store.get("big")).plain
            kept = client.flows["big"].metadata[CUT_KEY]["kept"]
            note = f"cut: {(32 * CHUNK - kept) / 1e6:.1f} MB of 2.1 MB not kept"
            assert note in text, text
            await pilot.press("home")  # the flow under the cursor: its info line says so
            await wait_until(lambda: note in screen_text(app))
    finally:
        await rogue.stop()


async def test_http_bodies_and_websocket_messages_count_and_are_cut_from_the_end() -> None:
    flows = {f.id: f for f in read_flows(FIXTURES / "mixed_protocols.flows")}
    http = flows["bbc23fbd-ddea-45ec-8153-51c13de6d223"].get_state()
    http["request"]["content"] = b"q" * 300_000
    http["response"]["content"] = b"r" * 1_500_000
    ws = flows["c57f0c19-9f99-469f-b167-daa7ea8bead8"].get_state()
    first_ws = copy.deepcopy(ws["websocket"])
    grown = copy.deepcopy(ws["websocket"])
    template = grown["messages"][0]
    grown["messages"] = [[template[0], True, bytes([i]) * CHUNK, *template[3:]] for i in range(10)]
    frames = [
        encode({"type": "flows/reset", "flows": [{**http, "live": False}]}),
        encode({"type": "flows/add", "flow": {**ws, "websocket": first_ws, "live": True}}),
        encode({"type": "flows/update", "id": ws["id"], "changes": {"websocket": grown}}),
    ]
    rogue = RogueProxy(frames)
    await rogue.start()
    client = LiveClient(f"tcp://127.0.0.1:{rogue.port}", token="t", max_memory=1024 * 1024)
    task = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(rogue.sent.wait(), 10)

        def ws_messages() -> list[Any]:
            flow = client.flows.get(ws["id"])
            if isinstance(flow, HTTPFlow) and flow.websocket is not None:
                return flow.websocket.messages
            return []

        await wait_until(lambda: len(ws_messages()) == 10, timeout=10)
        assert client.held <= 1024 * 1024
        # the oldest flow (the HTTP one) went first, from its end: the response body
        old = client.flows[http["id"]]
        assert isinstance(old, HTTPFlow)
        assert old.response is not None and old.response.raw_content is None
        assert old.request.raw_content == b"q" * 300_000
        assert old.metadata[CUT_KEY] == {"received": 1_800_000, "kept": 300_000}
        assert cut_note(old) == "cut: 1.5 MB of 1.8 MB not kept"
    finally:
        client.stop()
        await asyncio.wait_for(task, 5)
        await rogue.stop()


async def test_websocket_messages_past_the_budget_are_cut_from_the_last() -> None:
    flows = {f.id: f for f in read_flows(FIXTURES / "mixed_protocols.flows")}
    ws = flows["c57f0c19-9f99-469f-b167-daa7ea8bead8"].get_state()
    grown = copy.deepcopy(ws["websocket"])
    template = grown["messages"][0]
    sent = [bytes([i]) * CHUNK for i in range(20)]  # 1.3 MB into a 1 MiB budget
    grown["messages"] = [[template[0], True, c, *template[3:]] for c in sent]
    frames = [
        encode({"type": "flows/reset", "flows": [{**ws, "live": True}]}),
        encode({"type": "flows/update", "id": ws["id"], "changes": {"websocket": grown}}),
    ]
    rogue = RogueProxy(frames)
    await rogue.start()
    client = LiveClient(f"tcp://127.0.0.1:{rogue.port}", token="t", max_memory=1024 * 1024)
    task = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(rogue.sent.wait(), 10)

        def flow() -> HTTPFlow | None:
            f = client.flows.get(ws["id"])
            return f if isinstance(f, HTTPFlow) and CUT_KEY in f.metadata else None

        cut = await wait_until(flow, timeout=10)
        assert cut.websocket is not None
        kept = [m.content for m in cut.websocket.messages]
        assert kept == sent[: len(kept)] and 0 < len(kept) < len(sent)
        assert client.held <= 1024 * 1024
        assert cut.metadata[CUT_KEY] == {"received": 20 * CHUNK, "kept": len(kept) * CHUNK}
    finally:
        client.stop()
        await asyncio.wait_for(task, 5)
        await rogue.stop()
