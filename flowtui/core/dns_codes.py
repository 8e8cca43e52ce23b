"""DNS parameter names: record types, classes, opcodes and response codes.

The numbers are IANA's (https://www.iana.org/assignments/dns-parameters). Each table is
a class of constants with `to_str`, so code written against mitmproxy's
`mitmproxy.net.dns.types` and its siblings reads the same here: `types.AAAA == 28`,
`types.to_str(28) == "AAAA"`, and an unnamed number reads `TYPE(1234)`.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["classes", "op_codes", "response_codes", "types"]


class _Table:
    """A table of named codes: every upper-case int attribute is a code, named as spelled."""

    _unknown: ClassVar[str] = "CODE"
    """The prefix of an unnamed code, as `TYPE(1234)`."""
    _names: ClassVar[dict[int, str]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        names: dict[int, str] = {}
        for attr, value in vars(cls).items():
            if attr.isupper() and type(value) is int:
                names.setdefault(value, attr)
        cls._names = names

    @classmethod
    def to_str(cls, code: int) -> str:
        """The code's name, or `PREFIX(code)` if it has none."""
        name = cls._names.get(code)
        return name if name is not None else f"{cls._unknown}({code})"


class types(_Table):  # lower case: named as mitmproxy's module
    """Resource record types (RR TYPE)."""

    _unknown = "TYPE"
    A = 1
    NS = 2
    MD = 3
    MF = 4
    CNAME = 5
    SOA = 6
    MB = 7
    MG = 8
    MR = 9
    NULL = 10
    WKS = 11
    PTR = 12
    HINFO = 13
    MINFO = 14
    MX = 15
    TXT = 16
    RP = 17
    AFSDB = 18
    X25 = 19
    ISDN = 20
    RT = 21
    NSAP = 22
    NSAP_PTR = 23
    SIG = 24
    KEY = 25
    PX = 26
    GPOS = 27
    AAAA = 28
    LOC = 29
    NXT = 30
    EID = 31
    NIMLOC = 32
    SRV = 33
    ATMA = 34
    NAPTR = 35
    KX = 36
    CERT = 37
    A6 = 38
    DNAME = 39
    SINK = 40
    OPT = 41
    APL = 42
    DS = 43
    SSHFP = 44
    IPSECKEY = 45
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    DHCID = 49
    NSEC3 = 50
    NSEC3PARAM = 51
    TLSA = 52
    SMIMEA = 53
    HIP = 55
    NINFO = 56
    RKEY = 57
    TALINK = 58
    CDS = 59
    CDNSKEY = 60
    OPENPGPKEY = 61
    CSYNC = 62
    ZONEMD = 63
    SVCB = 64
    HTTPS = 65
    SPF = 99
    UINFO = 100
    UID = 101
    GID = 102
    UNSPEC = 103
    NID = 104
    L32 = 105
    L64 = 106
    LP = 107
    EUI48 = 108
    EUI64 = 109
    TKEY = 249
    TSIG = 250
    IXFR = 251
    AXFR = 252
    MAILB = 253
    MAILA = 254
    ANY = 255
    URI = 256
    CAA = 257
    AVC = 258
    DOA = 259
    AMTRELAY = 260
    TA = 32768
    DLV = 32769


class classes(_Table):
    """Resource record classes (CLASS)."""

    _unknown = "CLASS"
    IN = 1
    CH = 3
    HS = 4
    NONE = 254
    ANY = 255


class op_codes(_Table):
    """Header opcodes (OPCODE)."""

    _unknown = "OPCODE"
    QUERY = 0
    IQUERY = 1
    STATUS = 2
    NOTIFY = 4
    UPDATE = 5
    DSO = 6


class response_codes(_Table):
    """Header response codes (RCODE)."""

    _unknown = "RCODE"
    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    YXDOMAIN = 6
    YXRRSET = 7
    NXRRSET = 8
    NOTAUTH = 9
    NOTZONE = 10
    DSOTYPENI = 11

    _HTTP: ClassVar[dict[int, int]] = {
        NOERROR: 200,
        FORMERR: 400,
        SERVFAIL: 500,
        NXDOMAIN: 404,
        NOTIMP: 501,
        REFUSED: 403,
        YXDOMAIN: 409,
        YXRRSET: 409,
        NXRRSET: 410,
        NOTAUTH: 401,
        NOTZONE: 404,
        DSOTYPENI: 501,
    }

    @classmethod
    def http_equiv_status_code(cls, response_code: int) -> int:
        """The HTTP status code closest in meaning (500 for an unknown code)."""
        return cls._HTTP.get(response_code, 500)
