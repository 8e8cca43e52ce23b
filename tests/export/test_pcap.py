"""The pcap export read back with dpkt (an independent parser): the packets' checksums
are right, the handshake, sequence numbers and FINs make a well-formed TCP conversation,
and each direction's reassembled stream equals what the flow's side sent."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from export_oracle import flows_of_type

from flowtui.core import TCPFlow, TCPMessage, UDPFlow
from flowtui.export import ExportError, export
from flowtui.export.pcap import MSS
from flowtui.export.tcp import client_bytes, hexdump, server_bytes

dpkt = pytest.importorskip("dpkt")

STREAMS = flows_of_type("tcp") + flows_of_type("udp")
IDS = [name for name, _, _ in STREAMS]


def _packets(data: bytes) -> list[tuple[float, Any]]:
    reader = dpkt.pcap.Reader(io.BytesIO(data))
    assert reader.datalink() == dpkt.pcap.DLT_RAW or reader.datalink() == 101
    out = []
    for ts, buf in reader:
        ip = dpkt.ip.IP(buf) if buf[0] >> 4 == 4 else dpkt.ip6.IP6(buf)
        out.append((ts, ip))
    return out


def _check_sums(ip: Any) -> None:
    """dpkt recomputes every checksum that is zeroed; ours must equal its values."""
    raw = bytes(ip)
    again = type(ip)(raw)
    transport = again.data
    theirs = transport.sum
    transport.sum = 0
    if isinstance(again, dpkt.ip.IP):
        ip_sum = again.sum
        again.sum = 0
        rebuilt = type(ip)(bytes(again))
        assert rebuilt.sum == ip_sum
    else:
        rebuilt = type(ip)(bytes(again))
    assert rebuilt.data.sum == theirs


def _ip_or(host: str, fallback: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return fallback


def _addr(ip: Any) -> tuple[str, str]:
    import ipaddress

    return str(ipaddress.ip_address(ip.src)), str(ipaddress.ip_address(ip.dst))


def _reassembled(packets: list[tuple[float, Any]]) -> dict[bool, bytes]:
    """The two directions' data, by sequence number; checks the TCP state machine."""
    first = packets[0][1]
    client = (first.src, first.data.sport)
    syn = first.data
    assert syn.flags == dpkt.tcp.TH_SYN
    synack = packets[1][1].data
    assert synack.flags == dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK
    assert synack.ack == syn.seq + 1
    assert packets[2][1].data.flags == dpkt.tcp.TH_ACK
    next_seq = {True: syn.seq + 1, False: synack.seq + 1}
    data = {True: b"", False: b""}
    fins = 0
    for _, ip in packets[3:]:
        seg = ip.data
        side = (ip.src, seg.sport) == client
        assert seg.seq == next_seq[side] & 0xFFFFFFFF
        assert seg.ack == next_seq[not side] & 0xFFFFFFFF
        assert seg.flags & dpkt.tcp.TH_ACK
        assert len(seg.data) <= MSS
        data[side] += seg.data
        next_seq[side] += len(seg.data)
        if seg.flags & dpkt.tcp.TH_FIN:
            fins += 1
            next_seq[side] += 1
    assert fins in (0, 2)
    return data


@pytest.mark.parametrize(("name", "flow", "theirs"), STREAMS, ids=IDS)
def test_pcap_reassembles_to_the_flow(name: str, flow: Any, theirs: Any) -> None:
    packets = _packets(export([flow], "pcap"))
    for _, ip in packets:
        _check_sums(ip)
    times = [ts for ts, _ in packets]
    assert times == sorted(times)
    if isinstance(flow, TCPFlow):  # the SYN when the client connected
        assert times[0] == pytest.approx(flow.client_conn.timestamp_start, abs=1e-6)
    else:  # a datagram when the proxy received it
        assert times == pytest.approx([m.timestamp for m in flow.messages], abs=1e-6)
    client = flow.client_conn.peername
    server = flow.server_conn.peername or flow.server_conn.address
    assert _addr(packets[0][1]) == (client[0], _ip_or(server[0], "192.0.2.2"))
    if isinstance(flow, TCPFlow):
        assert packets[0][1].data.sport == client[1]
        assert packets[0][1].data.dport == server[1]
        data = _reassembled(packets)
        assert data[True] == client_bytes(flow) == b"".join(theirs_client(theirs))
        assert data[False] == server_bytes(flow)
    else:
        assert isinstance(flow, UDPFlow)
        payloads = [
            (_addr(ip)[0] == client[0] and ip.data.sport == client[1], ip.data.data)
            for _, ip in packets
        ]
        assert payloads == [(m.from_client, m.content) for m in flow.messages]


def theirs_client(theirs: Any) -> list[bytes]:
    """mitmproxy's own reading of what the client sent."""
    return [m.content for m in theirs.messages if m.from_client]


def test_pcap_of_all_streams_interleaves_by_time() -> None:
    flows = [f for _, f, _ in STREAMS]
    packets = _packets(export(flows, "pcap"))
    assert [ts for ts, _ in packets] == sorted(ts for ts, _ in packets)
    assert sum(len(ip.data.data) for _, ip in packets) == sum(
        len(m.content) for f in flows for m in f.messages
    )


