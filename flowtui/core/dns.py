"""DNS flows and messages, mirroring `mitmproxy.dns` (mitmproxy 11).

A `DNSFlow` is one query (`request`) and its answer (`response`), each a parsed DNS
`Message` (also exported as `DNSMessage`, since `flowtui.core.Message` is HTTP's).
State layout, reprs, JSON form and wire bytes are mitmproxy's, so a script written
against `mitmproxy.dns` runs unchanged and a flow saved by flowtui reads back in
mitmproxy as it was. Record data is kept as the bytes it was read as: a record of a
type flowtui cannot show (or with data that does not parse) still round-trips, and its
`str()` says so, as mitmproxy's does.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import random
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from flowtui.core import dns_wire
from flowtui.core.dns_codes import classes, op_codes, response_codes, types
from flowtui.core.dns_wire import HTTPSRecord, SVCParamKeys, domain_names, https_records
from flowtui.core.flow import Flow
from flowtui.core.serializable import (
    BOOL,
    BYTES,
    FLOAT,
    INT,
    STR,
    ListOf,
    Nested,
    SerializableDataclass,
    State,
    sfield,
)

__all__ = [
    "DNSFlow",
    "DNSMessage",
    "HTTPSRecord",
    "Message",
    "Question",
    "ResourceRecord",
    "SVCParamKeys",
    "classes",
    "domain_names",
    "https_records",
    "op_codes",
    "response_codes",
    "types",
]


@dataclass
class Question(SerializableDataclass):
    """One entry of the question section: what is asked."""

    HEADER: ClassVar[struct.Struct] = dns_wire.QUESTION

    name: str = sfield(STR)
    """The domain name asked about."""
    type: int = sfield(INT)
    """The record type asked for (`types.A`, ...)."""
    class_: int = sfield(INT)
    """The class (almost always `classes.IN`)."""

    def __str__(self) -> str:
        return self.name

    def to_json(self) -> dict[str, Any]:
        """The question as mitmweb's JSON shows it (type and class by name)."""
        return {
            "name": self.name,
            "type": types.to_str(self.type),
            "class": classes.to_str(self.class_),
        }


def _alpn_tokens(value: bytes) -> tuple[bytes, ...]:
    tokens = []
    pos = 0
    while pos < len(value):
        size = value[pos]
        tokens.append(value[pos + 1 : pos + 1 + size])
        pos += 1 + size
    return tuple(tokens)


