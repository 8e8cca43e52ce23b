"""Steering a proxy from the main screen: the live intercept filter (`I`), the replay
of a finished TCP flow (`r`; an HTTP flow through mitmproxy's client replay),
injecting a message into a live connection (`J`) and fetching a flow from the proxy's
recording (`R`, see `fetching`). Kept out of `MainScreen` so that
screen only composes and routes; the commands reach these through
`action_steer(name, ...)`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from flowtui.core import Flow, HTTPFlow, TCPFlow
from flowtui.live.client import CommandError
from flowtui.live.held import held_entries
from flowtui.live.notes import detached_reason
from flowtui.live.replay import ReplayError, ReplayOptions, replay_tcp, replayable
from flowtui.ui.screens.fetching import Fetching
from flowtui.ui.screens.held_dialogs import MessageEditDialog
from flowtui.ui.screens.inject_dialog import InjectDialog
from flowtui.ui.screens.prompts import InputDialog
from flowtui.ui.session import plural
from flowtui.ui.steer import (
    intercept_label,
    intercept_problem,
    join_intercept,
    split_intercept,
)
from flowtui.ui.widgets.message_rows import format_size
from flowtui.ui.widgets.message_view import MessageView

if TYPE_CHECKING:
    from flowtui.ui.screens.main import MainScreen

__all__ = ["SteerAction", "Steering"]

SteerAction = Literal[
    "intercept_filter", "replay", "fetch", "fetch_all", "inject", "edit_held", "drop_held"
]
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
        if isinstance(flow, HTTPFlow):
            self._replay_http(flow)
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

    # -- HTTP replay through mitmproxy ---------------------------------------------------

    def _replay_http(self, flow: HTTPFlow) -> None:
        """`r` on an HTTP flow: mitmproxy's client replay, when attached to mitmproxy
        with the addon and the flow is one of the proxy's; else why not."""
        live = self.screen.ft.attachment
        if live is None or flow.id not in live.client.flows:
            where = "a capture file" if live is None else "this session, not from the proxy"
            self.screen.say(
                f"Cannot replay this HTTP flow from {where}: flowtui replays TCP flows "
                "itself, HTTP flows through mitmproxy's client replay (attach to mitmproxy "
                "running the flowtui addon, then r on its flows).",
                "warning",
            )
            return
        reason = detached_reason(flow)
        if reason:
            self.screen.say(f"Cannot replay this flow: {reason}.", "warning")
            return
        if live.client.software == "flowtui":
            self.screen.say(
                "Cannot replay this flow: flowtui proxy relays TCP only; HTTP replay needs "
                "mitmproxy with the flowtui addon.",
                "warning",
            )
            return
        self.screen.run_worker(self._send_replay(flow.id), group="command", name="replay")

    async def _send_replay(self, flow_id: str) -> None:
        live = self.screen.ft.attachment
        if live is None:
            return
        try:
            await live.client.replay(flow_id)
        except CommandError as e:
            self.screen.say(f"Cannot replay this flow: {e}", "error")
            return
        self.screen.say("Replaying through mitmproxy: the replay follows the original.")

    # -- inject -----------------------------------------------------------------------

    def inject_problem(self, flow: Flow) -> str | None:
        """Why no message can be injected into ``flow`` now, or None."""
        live = self.screen.ft.attachment
        if live is None:
            return "injecting needs a live proxy (flowtui attach)"
        websocket = isinstance(flow, HTTPFlow) and flow.websocket is not None
        if not isinstance(flow, TCPFlow) and not websocket:
            return "only TCP and WebSocket flows take injected messages"
        if flow.id not in live.client.flows:
            return "this flow is not from the proxy"
        reason = detached_reason(flow)
        if reason:
            return reason
        if not flow.live:
            return "its connection is closed"
        if not live.client.can("inject"):
            return "this proxy cannot inject messages (it is older than this flowtui)"
        return None

    def inject(self) -> None:
        """`J`: send a new message to the client or the server of the focused live flow."""
        flow = self.screen.focused_flow()
        if flow is None:
            return
        problem = self.inject_problem(flow)
        if problem is not None:
            self.screen.say(f"Cannot inject: {problem}.", "warning")
            return
        store = self.screen.ft.store
        key = store.key_of(flow)
        number = f" #{store.number(key)}" if key is not None else ""

        def done(answer: tuple[bool, bytes] | None) -> None:
            if answer is not None:
                self.screen.run_worker(
                    self._send_inject(flow.id, *answer), group="command", name="inject"
                )

        self.screen.app.push_screen(
            InjectDialog(f"Inject into flow{number}", websocket=isinstance(flow, HTTPFlow)), done
        )

    async def _send_inject(self, flow_id: str, to_client: bool, content: bytes) -> None:
        live = self.screen.ft.attachment
        if live is None:
            return
        where = "client" if to_client else "server"
        try:
            await live.client.inject(flow_id, to_client, content)
        except CommandError as e:
            self.screen.say(f"The proxy refused the injection: {e}", "error")
            return
        self.screen.say(f"Injected {plural(len(content), 'byte')} to the {where}.")

    # -- held messages: edit or drop the focused flow's held message ---------------------

    def _held_target(self, action: str) -> tuple[Flow, int, bytes] | None:
        """The focused flow's held message `action` applies to: the one the message
        viewer shows (see `MessageView.held_target`), with its content; None (said why)
        when there is none."""
        flow = self.screen.focused_flow()
        if flow is None:
            return None
        if self.screen.ft.attachment is None:
            self.screen.say(
                f"Cannot {action}: held messages are a live proxy's (flowtui attach).", "warning"
            )
            return None
        reason = detached_reason(flow)
        if reason is not None:
            self.screen.say(f"Cannot {action}: {reason}.", "warning")
            return None
        held = dict(held_entries(flow)) if flow.intercepted else {}
        if not held:
            self.screen.say(
                "No message of this flow is held (i intercepts it: its next message is held).",
                "information",
            )
            return None
        view = self.screen.query_one(MessageView)
        shown = view.flow is not None and view.flow.id == flow.id
        index = view.held_target() if shown else None
        if index is None or index not in held:
            index = min(held)
        return flow, index, held[index]

    def edit_held(self) -> None:
        """`E`: edit the focused flow's held message; the proxy sends the edit."""
        target = self._held_target("edit a held message")
        if target is None:
            return
        flow, index, content = target
        messages = getattr(flow, "messages", None) or []
        way = ""
        if index < len(messages):
            way = " · client → server" if messages[index].from_client else " · server → client"
        title = f"Edit held message #{index}{way} · {format_size(len(content))}"

        def done(data: bytes | None) -> None:
            if data is not None:
                self.screen.run_worker(
                    self._change_held(flow.id, index, data), group="command", name="edit held"
                )

        self.screen.app.push_screen(MessageEditDialog(content, title), done)

    def drop_held(self) -> None:
        """`x`: drop the focused flow's held message: it never reaches the peer."""
        target = self._held_target("drop a held message")
        if target is not None:
            flow, index, _ = target
            self.screen.run_worker(
                self._change_held(flow.id, index, None), group="command", name="drop held"
            )

    async def _change_held(self, flow_id: str, index: int, content: bytes | None) -> None:
        live = self.screen.ft.attachment
        if live is None:
            return
        try:
            if content is None:
                await live.client.drop_message(flow_id, index)
            else:
                await live.client.edit_message(flow_id, index, content)
        except CommandError as e:
            self.screen.say(f"The proxy refused: {e}", "error")
            return
        if content is None:
            self.screen.say(f"Message #{index} dropped: it will not be sent (V restores it).")
        else:
            self.screen.say(f"Message #{index} edited: a sends it (V restores the original).")
