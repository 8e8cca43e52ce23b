#!/usr/bin/env python3
"""Record a real DNS capture with mitmdump, and its ground truth.

usage: python scripts/record_dns_capture.py [OUT.flows]
       (default tests/data/mitmproxy-11/dns.flows; run with the venv that has
       mitmproxy 11, whose mitmdump is found beside this interpreter or on PATH)

Everything runs on 127.0.0.1: a small authoritative DNS server (a thread of this script,
answering over UDP with hand-built messages that use name compression the way real
servers do), mitmdump as a reverse proxy to it (`reverse:dns://`), and a client that
sends one query per socket through the proxy and waits for the answer.

The server answers: A (two records, EDNS OPT in the additional section), AAAA, a CNAME
chain (compressed names inside the CNAME data), TXT (two strings, one UTF-8), MX, NS,
SOA (two compressed names in its data), PTR, HTTPS (service form with
alpn/port/ipv4hint/ech, and alias form; mitmproxy strips the ECH of answers, so a copy
in the additional section keeps it), SVCB, a record of an unassigned type (65280) with
raw bytes, an A record whose data is 5 bytes, an IDNA name (xn--bcher-kva), a mixed-case
name, NXDOMAIN (SOA in the authority section), SERVFAIL, a truncated answer (TC set, no
records), NOTIMP to a STATUS query and to a query with two questions. One query is never
answered (the flow has no response when mitmdump stops). An addon in mitmdump answers
two names itself (`Message.succeed`, `Message.fail(REFUSED)`), sets an error on a third,
and marks and comments flows, so those flows hold what mitmproxy's own API builds.

mitmdump is stopped with SIGINT so that it writes every flow; every wait is bounded.
Beside the capture it writes `OUT.flows.json`: mitmproxy's own `get_state()` of every
flow as `mitmproxy.io.FlowReader` reads it back (bytes as {"__bytes__": base64},
tuples as lists), the ground truth the tests compare flowtui with.
"""

from __future__ import annotations

import ipaddress
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from capture_truth import find_mitmdump, write_truth

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "data" / "mitmproxy-11" / "dns.flows"
TIMEOUT = 5.0

A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, OPT, SVCB, HTTPS = 1, 2, 5, 6, 12, 15, 16, 28, 41, 64, 65
UNASSIGNED = 65280
NOERROR, SERVFAIL, NXDOMAIN, NOTIMP = 0, 2, 3, 4
QNAME = 0xC00C
"""A compression pointer to the question name (right after the 12-byte header)."""

ADDON = """
from mitmproxy import dns
from mitmproxy.flow import Error


def dns_request(flow):
    name = flow.request.questions[0].name if flow.request.questions else ""
    if name == "local.flowtui.test":
        flow.response = flow.request.succeed(
            [dns.ResourceRecord.A(name, __import__("ipaddress").IPv4Address("10.0.0.7"))]
        )
        flow.marked = ":default:"
    elif name == "blocked.flowtui.test":
        flow.response = flow.request.fail(dns.response_codes.REFUSED)
        flow.comment = "refused by the test addon ✓"
    elif name == "error.flowtui.test":
        flow.error = Error("blocked by the test addon")


def dns_response(flow):
    if flow.request.questions and flow.request.questions[0].name == "txt.flowtui.test":
        flow.marked = ":grapes:"
        flow.comment = "TXT with UTF-8"
"""


# -- building messages by hand (as a server does, with compression) -----------------------


def name(text: str) -> bytes:
    if not text:
        return b"\x00"
    out = b""
    for label in text.split("."):
        raw = label.encode("ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def rr(owner: bytes, rtype: int, data: bytes, ttl: int = 300, rclass: int = 1) -> bytes:
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(data)) + data


def ptr(offset: int) -> bytes:
    return struct.pack("!H", 0xC000 | offset)


def header(qid: int, flags: int, qd: int, an: int, ns: int, ar: int) -> bytes:
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def query(qid: int, qname: str, qtype: int, *, flags: int = 0x0100, edns: bool = False) -> bytes:
    """A client query (RD set by default), optionally with an EDNS OPT record."""
    extra = rr(b"\x00", OPT, b"", ttl=0, rclass=1232) if edns else b""
    question = name(qname) + struct.pack("!HH", qtype, 1)
    return header(qid, flags, 1, 0, 0, int(edns)) + question + extra


def svc_params(params: list[tuple[int, bytes]]) -> bytes:
    return b"".join(struct.pack("!HH", k, len(v)) + v for k, v in params)


Answer = tuple[int, list[bytes], list[bytes], list[bytes]]
"""rcode, answers, authorities, additionals (records already built)."""