@dataclass
class ResourceRecord(SerializableDataclass):
    """One resource record of the answer, authority or additional section.

    `data` is the record's data as bytes; the typed properties read and write it for the
    common types, and raise (as mitmproxy's do) when the data is not of that form."""

    DEFAULT_TTL: ClassVar[int] = 60
    HEADER: ClassVar[struct.Struct] = dns_wire.RECORD

    name: str = sfield(STR)
    """The domain name this record belongs to."""
    type: int = sfield(INT)
    """The record type (`types.A`, ...)."""
    class_: int = sfield(INT)
    """The class (almost always `classes.IN`)."""
    ttl: int = sfield(INT)
    """Seconds the record may be cached."""
    data: bytes = sfield(BYTES)
    """The record data (RDATA), names in it uncompressed."""

    def __str__(self) -> str:
        try:
            if self.type == types.A:
                return str(self.ipv4_address)
            if self.type == types.AAAA:
                return str(self.ipv6_address)
            if self.type in (types.NS, types.CNAME, types.PTR):
                return self.domain_name
            if self.type == types.TXT:
                return self.text
            if self.type == types.HTTPS:
                return str(dns_wire.unpack_https(self.data))
        except Exception:  # any data that does not parse is shown as hex, as mitmproxy
            return f"0x{self.data.hex()} (invalid {types.to_str(self.type)} data)"
        return f"0x{self.data.hex()}"

    @property
    def text(self) -> str:
        """The data as UTF-8 text (`UnicodeDecodeError` if it is not)."""
        return self.data.decode("utf-8")

    @text.setter
    def text(self, value: str) -> None:
        self.data = value.encode("utf-8")

    @property
    def ipv4_address(self) -> ipaddress.IPv4Address:
        """The data as an IPv4 address (`AddressValueError` unless it is 4 bytes)."""
        return ipaddress.IPv4Address(self.data)

    @ipv4_address.setter
    def ipv4_address(self, ip: ipaddress.IPv4Address) -> None:
        self.data = ip.packed

    @property
    def ipv6_address(self) -> ipaddress.IPv6Address:
        """The data as an IPv6 address (`AddressValueError` unless it is 16 bytes)."""
        return ipaddress.IPv6Address(self.data)

    @ipv6_address.setter
    def ipv6_address(self, ip: ipaddress.IPv6Address) -> None:
        self.data = ip.packed

    @property
    def domain_name(self) -> str:
        """The data as one domain name (`struct.error` if it is not exactly one)."""
        return dns_wire.unpack_name(self.data)

    @domain_name.setter
    def domain_name(self, name: str) -> None:
        self.data = dns_wire.pack_name(name)

    @property
    def https_alpn(self) -> tuple[bytes, ...] | None:
        """The ALPN protocols of HTTPS record data, or None if it has none."""
        value = dns_wire.unpack_https(self.data).params.get(SVCParamKeys.ALPN.value)
        return None if value is None else _alpn_tokens(value)

    @https_alpn.setter
    def https_alpn(self, alpn: Iterable[bytes] | None) -> None:
        record = dns_wire.unpack_https(self.data)
        if alpn is None:
            record.params.pop(SVCParamKeys.ALPN.value, None)
        else:
            record.params[SVCParamKeys.ALPN.value] = b"".join(bytes([len(a)]) + a for a in alpn)
        self.data = dns_wire.pack_https(record)

    @property
    def https_ech(self) -> str | None:
        """The ECH configuration of HTTPS record data in base64, or None."""
        value = dns_wire.unpack_https(self.data).params.get(SVCParamKeys.ECH.value)
        return None if value is None else base64.b64encode(value).decode("utf-8")

    @https_ech.setter
    def https_ech(self, ech: str | None) -> None:
        record = dns_wire.unpack_https(self.data)
        if ech is None:
            record.params.pop(SVCParamKeys.ECH.value, None)
        else:
            record.params[SVCParamKeys.ECH.value] = base64.b64decode(ech.encode("utf-8"))
        self.data = dns_wire.pack_https(record)

    def to_json(self) -> dict[str, Any]:
        """The record as mitmweb's JSON shows it (data as `str()` gives it)."""
        return {
            "name": self.name,
            "type": types.to_str(self.type),
            "class": classes.to_str(self.class_),
            "ttl": self.ttl,
            "data": str(self),
        }

    @classmethod
    def A(cls, name: str, ip: ipaddress.IPv4Address, *, ttl: int = DEFAULT_TTL) -> ResourceRecord:
        """An IPv4 address record."""
        return cls(name, types.A, classes.IN, ttl, ip.packed)

    @classmethod
    def AAAA(
        cls, name: str, ip: ipaddress.IPv6Address, *, ttl: int = DEFAULT_TTL
    ) -> ResourceRecord:
        """An IPv6 address record."""
        return cls(name, types.AAAA, classes.IN, ttl, ip.packed)

    @classmethod
    def CNAME(cls, alias: str, canonical: str, *, ttl: int = DEFAULT_TTL) -> ResourceRecord:
        """A canonical name record: `alias` is another name for `canonical`."""
        return cls(alias, types.CNAME, classes.IN, ttl, dns_wire.pack_name(canonical))

    @classmethod
    def PTR(cls, inaddr: str, ptr: str, *, ttl: int = DEFAULT_TTL) -> ResourceRecord:
        """A pointer record (reverse lookup): `inaddr` points to `ptr`."""
        return cls(inaddr, types.PTR, classes.IN, ttl, dns_wire.pack_name(ptr))

    @classmethod
    def TXT(cls, name: str, text: str, *, ttl: int = DEFAULT_TTL) -> ResourceRecord:
        """A text record (the text is stored as is, without length prefixes)."""
        return cls(name, types.TXT, classes.IN, ttl, text.encode("utf-8"))

    @classmethod
    def HTTPS(cls, name: str, record: HTTPSRecord, ttl: int = DEFAULT_TTL) -> ResourceRecord:
        """An HTTPS service binding record."""
        return cls(name, types.HTTPS, classes.IN, ttl, dns_wire.pack_https(record))


def _bounded(value: int, bits: int, what: str) -> int:
    if value < 0 or value >= 1 << bits:
        raise ValueError(f"DNS message's {what} is out of bounds.")
    return value


