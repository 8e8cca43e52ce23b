"""TCP and UDP flows as a pcap file that Wireshark, tshark and tcpdump dissect.

mitmproxy records the data each side sent, not packets, so the packets are made up:
for a TCP flow a three-way handshake, the data of each message in segments of at most
one MSS with running sequence and acknowledgement numbers, acknowledged by the other
side after each message and every 32 kB (so the window never fills), and a FIN from each side
when the connection was closed; for a UDP flow one datagram per message. They carry
the flow's real addresses (client to server, as if there were no proxy between them)
and timestamps, and correct IPv4, TCP and UDP checksums, so "Follow TCP Stream" shows
the conversation and the protocol dissectors (HTTP, SMTP, DNS, TLS...) work on it.

The file is classic libpcap (microsecond timestamps) with LINKTYPE_RAW: each packet
starts at its IP header, IPv4 or IPv6. A host that is not an IP address (a server known
only by name) is given an address from the documentation ranges (192.0.2.0/24,
2001:db8::/32); a flow between an IPv4 and an IPv6 address is written in IPv6 with the
IPv4 side mapped (``::ffff:a.b.c.d``). Sequence numbers start from a value derived from
the flow id, so the same flows always give the same file.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flowtui.core import Flow, TCPFlow, UDPFlow
from flowtui.export.errors import ExportError

__all__ = ["LINKTYPE_RAW", "MSS", "pcap_bytes", "pcap_packets"]

LINKTYPE_RAW = 101
"""Link type of packets that start with the IP header."""

MSS = 1460
"""Largest TCP payload per segment (an Ethernet MTU of 1500 less IPv4 and TCP headers;
IPv6 segments carry 20 bytes less)."""

_SNAPLEN = 262144
_ACK_EVERY = 32768
"""Bytes a receiver takes before it acknowledges (half the 65535-byte window written)."""
_FIN, _SYN, _PSH, _ACK = 0x01, 0x02, 0x08, 0x10
_UDP_MAX = 65535 - 8 - 40
"""The largest UDP payload that fits one IPv6 datagram (IPv4 allows 20 bytes more)."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of `data`."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@dataclass
class _Endpoint:
    ip: IPAddress
    port: int


def _ip(host: Any, fallback: str) -> IPAddress:
    try:
        return ipaddress.ip_address(host.split("%")[0] if isinstance(host, str) else host)
    except ValueError:
        return ipaddress.ip_address(fallback)


def _endpoints(flow: TCPFlow | UDPFlow) -> tuple[_Endpoint, _Endpoint]:
    client = flow.client_conn.peername
    server = flow.server_conn.peername or flow.server_conn.address
    c_ip = _ip(client[0] if client else None, "192.0.2.1")
    s_ip = _ip(server[0] if server else None, "192.0.2.2")
    if c_ip.version != s_ip.version:
        if c_ip.version == 4:
            c_ip = ipaddress.IPv6Address(f"::ffff:{c_ip}")
        if s_ip.version == 4:
            s_ip = ipaddress.IPv6Address(f"::ffff:{s_ip}")
    c_port = client[1] if client else 0
    s_port = server[1] if server else 0
    for port in (c_port, s_port):
        if not isinstance(port, int) or not 0 <= port <= 0xFFFF:
            raise ExportError(f"flow {flow.id[:8]}: {port!r} is not a port number")
    return _Endpoint(c_ip, c_port), _Endpoint(s_ip, s_port)


class _IP:
    """Builds IP packets between two addresses (identification counts up per packet)."""

    def __init__(self) -> None:
        self.ident = 0

    def packet(self, src: IPAddress, dst: IPAddress, proto: int, segment: bytes) -> bytes:
        if src.version == 4:
            self.ident = (self.ident + 1) & 0xFFFF
            header = struct.pack(
                "!BBHHHBBH4s4s",
                0x45,
                0,
                20 + len(segment),
                self.ident,
                0x4000,  # don't fragment
                64,
                proto,
                0,
                src.packed,
                dst.packed,
            )
            header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
            return header + segment
        header = struct.pack(
            "!IHBB16s16s", 6 << 28, len(segment), proto, 64, src.packed, dst.packed
        )
        return header + segment

    @staticmethod
    def pseudo(src: IPAddress, dst: IPAddress, proto: int, length: int) -> bytes:
        if src.version == 4:
            return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
        return src.packed + dst.packed + struct.pack("!IxxxB", length, proto)


def _tcp(
    ip: _IP, src: _Endpoint, dst: _Endpoint, seq: int, ack: int, flags: int, data: bytes = b""
) -> bytes:
    options = struct.pack("!BBH", 2, 4, MSS) if flags & _SYN else b""
    offset = (20 + len(options)) // 4
    header = struct.pack(
        "!HHIIBBHHH", src.port, dst.port, seq, ack, offset << 4, flags, 65535, 0, 0
    )
    segment = header + options + data
    total = _checksum(_IP.pseudo(src.ip, dst.ip, 6, len(segment)) + segment)
    segment = segment[:16] + struct.pack("!H", total) + segment[18:]
    return ip.packet(src.ip, dst.ip, 6, segment)


