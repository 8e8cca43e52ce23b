"""Fetching what the inspector lacks of a flow from the proxy's recording (``-w``).

Why: when the proxy had to drop part of a flow before this inspector got it (its
``--retain`` budget while the inspector was behind), or the inspector cut it to its own
``--max-memory``, the flow is marked incomplete or cut (`live.notes`, `live.budget`).
A proxy that records with ``-w`` (mitmproxy: ``save_stream_file``) names that file in
its hello; when this machine can read it, the whole flow is there: the relay appends
a flow when it closes and again when it changes, so its *last* copy is the one.

`read_recorded` runs in a worker thread (the file can be gigabytes: it is streamed, see
`flowtui.io.lookup`), `merged` keeps what the inspector knows that the recording does
not, and `LiveClient.adopt` puts the result in the mirror, counted against the budget
like any flow. Every refusal is a `FetchError` whose text names the file. No UI here.
"""

from __future__ import annotations

import threading
from collections.abc import Collection

from flowtui.core import Flow
from flowtui.core.messages import MessageFlow
from flowtui.io.errors import FlowReadException
from flowtui.io.lookup import last_copies
from flowtui.live.budget import CUT_KEY, content_cost, format_size
from flowtui.live.notes import DETACHED_KEY, INCOMPLETE_KEY, is_incomplete

__all__ = [
    "FetchError",
    "Fetched",
    "fetch_problem",
    "is_fetchable",
    "merged",
    "older_than_mine",
    "read_recorded",
    "recording_of",
]

RECORD_SLACK = 1 << 20
"""A recorded copy whose record is bigger than the budget by more than this is not even
decoded: its content alone would not fit (a record holds its content, plus less per
message than the budget counts, plus its connections)."""


class FetchError(Exception):
    """Why the missing part of a flow was not fetched (shown as it is)."""


def is_fetchable(flow: Flow) -> bool:
    """``flow`` lacks part of its content here (incomplete or cut) and is finished."""
    return not flow.live and (is_incomplete(flow) or isinstance(flow.metadata.get(CUT_KEY), dict))


def recording_of(flow: Flow, current: str | None) -> str | None:
    """Where the proxy recorded ``flow``: the recording its incomplete note names (the
    proxy's when the part was dropped: a proxy restarted since may record elsewhere),
    else ``current``, the one the connected proxy names in its hello."""
    info = flow.metadata.get(INCOMPLETE_KEY)
    record = info.get("record") if isinstance(info, dict) else None
    return record if isinstance(record, str) and record else current


def fetch_problem(flow: Flow, record: str | None) -> str | None:
    """Why the missing part of ``flow`` cannot be fetched from ``record`` (the path in
    the proxy's hello) now, or None when it is worth reading the file."""
    lacking = is_incomplete(flow) or isinstance(flow.metadata.get(CUT_KEY), dict)
    if not lacking:
        return "Nothing to fetch: this inspector holds all of this flow."
    if record is None:
        return (
            "Cannot fetch the missing part: the proxy does not record its flows "
            "(start it with -w FILE, or mitmproxy with save_stream_file)."
        )
    if flow.live:
        return (
            f"This flow is still live: the proxy records it to {record} when it closes; "
            "fetch its missing part then."
        )
    return None


class Fetched:
    """Whole copies read from a recording, with what each costs against the budget."""

    def __init__(self, record: str, flows: dict[str, Flow], costs: dict[str, int]) -> None:
        self.record = record
        """The file read."""
        self.flows = flows
        """The last recorded copy of each flow asked for, by id."""
        self.costs = costs
        """What each costs against the inspector's budget."""


def read_recorded(
    record: str,
    flow_ids: Collection[str],
    *,
    max_memory: int,
    cancel: threading.Event | None = None,
) -> Fetched:
    """The last copy of each of ``flow_ids`` in the recording (call in a worker thread).

    `FetchError` when the file cannot be read here, when none of the flows is in it
    (yet: the proxy writes a flow when it closes), or, for a single flow, when it alone
    is bigger than ``max_memory``; with several ids, those that are missing or too big
    are left out (compare the result's ids)."""
    try:
        lookup = last_copies(record, flow_ids, max_record=max_memory + RECORD_SLACK, cancel=cancel)
    except FlowReadException as e:
        raise FetchError(f"Cannot read the proxy's recording {record}: {e.reason}") from None
    if lookup.cancelled:
        raise FetchError(f"Stopped reading the proxy's recording {record}.")
    flows: dict[str, Flow] = {}
    costs: dict[str, int] = {}
    problems: list[str] = []
    for flow_id in flow_ids:
        flow = lookup.found.get(flow_id)
        if flow is None:
            bad = lookup.unreadable.get(flow_id)
            size = lookup.too_big.get(flow_id)
            if size is not None:
                problems.append(_too_big(record, size, max_memory, at_least=True))
            elif bad is not None:
                problems.append(f"its copy in the proxy's recording does not decode: {bad}")
            continue
        cost, _content = content_cost(flow)
        if cost > max_memory:
            problems.append(_too_big(record, cost, max_memory))
            continue
        flows[flow_id] = flow
        costs[flow_id] = cost
    if not flows:
        if problems:
            raise FetchError("Not fetched: " + problems[0])
        what = "This flow is" if len(flow_ids) == 1 else "None of these flows is"
        text = (
            f"{what} not in the proxy's recording {record} (yet: the proxy writes a flow "
            f"there when it closes; {lookup.records} records read)."
        )
        if lookup.stopped is not None:
            text += f" Reading stopped early: {lookup.stopped}."
        raise FetchError(text)
    return Fetched(record, flows, costs)


def _too_big(record: str, cost: int, max_memory: int, *, at_least: bool = False) -> str:
    holds = "holds about" if at_least else "holds"
    return (
        f"the whole flow {holds} {format_size(cost)}, more than this inspector's "
        f"--max-memory ({format_size(max_memory)}); open the recording itself "
        f"(flowtui {record}) or attach with a larger --max-memory"
    )


def merged(mine: Flow, recorded: Flow) -> Flow:
    """The recorded copy, with what this inspector knows that it does not: the mark
    and the comment shown here (when set; else the recording's), and why the proxy can
    no longer act on it (detached). The incomplete and cut notes are not carried over:
    the recorded copy is the whole flow."""
    recorded.live = False
    if mine.marked:
        recorded.marked = mine.marked
    if mine.comment:
        recorded.comment = mine.comment
    detached = mine.metadata.get(DETACHED_KEY)
    if detached is not None:
        recorded.metadata[DETACHED_KEY] = detached
    return recorded


def older_than_mine(mine: Flow, recorded: Flow) -> bool:
    """The recorded copy holds fewer messages than this inspector's (an earlier copy)."""
    return (
        isinstance(mine, MessageFlow)
        and isinstance(recorded, MessageFlow)
        and len(recorded.messages) < len(mine.messages)
    )
