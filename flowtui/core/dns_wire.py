"""DNS wire format (RFC 1035, RFC 9460 for HTTPS/SVCB data), as mitmproxy 11 reads and
writes it.

flowtui's DNS model must give the very bytes and the very failures mitmproxy gives,
because a DNS flow stores parsed messages and a user compares what both tools show.
So this follows mitmproxy's rules, quirks included, rather than a stricter reading:

- a malformed message raises `struct.error` (the exception mitmproxy's proxy catches);
  a name that does not survive re-encoding in record data raises what the `idna`
  codec raises, as in mitmproxy;
- compression pointers are followed in names; in the data of the record types that may
  hold names (`may_compress`), every byte that looks like a pointer to a name is
  replaced by that name, a heuristic that also rewrites bytes which only look like one;
- names are written without compression, labels through the `idna` codec.

The functions work on plain tuples; `flowtui.core.dns` turns them into the model.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from flowtui.core.dns_codes import types

__all__ = [
    "HEADER",
    "QUESTION",
    "RECORD",
    "HTTPSRecord",
    "NameCache",
    "RawMessage",
    "RawQuestion",
    "RawRecord",
    "SVCParamKeys",
    "decompress_rdata",
    "domain_names",
    "https_records",
    "may_compress",
    "pack_https",
    "pack_message",
    "pack_name",
    "unpack_https",
    "unpack_message_from",
    "unpack_name",
    "unpack_name_compressed",
    "unpack_name_from",
]

HEADER = struct.Struct("!HHHHHH")
"""Message header: id, flags, then the four section counts."""
QUESTION = struct.Struct("!HH")
"""After a question's name: type, class."""
RECORD = struct.Struct("!HHIH")
"""After a record's name: type, class, TTL, data length."""

_POINTER = 0b1100_0000
_U8 = struct.Struct("!B")
_U16 = struct.Struct("!H")
_I16 = struct.Struct("!h")

NameCache = dict[int, tuple[str, int] | None]
"""Names already read in one message, by offset; None while a name is being read (a
pointer back to it is a loop)."""

RawQuestion = tuple[str, int, int]
"""name, type, class"""
RawRecord = tuple[str, int, int, int, bytes]
"""name, type, class, TTL, data"""


@dataclass
class RawMessage:
    """A message as read off the wire, before it becomes a `flowtui.core.dns.Message`."""

    id: int
    flags: int
    questions: list[RawQuestion]
    answers: list[RawRecord]
    authorities: list[RawRecord]
    additionals: list[RawRecord]


# -- names --------------------------------------------------------------------------------


def _read_label(labels: list[str], buffer: bytes, offset: int) -> int:
    """Append the label at `offset` (none for the root label); return its wire size."""
    size: int = _U8.unpack_from(buffer, offset)[0]
    if size >= 64:
        raise struct.error(f"unpack encountered a label of length {size}")
    if size == 0:
        return 1
    start, end = offset + 1, offset + 1 + size
    if end > len(buffer):
        raise struct.error(f"unpack requires a label buffer of {size} bytes")
    try:
        labels.append(buffer[start:end].decode("idna"))
    except UnicodeDecodeError:
        raise struct.error(f"unpack encountered an illegal characters at offset {start}") from None
    return 1 + size


def unpack_name_compressed(buffer: bytes, offset: int, cache: NameCache) -> tuple[str, int]:
    """The name at `offset` of a message, following pointers, and its size there."""
    if offset in cache:
        known = cache[offset]
        if known is None:
            raise struct.error("unpack encountered domain name loop")
        return known
    cache[offset] = None
    start = offset
    labels: list[str] = []
    while True:
        (size,) = _U8.unpack_from(buffer, offset)
        if size & _POINTER == _POINTER:
            (pointer,) = _U16.unpack_from(buffer, offset)
            offset += 2
            target, _ = unpack_name_compressed(buffer, pointer & 0x3FFF, cache)
            labels.append(target)
            break
        offset += _read_label(labels, buffer, offset)
        if size == 0:
            break
    result = ".".join(labels), offset - start
    cache[start] = result
    return result


