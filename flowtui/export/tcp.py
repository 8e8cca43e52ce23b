"""A TCP or UDP flow's data per direction: the bytes each side sent, and a hex dump of
the conversation (offsets count within each direction's stream, as Wireshark's
"Follow TCP Stream" does)."""

from __future__ import annotations

from datetime import UTC, datetime

from flowtui.core import Flow, TCPFlow, UDPFlow, format_address
from flowtui.export.errors import ExportError
from flowtui.sanitize import clean

__all__ = ["client_bytes", "hexdump", "hexdump_lines", "server_bytes"]


def _stream(flow: Flow) -> TCPFlow | UDPFlow:
    if not isinstance(flow, TCPFlow | UDPFlow):
        raise ExportError(f"a {flow.type} flow has no TCP or UDP stream")
    return flow


def client_bytes(flow: Flow) -> bytes:
    """Everything the client sent, in order (UDP datagrams back to back)."""
    return b"".join(m.content for m in _stream(flow).messages if m.from_client)


def server_bytes(flow: Flow) -> bytes:
    """Everything the server sent, in order."""
    return b"".join(m.content for m in _stream(flow).messages if not m.from_client)


def hexdump_lines(data: bytes, offset: int = 0, width: int = 16) -> list[str]:
    """``OFFSET  hex bytes  |ascii|`` lines; bytes outside printable ASCII show as ``.``."""
    lines = []
    for at in range(0, len(data), width):
        row = data[at : at + width]
        hexes = " ".join(f"{b:02x}" for b in row)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        lines.append(f"{offset + at:08x}  {hexes:<{width * 3 - 1}}  |{text}|")
    return lines


def _when(timestamp: float) -> str:
    """The time as ISO 8601, or ``?`` for a value no clock shows (NaN, infinity...)."""
    try:
        return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
    except (OverflowError, OSError, ValueError):
        return "?"


def hexdump(flow: Flow) -> bytes:
    """The conversation as a hex dump, message by message (ASCII text)."""
    f = _stream(flow)
    client = format_address(f.client_conn.peername)
    server = format_address(f.server_conn.peername or f.server_conn.address)
    out: list[str] = [clean(f"# {f.type} flow {f.id}: client {client}, server {server}")]
    offsets = {True: 0, False: 0}
    for m in f.messages:
        arrow = "client -> server" if m.from_client else "server -> client"
        out.append(f"{arrow}  {len(m.content)} bytes  {_when(m.timestamp)}")
        out += hexdump_lines(m.content, offsets[m.from_client])
        offsets[m.from_client] += len(m.content)
    return ("\n".join(out) + "\n").encode("ascii", "backslashreplace")
