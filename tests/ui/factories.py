"""Flows with constant ids, times and addresses, so rendered rows are stable."""

from __future__ import annotations

from pathlib import Path

from flowtui.core import Client, Server, TCPFlow, TCPMessage
from flowtui.io import save_flows

T0 = 1_700_000_000.0
"""2023-11-14 22:13:20 UTC: the start of every factory flow."""

HOSTILE = "[/bold] [@click=app.quit]CLICK[/] \x1b]52;c;SGVsbG8=\x07 \x1b[2J NUL\x00 CR\r end"
"""Markup, an action, OSC 52, a screen clear, NUL and CR in one string."""


def tcp_flow(n: int, *, messages: int = 2, sni: str | None = None) -> TCPFlow:
    """A plain TCP flow numbered `n` with fixed id, addresses and times."""
    client = Client(
        peername=("10.0.0.1", 40000 + n % 20000),
        sockname=("10.0.0.254", 8080),
        timestamp_start=T0 + n,
        timestamp_end=T0 + n + 0.5,
    )
    server = Server(
        address=(f"10.1.{n // 256 % 256}.{n % 256}", 443),
        sni=sni,
        timestamp_start=T0 + n + 0.01,
        timestamp_end=T0 + n + 0.5,
    )
    flow = TCPFlow(client, server)
    flow.id = f"00000000-0000-4000-8000-{n:012d}"
    flow.timestamp_created = T0 + n
    for i in range(messages):
        flow.messages.append(
            TCPMessage(i % 2 == 0, f"message {i} of flow {n}\n".encode(), T0 + n + 0.1 + i / 100)
        )
    return flow


def hostile_flow() -> TCPFlow:
    """A flow whose content, comment, SNI and error hold markup and terminal escapes."""
    flow = tcp_flow(1, messages=0, sni="evil[/bold]\x1b[2J.example")
    flow.messages = [
        TCPMessage(True, HOSTILE.encode(), T0 + 1.1),
        TCPMessage(False, b"\x00\x01\x02\x1b[31mred\x1b[0m" + HOSTILE.encode(), T0 + 1.2),
    ]
    flow.comment = HOSTILE
    flow.marked = "[/]"
    return flow


def write_capture(path: Path, count: int, *, messages: int = 2) -> Path:
    """A mitmproxy-format capture of `count` factory flows."""
    save_flows(path, (tcp_flow(n, messages=messages) for n in range(count)), format="mitmproxy")
    return path