def answer_for(qname: str, qtype: int, question: bytes) -> Answer | None:
    """The server's answer to one question; None means no answer at all."""
    q = ptr(12)
    qend = 12 + len(question)  # offset of the first record
    # SOA names compressed as real servers write them: "ns1" and "hostmaster", each
    # followed by a pointer to "flowtui.test" in the question name.
    domain = ptr(12 + 1 + len(qname.split(".")[0]))
    soa = (
        b"\x03ns1"
        + domain
        + b"\x0ahostmaster"
        + domain
        + struct.pack("!IIIII", 2026120501, 7200, 900, 1209600, 300)
    )
    match qname:
        case "a.flowtui.test" | "edns.flowtui.test":
            opt = [rr(b"\x00", OPT, b"", ttl=0, rclass=1232)] if qname.startswith("edns") else []
            records = [rr(q, A, bytes([127, 0, 0, 1])), rr(q, A, bytes([10, 0, 0, 1]))]
            return NOERROR, records, [], opt
        case "aaaa.flowtui.test":
            ips = [ipaddress.IPv6Address("::1"), ipaddress.IPv6Address("2001:db8::1")]
            return NOERROR, [rr(q, AAAA, ip.packed) for ip in ips], [], []
        case "www.flowtui.test":
            # CNAME www -> a.<pointer to "flowtui.test" in the question>, then the A
            # record named by a pointer into the CNAME data.
            cname_data = b"\x01a" + ptr(12 + 4)
            first = rr(q, CNAME, cname_data)
            target_offset = qend + 2 + 10  # owner pointer, fixed fields, then the data
            return NOERROR, [first, rr(ptr(target_offset), A, bytes([127, 0, 0, 2]))], [], []
        case "txt.flowtui.test":
            strings = [b"v=spf1 -all", "héllo ✓ wörld".encode()]
            data = b"".join(bytes([len(s)]) + s for s in strings)
            return NOERROR, [rr(q, TXT, data)], [], []
        case "mx.flowtui.test":
            return NOERROR, [rr(q, MX, struct.pack("!H", 10) + b"\x04mail" + ptr(12 + 3))], [], []
        case "ns.flowtui.test":
            records = [rr(q, NS, bytes([3]) + label + ptr(12 + 3)) for label in (b"ns1", b"ns2")]
            return NOERROR, records, [], []
        case "soa.flowtui.test":
            return NOERROR, [rr(q, SOA, soa, ttl=3600)], [], []
        case "1.0.0.127.in-addr.arpa":
            return NOERROR, [rr(q, PTR, name("localhost.flowtui.test"))], [], []
        case "https.flowtui.test":
            service = (
                struct.pack("!H", 1)
                + b"\x00"
                + svc_params(
                    [
                        (1, b"\x02h2\x02h3"),
                        (3, struct.pack("!H", 443)),
                        (4, bytes([127, 0, 0, 1])),
                        (5, b"\x00\x45\xfe\x0d\x00\x41ech-config-bytes"),
                    ]
                )
            )
            alias = struct.pack("!H", 0) + name("svc.flowtui.test")
            # mitmproxy strips ECH from answers (strip_ech): the additional copy keeps it.
            extra = [rr(name("svc.flowtui.test"), HTTPS, service)]
            return NOERROR, [rr(q, HTTPS, service), rr(q, HTTPS, alias)], [], extra
        case "svcb.flowtui.test":
            data = struct.pack("!H", 1) + name("svc.flowtui.test") + svc_params([(3, b"\x1f\x90")])
            return NOERROR, [rr(q, SVCB, data)], [], []
        case "unknown.flowtui.test":
            return NOERROR, [rr(q, UNASSIGNED, b"\x00\xffopaque \xc0\x0c bytes")], [], []
        case "bad-a.flowtui.test":
            return NOERROR, [rr(q, A, b"\x01\x02\x03\x04\x05")], [], []
        case "nx.flowtui.test":
            return NXDOMAIN, [], [rr(name("flowtui.test"), SOA, soa, ttl=300)], []
        case "fail.flowtui.test":
            return SERVFAIL, [], [], []
        case "silent.flowtui.test":
            return None
    if qname.startswith("xn--bcher-kva") or qname.lower() == "mixed.flowtui.test":
        return NOERROR, [rr(q, A, bytes([127, 0, 0, 3]), ttl=60)], [], []
    return NXDOMAIN, [], [], []


def respond(packet: bytes) -> bytes | None:
    qid, flags, qd = struct.unpack_from("!HHH", packet)
    pos = 12
    labels = []
    while packet[pos]:
        labels.append(packet[pos + 1 : pos + 1 + packet[pos]].decode("ascii"))
        pos += 1 + packet[pos]
    qname = ".".join(labels)
    qtype = struct.unpack_from("!H", packet, pos + 1)[0]
    question_end = pos + 5
    for _ in range(qd - 1):  # further questions: copy them as they are
        while packet[question_end]:
            question_end += 1 + packet[question_end]
        question_end += 5
    question = packet[12:question_end]
    opcode = (flags >> 11) & 0xF
    rd = flags & 0x0100
    base = 0x8000 | (opcode << 11) | 0x0400 | rd | 0x0080  # QR, AA, RD copied, RA
    if opcode != 0 or qd != 1:
        return header(qid, base | NOTIMP, qd, 0, 0, 0) + question
    if qname == "big.flowtui.test":  # too big for UDP: truncated, no records
        return header(qid, base | 0x0200, 1, 0, 0, 0) + question
    answer = answer_for(qname, qtype, question)
    if answer is None:
        return None
    rcode, an, ns, ar = answer
    head = header(qid, base | rcode, 1, len(an), len(ns), len(ar))
    return head + question + b"".join(an + ns + ar)


