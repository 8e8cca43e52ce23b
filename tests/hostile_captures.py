"""Captures whose every shown field is hostile, in both formats, for the screen and CLI tests.

mitmproxy's format carries hostile states; flowtui's format also carries a hostile stored
summary (`"ix"`), which the flow list and the info line show without decoding the state:
it is written by the real writer and then patched, as an attacker would.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from truth import DATA

from flowtui.io import read_flows, tnetstring
from flowtui.io.native_format import NativeStateWriter
from flowtui.io.summary import INDEX_FIELDS, index_entry, summarize_state

__all__ = [
    "HOSTILE",
    "PAYLOADS",
    "hostile_flowtui_capture",
    "hostile_mitmproxy_capture",
    "hostile_states",
]

PAYLOADS = [
    "[/]",
    "[/bold]",
    "[@click=app.quit]click me[/]",
    "[link=https://evil.example]link[/link]",
    "\x1b]52;c;SGVsbG8=\x07",  # OSC 52 (clipboard) ended by BEL
    "\x1b]0;pwned title\x1b\\",  # OSC 0 (title) ended by ST
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1b[2J\x1b[H",  # CSI clear screen, cursor home
    "\x1b[?1049l",  # leave the alternate screen
    "\x1bP1$qm\x1b\\ \x1b_apc\x1b\\ \x1b^pm\x1b\\",  # DCS, APC, PM
    "\x1b[31mred\x1b[0m",
    "\x9b2J\x9d0;c1 title\x9c",  # C1 CSI, OSC and ST
    "NUL\x00 BEL\x07 BS\x08 CR\r VT\x0b FF\x0c DEL\x7f",
    "\u202eevil-override\u202c \u2066isolate\u2069",  # bidi
    "zero\u200bwidth\u200d\ufeff",
    "wide 漢字漢字 ﷽ 👩‍👩‍👧",
]
HOSTILE = " ".join(PAYLOADS)
"""Every payload in one string."""

_TEXT = {"type", "client", "server", "detail", "tls_version", "marked", "comment", "meta"}
_TEXTS = {"src", "dst", "sni", "alpn", "tls"}


def hostile_states() -> list[dict[str, Any]]:
    """States of real flows made hostile where `dump` and the detail panes read them: an
    HTTP status code stored as text, ports as text and beyond 64 bits, a type, an SNI,
    a mark, a comment, an error, request fields with escapes."""
    flows = read_flows(DATA / "mixed_protocols.flows")
    http = copy.deepcopy(next(f for f in flows if f.type == "http").get_state())
    tcp = copy.deepcopy(next(f for f in flows if f.type == "tcp").get_state())
    dns = copy.deepcopy(next(f for f in flows if f.type == "dns").get_state())
    http["response"]["status_code"] = "\x1b]52;c;SGVsbG8=\x07"
    http["request"]["method"] = b"GET\x1b[2J"
    http["request"]["path"] = HOSTILE.encode()
    http["request"]["port"] = "\x1b]0;port\x07"
    http["comment"] = HOSTILE
    http["marked"] = "\x1b[5m"
    odd_port = copy.deepcopy(tcp)
    odd_port["client_conn"]["peername"] = ["127.0.0.1\x1b[2J", "\x1b]0;port\x07"]
    odd_port["server_conn"]["address"] = ["evil\x9b2J", 2**64 - 1]
    odd_type = copy.deepcopy(tcp)
    odd_type["type"] = "\x1b]0;type\x07\x1b[?1049l"
    odd_type["client_conn"]["peername"] = ["::1", "\x1b[2J"]
    tcp["client_conn"]["sni"] = "sni " + HOSTILE
    tcp["client_conn"]["tls_version"] = "TLSv1.3"
    tcp["client_conn"]["alpn"] = b"h2\x1b[2J"
    tcp["error"] = {"msg": "error " + HOSTILE, "timestamp": 1.0}
    dns["request"]["questions"][0]["name"] = "q" + HOSTILE
    states = [http, odd_port, odd_type, tcp, dns]
    for n, state in enumerate(states):  # ids of their own: beside the originals, not merged
        state["id"] = f"00000000-0000-4000-8000-{n:012d}"
    return states


def hostile_mitmproxy_capture(path: Path) -> Path:
    """`hostile_states()` in mitmproxy's format."""
    path.write_bytes(b"".join(tnetstring.dumps(state) for state in hostile_states()))
    return path


def _hostile_ix(entry: list[Any], n: int) -> list[Any]:
    """A stored summary with every text field hostile and the numbers left valid."""
    out = list(entry)
    for i, name in enumerate(INDEX_FIELDS, 1):
        if name in _TEXT:
            out[i] = f"{name}{n} {HOSTILE}"
        elif name in _TEXTS:
            out[i] = [f"{name} {HOSTILE}"]
        elif name == "replay":
            out[i] = "request"
    return out


def hostile_flowtui_capture(path: Path) -> Path:
    """A flowtui-format capture: real flows under hostile stored summaries, then the
    hostile states themselves (their `ix`, where one packs, patched as well)."""
    plain = read_flows(DATA / "mixed_protocols.flows")
    states = [f.get_state() for f in plain] + hostile_states()
    flows = read_flows(hostile_mitmproxy_capture(path.with_suffix(".tmp.flows")))
    entries: list[list[Any] | None] = [index_entry(f) for f in plain]
    entries += [index_entry(f) for f in flows]
    with path.open("wb") as out:
        writer = NativeStateWriter(out)
        for n, (state, entry) in enumerate(zip(states, entries, strict=True), 1):
            summary = summarize_state(state)
            if entry is not None:
                summary["ix"] = _hostile_ix(entry, n)
            writer.add_state(state, summary)
    return path
