"""The client's reconnect back-off against a real Unix socket path with nobody listening."""

from __future__ import annotations

import asyncio
from pathlib import Path

from live_helpers import wait_until

from flowtui.live.client import LiveClient, LiveEvent


async def test_backoff_doubles_up_to_its_limit_and_follows_changes(tmp_path: Path) -> None:
    events: list[LiveEvent] = []
    client = LiveClient(
        f"unix:{tmp_path / 'nobody.sock'}", on_event=events.append, backoff=(0.01, 0.04)
    )
    task = asyncio.create_task(client.run())
    try:
        await wait_until(lambda: sum("retrying" in e.status for e in events) >= 5)
        client.backoff = (30.0, 30.0)  # applies to the next retry
        await wait_until(lambda: events[-1].status.endswith("retrying in 30s"))
    finally:
        client.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    delays = [e.status.rsplit(" ", 1)[1] for e in events if "retrying" in e.status]
    assert delays[:5] == ["0.01s", "0.02s", "0.04s", "0.04s", "0.04s"]
    assert all(e.status.startswith("lost: ") for e in events if "retrying" in e.status)