def dns_server(sock: socket.socket, stop: threading.Event) -> None:
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            packet, peer = sock.recvfrom(4096)
        except TimeoutError:
            continue
        reply = respond(packet)
        if reply is not None:
            sock.sendto(reply, peer)


# -- the client ---------------------------------------------------------------------------

QUERIES: list[tuple[str, Callable[[int], bytes], bool]] = [
    ("A, AD bit, EDNS", lambda i: query(i, "edns.flowtui.test", A, flags=0x0120, edns=True), True),
    ("A", lambda i: query(i, "a.flowtui.test", A), True),
    ("AAAA", lambda i: query(i, "aaaa.flowtui.test", AAAA), True),
    ("CNAME chain", lambda i: query(i, "www.flowtui.test", A), True),
    ("TXT", lambda i: query(i, "txt.flowtui.test", TXT), True),
    ("MX", lambda i: query(i, "mx.flowtui.test", MX), True),
    ("NS", lambda i: query(i, "ns.flowtui.test", NS), True),
    ("SOA", lambda i: query(i, "soa.flowtui.test", SOA), True),
    ("PTR", lambda i: query(i, "1.0.0.127.in-addr.arpa", PTR), True),
    ("HTTPS", lambda i: query(i, "https.flowtui.test", HTTPS), True),
    ("SVCB", lambda i: query(i, "svcb.flowtui.test", SVCB), True),
    ("unassigned type", lambda i: query(i, "unknown.flowtui.test", UNASSIGNED), True),
    ("bad A data", lambda i: query(i, "bad-a.flowtui.test", A), True),
    ("IDNA", lambda i: query(i, "xn--bcher-kva.flowtui.test", A), True),
    ("mixed case", lambda i: query(i, "MiXeD.FlowTUI.test", A, flags=0), True),
    ("NXDOMAIN", lambda i: query(i, "nx.flowtui.test", A), True),
    ("SERVFAIL", lambda i: query(i, "fail.flowtui.test", A), True),
    ("truncated", lambda i: query(i, "big.flowtui.test", TXT), True),
    ("STATUS opcode", lambda i: query(i, "a.flowtui.test", A, flags=2 << 11), True),
    (
        "two questions",
        lambda i: (
            header(i, 0x0100, 2, 0, 0, 0)
            + name("a.flowtui.test")
            + struct.pack("!HH", A, 1)
            + ptr(12)
            + struct.pack("!HH", AAAA, 1)
        ),
        True,
    ),
    ("answered by the addon", lambda i: query(i, "local.flowtui.test", A), True),
    ("refused by the addon", lambda i: query(i, "blocked.flowtui.test", A), True),
    ("error set by the addon", lambda i: query(i, "error.flowtui.test", A), True),
    ("never answered", lambda i: query(i, "silent.flowtui.test", A), False),
]


def client(port: int) -> None:
    for n, (label, build, answered) in enumerate(QUERIES):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(TIMEOUT if answered else 1.0)
            sock.sendto(build(0x4000 + n), ("127.0.0.1", port))
            try:
                sock.recvfrom(4096)
            except TimeoutError:
                if answered:
                    raise RuntimeError(f"no answer to the {label} query") from None


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_answering(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the proxy answers DNS on `port` (the probe itself is a flow)."""
    deadline = time.monotonic() + 3 * TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("mitmdump exited")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            sock.sendto(query(0x3FFF, "a.flowtui.test", A), ("127.0.0.1", port))
            try:
                sock.recvfrom(4096)
                return
            except (TimeoutError, ConnectionRefusedError):
                time.sleep(0.2)
    raise RuntimeError(f"no DNS answer on 127.0.0.1:{port}")


# -- ground truth -------------------------------------------------------------------------


def _protocol(state: dict[str, Any]) -> dict[str, Any]:
    """The DNS keys of a flow's digest."""
    request, response = state["request"], state["response"]
    return {
        "request_questions": [q["name"] for q in request["questions"]],
        "response_code": response["response_code"] if response else None,
        "answer_count": len(response["answers"]) if response else None,
    }


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    exe = find_mitmdump()

    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    stop = threading.Event()
    threading.Thread(target=dns_server, args=(server, stop), daemon=True).start()
    upstream = server.getsockname()[1]
    listen = free_udp_port()
    with tempfile.TemporaryDirectory() as work:
        partial = Path(work) / "capture.flows"
        addon = Path(work) / "dns_addon.py"
        addon.write_text(ADDON, encoding="utf-8")
        cmd = [
            exe,
            "--listen-host", "127.0.0.1",
            "--mode", f"reverse:dns://127.0.0.1:{upstream}@{listen}",
            "--set", f"confdir={work}/confdir",
            "-s", str(addon),
            "-w", str(partial),
            "-q",
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        try:
            wait_answering(listen, proc)
            client(listen)
            time.sleep(0.5)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=TIMEOUT)
            stop.set()
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(partial, out)
    count = write_truth(out, _protocol)
    print(f"{out}: {count} flows, truth in {out.name}.json ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