def _synthetic(client: tuple[Any, int], server: tuple[Any, int], sizes: list[int]) -> TCPFlow:
    _, base, _ = next(s for s in STREAMS if isinstance(s[1], TCPFlow))
    flow = base.copy()
    flow.client_conn.peername = client
    flow.server_conn.peername = None
    flow.server_conn.address = server
    t = flow.client_conn.timestamp_start
    flow.messages = [
        TCPMessage(i % 2 == 0, bytes([i % 256]) * n, t + i) for i, n in enumerate(sizes)
    ]
    return flow


@pytest.mark.parametrize(
    ("client", "server", "expected"),
    [
        (("2001:db8::1", 50000), ("2001:db8::2", 443), ("2001:db8::1", "2001:db8::2")),
        (("10.0.0.1", 50000), ("example.com", 25), ("10.0.0.1", "192.0.2.2")),
        (("10.0.0.1", 50000), ("::1", 80), ("::ffff:10.0.0.1", "::1")),
    ],
)
def test_big_segments_ipv6_and_named_hosts(client: Any, server: Any, expected: Any) -> None:
    flow = _synthetic(client, server, [70_000, 3, 200_000, 1, 0])
    packets = _packets(export([flow], "pcap"))
    for _, ip in packets:
        _check_sums(ip)
    assert _addr(packets[0][1]) == tuple(_ip_or(e, "?") for e in expected)
    data = _reassembled(packets)
    assert data[True] == client_bytes(flow)
    assert data[False] == server_bytes(flow)
    assert max(len(ip.data.data) for _, ip in packets) == (
        MSS if "." in expected[0] and ":" not in expected[0] else MSS - 20
    )


def test_pcap_needs_a_stream_flow() -> None:
    http = flows_of_type("http")
    with pytest.raises(ExportError, match="pcap needs a TCP or UDP flow"):
        export([http[0][1]], "pcap")


def test_stream_bytes_and_hexdump() -> None:
    flow = _synthetic(("10.0.0.1", 5), ("10.0.0.2", 6), [20, 3])
    flow.messages[0].content = b"\x1b[2J hello [/bold]\x00\r"
    assert export([flow], "tcp_raw_client") == flow.messages[0].content
    assert export([flow], "tcp_raw_server") == b"\x01" * 3
    dump = hexdump(flow).decode("ascii")
    assert "\x1b" not in dump and "\x00" not in dump
    lines = dump.splitlines()
    assert lines[1].startswith("client -> server  20 bytes")
    assert lines[2].startswith(
        "00000000  1b 5b 32 4a 20 68 65 6c 6c 6f 20 5b 2f 62 6f 6c  |.[2J hello [/bol|"
    )
    assert lines[-1].startswith("00000000  01 01 01 ")


def test_impossible_times_and_ports() -> None:
    """Times a pcap cannot hold keep the clock where it was; a port beyond 65535 is
    refused with the flow named."""
    flow = _synthetic(("10.0.0.1", 5), ("10.0.0.2", 6), [10, 20, 30])
    flow.messages[1].timestamp = float("nan")
    flow.messages[2].timestamp = float("inf")
    packets = _packets(export([flow], "pcap"))
    times = [ts for ts, _ in packets]
    assert times == sorted(times)
    # Packets of the NaN and infinite messages are sent "when the one before was", so
    # no time reaches where message 1 (at +1 s) would have been.
    assert times[-1] < flow.messages[0].timestamp + 1
    assert _reassembled(packets)[True] == client_bytes(flow)
    flow.client_conn.peername = ("10.0.0.1", 70000)
    with pytest.raises(ExportError, match="70000 is not a port number"):
        export([flow], "pcap")


TSHARK = shutil.which("tshark")


@pytest.mark.skipif(TSHARK is None, reason="needs tshark (Wireshark's command line)")
def test_wireshark_dissects_every_stream_without_complaint(tmp_path: Path) -> None:
    """tshark, with checksum validation on, finds no warning or error in the pcap of
    every TCP and UDP flow, and its "Follow TCP Stream" gives each flow's data."""
    # Each flow once (the shared fixtures repeat some captures of tests/data).
    unique = {f.id: f for _, f, _ in STREAMS}
    flows = [*unique.values(), _synthetic(("10.0.0.1", 5), ("10.0.0.2", 25), [200_000, 7])]
    path = tmp_path / "all.pcap"
    path.write_bytes(export(flows, "pcap"))
    checks = ["-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"]
    checks += ["-o", "udp.check_checksum:TRUE"]
    expert = subprocess.run(
        [TSHARK, "-r", str(path), *checks, "-q", "-z", "expert,warn"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "Warns" not in expert and "Errors" not in expert, expert
    tcp = [f for f in flows if isinstance(f, TCPFlow)]
    follow = [arg for n in range(len(tcp)) for arg in ("-z", f"follow,tcp,raw,{n}")]
    out = subprocess.run(
        [TSHARK, "-r", str(path), "-q", *follow],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    streams = {}
    for block in out.split("=" * 67)[1:]:
        lines = block.strip("\n").splitlines()
        if not lines or not lines[0].startswith("Follow: tcp,raw"):
            continue
        node0 = lines[2].split(": ", 1)[1]
        sent = {True: b"", False: b""}
        for line in lines[4:]:
            if line.strip():
                sent[not line.startswith("\t")] += bytes.fromhex(line.strip())
        streams[node0] = sent
    for f in tcp:
        client = f.client_conn.peername
        data = streams[f"{_ip_or(client[0], '?')}:{client[1]}"]
        assert data[True] == client_bytes(f)
        assert data[False] == server_bytes(f)