def unpack_name_from(buffer: bytes, offset: int) -> tuple[str, int]:
    """A name in record data (no pointers allowed) at `offset`, and the offset after it."""
    labels: list[str] = []
    while True:
        (size,) = _U8.unpack_from(buffer, offset)
        if size & _POINTER == _POINTER:
            raise struct.error("unpack encountered a pointer which is not supported in RDATA")
        offset += _read_label(labels, buffer, offset)
        if size == 0:
            return ".".join(labels), offset


def unpack_name(data: bytes) -> str:
    """Record data that is exactly one name (no pointers), as text."""
    name, end = unpack_name_from(data, 0)
    if end != len(data):
        raise struct.error(f"unpack requires a buffer of {end} bytes")
    return name


def pack_name(name: str) -> bytes:
    """A name as wire labels, without compression; `""` is the root."""
    out = bytearray()
    if name:
        for part in name.split("."):
            label = part.encode("idna")
            if not label:
                raise ValueError(f"domain name '{name}' contains empty labels")
            if len(label) >= 64:  # the idna codec refuses these first
                raise ValueError(f"encoded label '{part}' of domain name '{name}' is too long")
            out.append(len(label))
            out += label
    out.append(0)
    return bytes(out)


_MAY_COMPRESS = frozenset(
    (
        types.CNAME, types.HINFO, types.MB, types.MD, types.MF, types.MG, types.MINFO,
        types.MR, types.MX, types.NS, types.PTR, types.SOA, types.TXT, types.RP,
        types.AFSDB, types.RT, types.SIG, types.PX, types.NXT, types.NAPTR, types.SRV,
    )
)  # fmt: skip


def may_compress(record_type: int) -> bool:
    """Whether the data of this record type can hold compressed names (RFC 3597 list)."""
    return record_type in _MAY_COMPRESS


def decompress_rdata(buffer: bytes, start: int, end: int, cache: NameCache) -> bytes:
    """The record data at `buffer[start:end]` with every pointer-like byte that resolves
    to a name replaced by that name's labels (mitmproxy's scan, kept byte for byte:
    the output offset advances by the name's text length, as mitmproxy's does)."""
    data = bytearray(buffer[start:end])
    pos = 0
    grown = 0
    while pos < end - start:
        if buffer[start + pos] & _POINTER == _POINTER:
            try:
                name, size = unpack_name_compressed(buffer, start + pos, cache)
            except struct.error:  # not a pointer after all
                pass
            else:
                data[pos + grown : pos + grown + size] = pack_name(name)
                grown += len(name)
                pos += size
                continue
        pos += 1
    return bytes(data)


# -- messages -----------------------------------------------------------------------------


def unpack_message_from(buffer: bytes, offset: int) -> tuple[int, RawMessage]:
    """The message at `offset` and the offset after it; `struct.error` if malformed."""
    msg_id, flags, n_questions, n_answers, n_authorities, n_additionals = HEADER.unpack_from(
        buffer, offset
    )
    offset += HEADER.size
    cache: NameCache = {}
    msg = RawMessage(msg_id, flags, [], [], [], [])

    for i in range(n_questions):
        try:
            name, size = unpack_name_compressed(buffer, offset, cache)
            offset += size
            qtype, qclass = QUESTION.unpack_from(buffer, offset)
            offset += QUESTION.size
        except struct.error as e:
            raise struct.error(f"question #{i}: {e}") from None
        msg.questions.append((name, qtype, qclass))

    for section, label, count in (
        (msg.answers, "answer", n_answers),
        (msg.authorities, "authority", n_authorities),
        (msg.additionals, "additional", n_additionals),
    ):
        for i in range(count):
            try:
                name, size = unpack_name_compressed(buffer, offset, cache)
                offset += size
                rtype, rclass, ttl, length = RECORD.unpack_from(buffer, offset)
                offset += RECORD.size
                end = offset + length
                if end > len(buffer):
                    raise struct.error(f"unpack requires a data buffer of {length} bytes")
                if may_compress(rtype):
                    data = decompress_rdata(buffer, offset, end, cache)
                else:
                    data = bytes(buffer[offset:end])
                offset = end
            except struct.error as e:
                raise struct.error(f"{label} #{i}: {e}") from None
            section.append((name, rtype, rclass, ttl, data))
    return offset, msg


