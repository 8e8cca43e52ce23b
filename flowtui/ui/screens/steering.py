"""Steering a proxy from the main screen: the live intercept filter (`I`), the
replay of a finished TCP flow (`r`) and fetching a flow from the proxy's recording
(`R`, see `fetching`). Kept out of `MainScreen` so that screen only
composes and routes; the commands reach these through `action_steer(name, ...)`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from flowtui.core import Flow, TCPFlow
from flowtui.live.client import CommandError
from flowtui.live.replay import ReplayError, ReplayOptions, replay_tcp, replayable
from flowtui.ui.screens.fetching import Fetching
from flowtui.ui.screens.prompts import InputDialog
from flowtui.ui.session import plural
from flowtui.ui.steer import (
    intercept_label,
    intercept_problem,
    join_intercept,
    split_intercept,
)

if TYPE_CHECKING:
    from flowtui.ui.screens.main import MainScreen

__all__ = ["SteerAction", "Steering"]

SteerAction = Literal["intercept_filter", "replay", "fetch", "fetch_all"]
"""What `MainScreen.action_steer` runs."""


class Steering:
    """The steering commands of one main screen."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        """The screen whose app, store and status bar these use."""
        self.fetching = Fetching(screen)
        """`R`: an incomplete flow's missing part, from the proxy's recording."""

    def fetch(self) -> None:
        """`R`: read the focused incomplete (or cut) flow whole from the recording."""
        self.fetching.fetch()

    def fetch_all(self) -> None:
        """Read every incomplete (or cut) finished flow whole from the recording."""
        self.fetching.fetch_all()

    def intercept_filter(self) -> None:
        """`I`: set or clear (empty) the live proxy's intercept filter."""
        live = self.screen.ft.attachment
        if live is None:
            self.screen.say("The intercept filter steers a live proxy (flowtui attach).", "warning")
            return
        current = live.client.intercept_filter
        hint = (
            "a filter (~tcp & ~b login); client: or server: holds one direction only · "
            "empty clears · escape cancel"
        )

        def done(text: str | None) -> None:
            if text is not None:
                self.screen.run_worker(
                    self.send_intercept_filter(text), group="command", name="intercept filter"
                )

        self.screen.app.push_screen(
            InputDialog(
                "Intercept filter",
                join_intercept(*current) if current else "",
                hint=hint,
                placeholder="e.g. ~tcp & ~d example.com",
                check=intercept_problem,
            ),
            done,
        )

    async def send_intercept_filter(self, text: str) -> None:
        live = self.screen.ft.attachment
        if live is None:
            return
        spec, direction = split_intercept(text)
        try:
            await live.client.set_intercept(spec or None, direction)
        except CommandError as e:
            self.screen.say(f"The proxy refused the intercept filter: {e}", "error")
            return
        label = intercept_label(live.client.intercept_filter)
        self.screen.say(f"Intercepting {label}." if label else "Intercept filter cleared.")
        self.screen.refresh_status()

    def replay(self, timing: bool) -> None:
        """`r`: replay the focused finished TCP flow to its server, as a new flow."""
        flow = self.screen.focused_flow()
        if flow is None:
            return
        problem = replayable(flow)
        if problem is not None:
            self.screen.say(f"Cannot replay this flow: {problem}.", "warning")
            return
        assert isinstance(flow, TCPFlow)
        address = flow.server_conn.address
        where = f"{address[0]}:{address[1]}" if address else "its server"
        self.screen.say(f"Replaying to {where}{' with the original timing' if timing else ''}…")
        self.screen.run_worker(
            lambda: self._replay(flow, timing), thread=True, group="replay", name="replay"
        )

    def _replay(self, flow: TCPFlow, timing: bool) -> None:
        """Runs the replay's own event loop in a worker thread, never on the UI's."""
        try:
            new = asyncio.run(replay_tcp(flow, ReplayOptions(timing=timing)))
        except ReplayError as e:
            self.screen.app.call_from_thread(self.screen.say, str(e), "warning")
            return
        self.screen.app.call_from_thread(self._replayed, flow, new)

    def _replayed(self, old: Flow, new: TCPFlow) -> None:
        """Put the replay next to its original and say how it went."""
        store = self.screen.ft.store
        key = store.key_of(old)
        if key is not None:
            new_key: str | None = store.insert_after(key, new)
        else:  # the original was deleted meanwhile: the replay goes last
            store.add([new])
            new_key = store.key_of(new)
        self.screen.ft.session.note_change()
        if new_key is not None:
            self.screen.flow_list.select_flow(new_key)
        answers = sum(1 for m in new.messages if not m.from_client)
        if new.error is not None:
            self.screen.say(f"Replay: {new.error.msg}", "error")
        else:
            self.screen.say(f"Replayed: the server answered with {plural(answers, 'message')}.")
