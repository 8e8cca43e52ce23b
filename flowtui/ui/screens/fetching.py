"""`R` (and the palette's "Fetch every missing part"): an incomplete or cut live flow
read whole from the proxy's ``-w`` recording.

Why apart from the steering commands: reading the recording is a worker thread's job
(the file can be gigabytes), and its outcome — the mirror's copy replaced, the budget
kept, one line that names the file — is one sequence, started by the main screen.
The rules (what is fetchable, what is kept of the inspector's copy, the budget) live
in `flowtui.live.recording` and `LiveClient.adopt`, without Textual.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from flowtui.core.messages import MessageFlow
from flowtui.live.budget import format_size
from flowtui.live.recording import (
    Fetched,
    FetchError,
    fetch_problem,
    is_fetchable,
    merged,
    older_than_mine,
    read_recorded,
    recording_of,
)
from flowtui.ui.session import plural

if TYPE_CHECKING:
    from flowtui.ui.attach import Attachment
    from flowtui.ui.screens.main import MainScreen

__all__ = ["Fetching"]


class Fetching:
    """The fetch commands of one main screen."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        """The screen whose app, mirror and notifications these use."""
        self.cancel = threading.Event()
        """Set when the screen goes: a reading worker stops at its next record."""

    def _attachment(self) -> Attachment | None:
        live = self.screen.ft.attachment
        if live is None:
            self.screen.say(
                "Fetching a flow's missing part reads a live proxy's recording "
                "(flowtui attach to a proxy started with -w FILE).",
                "warning",
            )
        return live

    def fetch(self) -> None:
        """The focused flow, whole, from the proxy's recording."""
        live = self._attachment()
        flow = self.screen.focused_flow() if live is not None else None
        if live is None or flow is None:
            return
        record = recording_of(flow, live.client.record)
        problem = fetch_problem(flow, record)
        if problem is not None:
            self.screen.say(problem, "warning")
            return
        assert record is not None
        self._start(live, record, [flow.id])

    def fetch_all(self) -> None:
        """Every finished incomplete or cut flow, whole, in one reading of the file."""
        live = self._attachment()
        if live is None:
            return
        flows = [f for f in live.client.flows.values() if is_fetchable(f)]
        if not flows:
            self.screen.say("Nothing to fetch: no finished flow here is incomplete or cut.")
            return
        by_record: dict[str, list[str]] = {}  # one reading per file (a restarted proxy
        for flow in flows:  # may record to another one)
            record = recording_of(flow, live.client.record)
            if record is not None:
                by_record.setdefault(record, []).append(flow.id)
        if not by_record:
            self.screen.say(fetch_problem(flows[0], None) or "", "warning")
            return
        for record, ids in by_record.items():
            self._start(live, record, ids)

    def _start(self, live: Attachment, record: str, ids: list[str]) -> None:
        what = "this flow" if len(ids) == 1 else plural(len(ids), "flow")
        self.screen.say(f"Reading the proxy's recording {record} for {what}…")
        max_memory = live.client.max_memory
        self.screen.run_worker(
            lambda: self._read(record, ids, max_memory),
            thread=True,
            group="fetch",
            name="fetch",
            exit_on_error=False,
        )

    def _read(self, record: str, ids: list[str], max_memory: int) -> None:
        """In a worker thread: read the recording, hand the flows to the UI thread."""
        app = self.screen.app
        problem = ""
        fetched: Fetched | None
        try:
            fetched = read_recorded(record, ids, max_memory=max_memory, cancel=self.cancel)
        except FetchError as e:
            fetched, problem = None, str(e)  # said on the UI thread
        if self.cancel.is_set():
            return
        with contextlib.suppress(RuntimeError):  # the app ended meanwhile
            if fetched is None:
                app.call_from_thread(self.screen.say, problem, "warning")
            else:
                app.call_from_thread(self._adopt, fetched, len(ids))

    def _adopt(self, fetched: Fetched, asked: int) -> None:
        """On the UI thread: put each fetched flow in the mirror (and so the store), as
        long as they fit the budget together, and say what happened."""
        live = self.screen.ft.attachment
        if live is None:
            return
        client = live.client
        room = client.max_memory  # what the fetched flows may cost together
        done: list[str] = []
        cut = 0
        problems: list[str] = []
        for flow_id, recorded in fetched.flows.items():
            mine = client.flows.get(flow_id)
            if mine is None or flow_id not in self.screen.ft.store:
                problems.append("the flow was removed meanwhile")
                continue
            if not is_fetchable(mine):
                problems.append("this inspector holds all of it by now")
                continue
            if older_than_mine(mine, recorded):
                problems.append("the recording's copy holds fewer messages than this one")
                continue
            try:
                cut += client.adopt(merged(mine, recorded), room)
            except ValueError as e:
                problems.append(f"{e}; open the recording itself (flowtui {fetched.record})")
                continue
            room -= fetched.costs[flow_id]
            done.append(flow_id)
        live.flush()  # the list and the detail show it now, not a frame later
        self.screen.say(*self._report(fetched, asked, done, cut, problems))

    def _report(
        self, fetched: Fetched, asked: int, done: list[str], cut: int, problems: list[str]
    ) -> tuple[str, str]:
        """What to tell, and how loud."""
        record = fetched.record
        if asked == 1:
            if not done:
                return f"Not fetched from {record}: {problems[0]}.", "warning"
            flow = fetched.flows[done[0]]
            held = ""
            if isinstance(flow, MessageFlow):
                size = sum(len(m.content) for m in flow.messages)
                held = f": {plural(len(flow.messages), 'message')} ({format_size(size)})"
            text = f"Fetched the whole flow from {record}{held}."
        else:
            text = f"Fetched {len(done)} of {plural(asked, 'flow')} from {record}."
            missing = asked - len(done)
            if missing:
                why = problems[0] if problems else "not in the recording (yet)"
                text += f" {missing} not fetched ({why})."
        if cut:
            text += (
                f" To stay within --max-memory, {plural(cut, 'other flow')} "
                f"{'was' if cut == 1 else 'were'} cut (the info line says how much)."
            )
        return text, "information" if done and not problems else "warning"