def _udp(ip: _IP, src: _Endpoint, dst: _Endpoint, data: bytes) -> bytes:
    header = struct.pack("!HHHH", src.port, dst.port, 8 + len(data), 0)
    total = _checksum(_IP.pseudo(src.ip, dst.ip, 17, 8 + len(data)) + header + data)
    header = header[:6] + struct.pack("!H", total or 0xFFFF)
    return ip.packet(src.ip, dst.ip, 17, header + data)


def _isn(flow_id: str, side: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{flow_id}/{side}".encode()).digest()[:4], "big")


_LAST_TIME = 2**32 - 1
"""The last second a classic pcap header can hold."""


def _usable(when: float | None) -> bool:
    return when is not None and math.isfinite(when) and 0 <= when <= _LAST_TIME


class _Clock:
    """Packet times: never earlier than the packet before; a time a pcap cannot hold
    (NaN, infinite, negative, past 2106) leaves the clock where it was."""

    def __init__(self, start: float | None) -> None:
        self.now = start if start is not None and _usable(start) else 0.0

    def at(self, when: float | None) -> float:
        if when is not None and _usable(when) and when > self.now:
            self.now = when
        return self.now


def _first_time(flow: TCPFlow | UDPFlow) -> float | None:
    times = [flow.client_conn.timestamp_start]
    times += [m.timestamp for m in flow.messages[:1]]
    usable = [t for t in times if t is not None and _usable(t)]
    return min(usable) if usable else None


def _tcp_packets(flow: TCPFlow, ip: _IP) -> Iterator[tuple[float, bytes]]:
    client, server = _endpoints(flow)
    mss = MSS if client.ip.version == 4 else MSS - 20
    clock = _Clock(_first_time(flow))
    seq = {True: _isn(flow.id, "client"), False: _isn(flow.id, "server")}
    ends = {True: (client, server), False: (server, client)}
    mask = 0xFFFFFFFF

    yield clock.at(None), _tcp(ip, client, server, seq[True], 0, _SYN)
    seq[True] = (seq[True] + 1) & mask
    setup = clock.at(flow.server_conn.timestamp_tcp_setup)
    yield setup, _tcp(ip, server, client, seq[False], seq[True], _SYN | _ACK)
    seq[False] = (seq[False] + 1) & mask
    yield setup, _tcp(ip, client, server, seq[True], seq[False], _ACK)
    for m in flow.messages:
        src, dst = ends[m.from_client]
        when = clock.at(m.timestamp)
        data = m.content
        unacked = 0
        for at in range(0, len(data), mss):
            chunk = data[at : at + mss]
            last = at + mss >= len(data)
            flags = _ACK | (_PSH if last else 0)
            pkt = _tcp(ip, src, dst, seq[m.from_client], seq[not m.from_client], flags, chunk)
            yield when, pkt
            seq[m.from_client] = (seq[m.from_client] + len(chunk)) & mask
            unacked += len(chunk)
            if last or unacked >= _ACK_EVERY:  # the receiver acknowledges: its window reopens
                yield when, _tcp(ip, dst, src, seq[not m.from_client], seq[m.from_client], _ACK)
                unacked = 0
    closed = [t for t in (flow.client_conn.timestamp_end, flow.server_conn.timestamp_end) if t]
    if not closed:
        return
    when = clock.at(min(closed))
    yield when, _tcp(ip, client, server, seq[True], seq[False], _FIN | _ACK)
    seq[True] = (seq[True] + 1) & mask
    when = clock.at(max(closed))
    yield when, _tcp(ip, server, client, seq[False], seq[True], _FIN | _ACK)
    seq[False] = (seq[False] + 1) & mask
    yield when, _tcp(ip, client, server, seq[True], seq[False], _ACK)


def _udp_packets(flow: UDPFlow, ip: _IP) -> Iterator[tuple[float, bytes]]:
    client, server = _endpoints(flow)
    clock = _Clock(_first_time(flow))
    for m in flow.messages:
        if len(m.content) > _UDP_MAX:
            raise ExportError(
                f"flow {flow.id[:8]}: a UDP message of {len(m.content)} bytes does not fit "
                "a datagram"
            )
        src, dst = (client, server) if m.from_client else (server, client)
        yield clock.at(m.timestamp), _udp(ip, src, dst, m.content)


def pcap_packets(flows: Sequence[Flow]) -> list[tuple[float, bytes]]:
    """(timestamp, IP packet) for every TCP and UDP flow among `flows`, in time order
    (the packets of simultaneous flows interleave as they happened)."""
    ip = _IP()
    packets: list[tuple[float, bytes]] = []
    for flow in flows:
        if isinstance(flow, TCPFlow):
            packets += _tcp_packets(flow, ip)
        elif isinstance(flow, UDPFlow):
            packets += _udp_packets(flow, ip)
    packets.sort(key=lambda p: p[0])  # stable: a flow's own order is kept on ties
    return packets


def pcap_bytes(flows: Sequence[Flow]) -> bytes:
    """A libpcap file of the TCP and UDP flows among `flows`."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, _SNAPLEN, LINKTYPE_RAW)]
    for when, packet in pcap_packets(flows):
        seconds = int(when)
        micros = min(round((when - seconds) * 1_000_000), 999_999)
        out.append(struct.pack("<IIII", seconds, micros, len(packet), len(packet)))
        out.append(packet)
    return b"".join(out)
