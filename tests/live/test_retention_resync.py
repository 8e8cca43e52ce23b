"""The proxy's memory stays bounded, and resynchronising an inspector never holds the relay."""

from __future__ import annotations

import asyncio
from pathlib import Path

from live_helpers import relay_setup, running_client, wait_until

import flowtui.live.server as server_module


async def _round_trip(listen: tuple[str, int], payload: bytes) -> None:
    r, w = await asyncio.open_connection(*listen)
    w.write(payload)
    await asyncio.wait_for(r.readexactly(len(payload) + 5), 3)
    w.close()
    await w.wait_closed()


async def test_completed_flows_beyond_the_budget_are_forgotten_by_the_proxy_only(
    tmp_path: Path,
) -> None:
    async with (
        relay_setup(tmp_path, retain_bytes=5000) as (relay, _echo, addr),
        running_client(addr) as early,
    ):
        for _ in range(10):  # each flow counts 500 + 505 message bytes + FLOW_OVERHEAD
            await _round_trip(relay.listen, b"x" * 500)
        await wait_until(
            lambda: len(early.flows) == 10 and not any(f.live for f in early.flows.values())
        )
        held = set(relay.live.flows)
        held_bytes = sum(len(m.content) for f in relay.live.flows.values() for m in f.messages)
        assert 2 <= len(held) <= 3
        assert held_bytes + len(held) * server_module.FLOW_OVERHEAD <= 5000
        assert held == set(list(early.flows)[-len(held) :]), "the newest flows are kept"
        async with running_client(addr) as late:
            await wait_until(lambda: set(late.flows) == held)
            assert all(len(f.messages) == 2 for f in late.flows.values())
        assert len(early.flows) == 10, "an inspector keeps every flow it was shown"


async def test_a_resync_is_encoded_frame_by_frame(tmp_path: Path, monkeypatch) -> None:
    """Encoding a whole backlog at once held the relay's loop for seconds (bench/soak.py)."""
    async with relay_setup(tmp_path) as (relay, _echo, _addr):
        for _ in range(20):
            await _round_trip(relay.listen, b"y" * 2000)
        await wait_until(lambda: len(relay.live.flows) == 20)
        encoded: list[str] = []
        real_encode = server_module.encode

        def counting_encode(message):  # type: ignore[no-untyped-def]
            encoded.append(message["type"])
            return real_encode(message)

        real_append = server_module.encode_append

        def counting_append(flow_id, messages):  # type: ignore[no-untyped-def]
            encoded.append("flows/append")
            return real_append(flow_id, messages)

        monkeypatch.setattr(server_module, "encode", counting_encode)
        monkeypatch.setattr(server_module, "encode_append", counting_append)
        frames = relay.live.reset_frames()
        assert encoded == [], "nothing is encoded before a frame is taken"
        first = next(frames)
        assert encoded == ["flows/reset"] and first
        rest = list(frames)
        assert encoded.count("flows/append") == 20 and len(rest) == 20