@dataclass
class Message(SerializableDataclass):
    """A DNS message, query or response (RFC 1035 section 4)."""

    HEADER: ClassVar[struct.Struct] = dns_wire.HEADER

    timestamp: float = sfield(FLOAT)
    """The time at which the message was sent or received."""
    id: int = sfield(INT)
    """The identifier the querier chose; the response repeats it."""
    query: bool = sfield(BOOL)
    """True for a query, False for a response."""
    op_code: int = sfield(INT)
    """The kind of query (`op_codes.QUERY`, ...), copied into the response."""
    authoritative_answer: bool = sfield(BOOL)
    """In a response: the server is an authority for the name asked about."""
    truncation: bool = sfield(BOOL)
    """The message was truncated to fit the transport."""
    recursion_desired: bool = sfield(BOOL)
    """In a query (and copied into the response): resolve the query recursively."""
    recursion_available: bool = sfield(BOOL)
    """In a response: the server supports recursive queries."""
    reserved: int = sfield(INT)
    """The reserved header bits (Z, AD, CD); zero in plain DNS."""
    response_code: int = sfield(INT)
    """The outcome of the query (`response_codes.NOERROR`, ...)."""
    questions: list[Question] = sfield(ListOf(Nested(Question)))
    """The question section (in practice one question)."""
    answers: list[ResourceRecord] = sfield(ListOf(Nested(ResourceRecord)))
    """The answer section."""
    authorities: list[ResourceRecord] = sfield(ListOf(Nested(ResourceRecord)))
    """The authority section."""
    additionals: list[ResourceRecord] = sfield(ListOf(Nested(ResourceRecord)))
    """The additional section."""

    def __str__(self) -> str:
        return "\r\n".join(
            str(part)
            for part in itertools.chain(
                self.questions, self.answers, self.authorities, self.additionals
            )
        )

    @property
    def content(self) -> bytes:
        """Every question and record as text lines (`str()`), UTF-8 encoded."""
        return str(self).encode()

    @property
    def question(self) -> Question | None:
        """The question, if there is exactly one (as DNS practically always has)."""
        return self.questions[0] if len(self.questions) == 1 else None

    @property
    def size(self) -> int:
        """The total data size of the records of all three record sections."""
        return sum(
            len(r.data) for r in itertools.chain(self.answers, self.authorities, self.additionals)
        )

    def fail(self, response_code: int) -> Message:
        """A response to this query failing with `response_code` (not NOERROR); it
        shares this message's question list."""
        if response_code == response_codes.NOERROR:
            raise ValueError("response_code must be an error code.")
        return Message(
            timestamp=time.time(),
            id=self.id,
            query=False,
            op_code=self.op_code,
            authoritative_answer=False,
            truncation=False,
            recursion_desired=self.recursion_desired,
            recursion_available=False,
            reserved=0,
            response_code=response_code,
            questions=self.questions,
            answers=[],
            authorities=[],
            additionals=[],
        )

    def succeed(self, answers: list[ResourceRecord]) -> Message:
        """A successful response to this query with `answers` (the list itself is used);
        it shares this message's question list."""
        return Message(
            timestamp=time.time(),
            id=self.id,
            query=False,
            op_code=self.op_code,
            authoritative_answer=False,
            truncation=False,
            recursion_desired=self.recursion_desired,
            recursion_available=True,
            reserved=0,
            response_code=response_codes.NOERROR,
            questions=self.questions,
            answers=answers,
            authorities=[],
            additionals=[],
        )

    @classmethod
    def unpack(cls, buffer: bytes) -> Message:
        """The message that `buffer` holds exactly; `struct.error` if it is malformed
        or followed by more bytes. Its `timestamp` is now."""
        end, msg = cls.unpack_from(buffer, 0)
        if end != len(buffer):
            raise struct.error(f"unpack requires a buffer of {end} bytes")
        return msg

    @classmethod
    def unpack_from(cls, buffer: bytes | bytearray, offset: int) -> tuple[int, Message]:
        """The message at `offset` of `buffer` and the offset after it."""
        end, raw = dns_wire.unpack_message_from(bytes(buffer), offset)
        flags = raw.flags
        msg = cls(
            timestamp=time.time(),
            id=raw.id,
            query=not flags & 0x8000,
            op_code=(flags >> 11) & 0xF,
            authoritative_answer=bool(flags & 0x0400),
            truncation=bool(flags & 0x0200),
            recursion_desired=bool(flags & 0x0100),
            recursion_available=bool(flags & 0x0080),
            reserved=(flags >> 4) & 0x7,
            response_code=flags & 0xF,
            questions=[Question(*q) for q in raw.questions],
            answers=[ResourceRecord(*r) for r in raw.answers],
            authorities=[ResourceRecord(*r) for r in raw.authorities],
            additionals=[ResourceRecord(*r) for r in raw.additionals],
        )
        return end, msg

    @property
    def packed(self) -> bytes:
        """The message as wire bytes (names uncompressed). `ValueError` if a header field
        is out of range, `struct.error` if a count or record field does not fit."""
        if self.id < 0 or self.id > 0xFFFF:
            raise ValueError(f"DNS message's id {self.id} is out of bounds.")
        flags = 0 if self.query else 0x8000
        flags |= _bounded(self.op_code, 4, f"op_code {self.op_code}") << 11
        flags |= 0x0400 if self.authoritative_answer else 0
        flags |= 0x0200 if self.truncation else 0
        flags |= 0x0100 if self.recursion_desired else 0
        flags |= 0x0080 if self.recursion_available else 0
        flags |= _bounded(self.reserved, 3, f"reserved value of {self.reserved}") << 4
        flags |= _bounded(self.response_code, 4, f"response_code {self.response_code}")
        return dns_wire.pack_message(
            dns_wire.RawMessage(
                self.id,
                flags,
                [(q.name, q.type, q.class_) for q in self.questions],
                [(r.name, r.type, r.class_, r.ttl, r.data) for r in self.answers],
                [(r.name, r.type, r.class_, r.ttl, r.data) for r in self.authorities],
                [(r.name, r.type, r.class_, r.ttl, r.data) for r in self.additionals],
            )
        )

    def to_json(self) -> dict[str, Any]:
        """The message as mitmweb's JSON shows it (codes by name, records as text)."""
        return {
            "id": self.id,
            "query": self.query,
            "op_code": op_codes.to_str(self.op_code),
            "authoritative_answer": self.authoritative_answer,
            "truncation": self.truncation,
            "recursion_desired": self.recursion_desired,
            "recursion_available": self.recursion_available,
            "response_code": response_codes.to_str(self.response_code),
            "status_code": response_codes.http_equiv_status_code(self.response_code),
            "questions": [q.to_json() for q in self.questions],
            "answers": [r.to_json() for r in self.answers],
            "authorities": [r.to_json() for r in self.authorities],
            "additionals": [r.to_json() for r in self.additionals],
            "size": self.size,
            "timestamp": self.timestamp,
        }

    def copy(self) -> Message:
        """A copy with a new random message id (as mitmproxy's)."""
        state = self.get_state()
        state["id"] = random.randint(0, 0xFFFF)  # noqa: S311 (an id, not a secret)
        return Message.from_state(state)