def pack_message(msg: RawMessage) -> bytes:
    """A message as wire bytes (names uncompressed); `struct.error` or `ValueError` if a
    field does not fit."""
    out = bytearray(
        HEADER.pack(
            msg.id,
            msg.flags,
            len(msg.questions),
            len(msg.answers),
            len(msg.authorities),
            len(msg.additionals),
        )
    )
    for name, qtype, qclass in msg.questions:
        out += pack_name(name)
        out += QUESTION.pack(qtype, qclass)
    for name, rtype, rclass, ttl, data in (*msg.answers, *msg.authorities, *msg.additionals):
        out += pack_name(name)
        out += RECORD.pack(rtype, rclass, ttl, len(data))
        out += data
    return bytes(out)


# -- HTTPS and SVCB record data (RFC 9460) ------------------------------------------------


class SVCParamKeys(enum.Enum):
    """Service parameter keys."""

    MANDATORY = 0
    ALPN = 1
    NO_DEFAULT_ALPN = 2
    PORT = 3
    IPV4HINT = 4
    ECH = 5
    IPV6HINT = 6


@dataclass
class HTTPSRecord:
    """The data of an HTTPS record: priority, target name and service parameters."""

    priority: int
    """SvcPriority (0: alias form)."""
    target_name: str
    """TargetName; `""` is the root (the owner name itself)."""
    params: dict[int, bytes]
    """SvcParams by key, values as on the wire, in wire order."""

    def __repr__(self) -> str:
        named: dict[str, bytes] = {}
        for key, value in self.params.items():
            try:
                named[SVCParamKeys(key).name.lower()] = value
            except ValueError:
                named[f"key{key}"] = value
        return f"priority: {self.priority} target_name: '{self.target_name}' {named}"


def unpack_https(data: bytes) -> HTTPSRecord:
    """HTTPS record data as an `HTTPSRecord`; `struct.error` if malformed."""
    (priority,) = _I16.unpack(data[:2])
    target, offset = unpack_name_from(data, 2)
    params: dict[int, bytes] = {}
    while offset < len(data):
        (key,) = _U16.unpack(data[offset : offset + 2])
        (size,) = _U16.unpack(data[offset + 2 : offset + 4])
        offset += 4
        if offset + size > len(data):
            raise struct.error(f"unpack requires a buffer of {offset + size} bytes")
        params[key] = data[offset : offset + size]
        offset += size
    return HTTPSRecord(priority=priority, target_name=target, params=params)


def pack_https(record: HTTPSRecord) -> bytes:
    """An `HTTPSRecord` as record data."""
    out = bytearray(_I16.pack(record.priority))
    out += pack_name(record.target_name)
    for key, value in record.params.items():
        out += _U16.pack(key) + _U16.pack(len(value)) + value
    return bytes(out)


# -- mitmproxy's module names, for scripts that call them through `dns` ------------------


class domain_names:  # lower case: named as mitmproxy's module
    """Name (de)serialisation under the names of `mitmproxy.net.dns.domain_names`."""

    cache = staticmethod(NameCache)
    pack = staticmethod(pack_name)
    unpack = staticmethod(unpack_name)
    unpack_from = staticmethod(unpack_name_from)
    unpack_from_with_compression = staticmethod(unpack_name_compressed)
    record_data_can_have_compression = staticmethod(may_compress)
    decompress_from_record_data = staticmethod(decompress_rdata)


class https_records:  # lower case: named as mitmproxy's module
    """HTTPS record data under the names of `mitmproxy.net.dns.https_records`."""

    HTTPSRecord = HTTPSRecord
    SVCParamKeys = SVCParamKeys
    pack = staticmethod(pack_https)
    unpack = staticmethod(unpack_https)
