"""The message viewer's border texts: counts on top, view mode, direction and search below.

A pure function of the view's state (its `RowStats` among it), apart from the widget so
it reads at a glance. The search text comes from the user, and is cleaned and shown as
`SafeText` like everything else.
"""

from __future__ import annotations

from flowtui.core import Flow, HTTPFlow
from flowtui.core.messages import MessageFlow
from flowtui.ui.safe_text import SafeText, clean
from flowtui.ui.widgets.message_rows import Direction, RowStats, ViewMode, format_size

__all__ = ["message_titles"]

_DIRECTION_LABEL: dict[Direction, str] = {
    "both": "both directions",
    "client": "client → server only",
    "server": "server → client only",
}


def message_titles(
    flow: Flow | None,
    stats: RowStats,
    *,
    pending: int | None,
    mode: ViewMode,
    direction: Direction,
    query: str,
    current: int,
    matches: int,
    held: int = 0,
) -> tuple[SafeText, SafeText]:
    """The border title and subtitle for `flow` with `stats` (`pending`: the message
    count while a preview is shown; `current`: the index of the current one of
    `matches` search hits, -1 for none; `held`: how many messages the proxy holds)."""
    if isinstance(flow, MessageFlow) and pending is not None:
        noun = "datagrams" if flow.type == "udp" else "messages"
        title = f"{flow.type.upper()} {noun}: {pending}  reading…"
    elif isinstance(flow, MessageFlow):
        noun = "datagrams" if flow.type == "udp" else "messages"
        title = (
            f"{flow.type.upper()} {noun}: {stats.total}"
            f"  → {stats.client_msgs} ({format_size(stats.client_bytes)})"
            f"  ← {stats.server_msgs} ({format_size(stats.server_bytes)})"
        )
        if stats.shown != stats.total:
            title += f"  showing {stats.shown}"
    elif isinstance(flow, HTTPFlow) and flow.websocket is not None:
        ws = flow.websocket
        title = (
            f"WebSocket messages: {stats.total}"
            f"  → {stats.client_msgs} ({format_size(stats.client_bytes)})"
            f"  ← {stats.server_msgs} ({format_size(stats.server_bytes)})"
        )
        if stats.shown != stats.total:
            title += f"  showing {stats.shown}"
        if ws.close_code is not None:
            closer = "client" if ws.closed_by_client else "server"
            title += f"  closed by the {closer} ({ws.close_code})"
    else:
        title = "Messages"
    if held:
        title += f"  ⏸ {held} held (E edit · x drop · a send)"
    sub = SafeText(clean(f"view: {mode} · {_DIRECTION_LABEL[direction]}"))
    if query:
        if matches:
            found = f"{current + 1}/{matches}"
        else:  # a preview is searched once the whole flow is read
            found = "no match" if pending is None else "when read"
        sub.append(clean(" · search “"))
        sub.append(clean(query, max_len=40))
        sub.append(clean(f"” {found}"))
    return SafeText(clean(title, max_len=300)), sub