DNSMessage = Message
"""`Message` under a name that does not clash with HTTP's `flowtui.core.Message`."""


class DNSFlow(Flow):
    """A DNS query and, if one came, its response."""

    request: Message
    """The query."""
    response: Message | None = None
    """The response, if any."""

    def get_state(self) -> State:
        return {
            **super().get_state(),
            "request": self.request.get_state(),
            "response": self.response.get_state() if self.response else None,
        }

    def set_state(self, state: State) -> None:
        if not isinstance(state, dict):
            raise ValueError("Invalid DNSFlow state: expected a dict.")
        missing = [k for k in ("request", "response") if k not in state]
        if missing:
            raise ValueError(f"Missing fields in DNSFlow state: {', '.join(missing)}")
        request_state = state.pop("request")
        if request_state is None:
            raise ValueError("Attribute request must not be None.")
        request = Message.from_state(request_state)
        response_state = state.pop("response")
        # mitmproxy tests the response state for truth: an empty dict means none.
        response = Message.from_state(response_state) if response_state else None
        super().set_state(state)
        self.request, self.response = request, response

    def __repr__(self) -> str:
        return f"<DNSFlow\r\n  request={self.request!r}\r\n  response={self.response!r}\r\n>"

    # -- flowtui shorthands used by the list, the inspector and filters (not mitmproxy) ---

    @property
    def questions(self) -> list[tuple[str, int]]:
        """The query's questions as `(name, type)` pairs."""
        return [(q.name, q.type) for q in self.request.questions]

    @property
    def answer_count(self) -> int | None:
        """How many answers the response holds, or None without a response."""
        return len(self.response.answers) if self.response is not None else None

    @property
    def raw(self) -> dict[str, Any]:
        """The `request` and `response` states by key (None without a response), for
        code written when flowtui kept DNS flows as raw state."""
        return {
            "request": self.request.get_state(),
            "response": self.response.get_state() if self.response is not None else None,
        }
