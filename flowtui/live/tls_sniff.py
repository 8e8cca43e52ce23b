"""Reading the TLS handshake a relay passes through, without terminating TLS.

Why by hand: the relay only watches bytes go by, so no TLS library can help; and the
bytes come from untrusted peers. Every read is bounds-checked, the bytes kept per
direction are capped, and anything that does not parse simply ends the sniffing for
that direction: garbage never raises.

What is visible: the ClientHello (SNI, ALPN offers, cipher suites, supported versions)
and the ServerHello (version, cipher, ALPN in TLS 1.2). The certificate chain is only in
clear text up to TLS 1.2; in TLS 1.3 it, and the ALPN choice, are encrypted.
"""

from __future__ import annotations

import contextlib
import ssl
import struct
from dataclasses import dataclass, field

__all__ = ["HandshakeSniffer", "TlsInfo", "cipher_name", "version_name"]

MAX_HANDSHAKE = 256 * 1024
"""Handshake bytes buffered per direction before giving up."""
MAX_RECORD = 16384 + 2048

_VERSIONS = {
    0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"
}  # fmt: skip


def _openssl_names() -> dict[int, str]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with contextlib.suppress(ssl.SSLError):  # depends on the local OpenSSL
        ctx.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return {c["id"] & 0xFFFF: c["name"] for c in ctx.get_ciphers()}


_CIPHERS = _openssl_names()


def cipher_name(code: int) -> str:
    """OpenSSL's name for a cipher suite code, or its IANA code in hex when unknown."""
    return _CIPHERS.get(code) or f"0x{code:04X}"


def version_name(code: int) -> str | None:
    """``TLSv1.2`` and friends for a protocol version code; None for unknown ones."""
    return _VERSIONS.get(code)


def _grease(code: int) -> bool:
    return (code & 0x0F0F) == 0x0A0A and (code >> 8) == (code & 0xFF)


@dataclass
class TlsInfo:
    """What was learnt from one connection's handshake."""

    client_hello: bool = False
    """A ClientHello was parsed."""
    server_hello: bool = False
    """A ServerHello was parsed."""
    sni: str | None = None
    alpn_offers: list[bytes] = field(default_factory=list)
    cipher_list: list[str] = field(default_factory=list)
    """Cipher suites the client offered, by OpenSSL name."""
    offered_versions: list[str] = field(default_factory=list)
    """From the client's supported_versions extension (or its legacy version)."""
    version: str | None = None
    cipher: str | None = None
    alpn: bytes | None = None
    certificates: list[bytes] = field(default_factory=list)
    """The server's chain as PEM bytes, end-entity first (TLS 1.2 and below)."""


class _Short(Exception):
    pass


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _Short
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def num(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vec(self, len_bytes: int) -> _Reader:
        return _Reader(self.take(self.num(len_bytes)))

    @property
    def left(self) -> int:
        return len(self.data) - self.pos


class HandshakeSniffer:
    """Watches one direction of a connection; fills a shared `TlsInfo`."""

    def __init__(self, info: TlsInfo, from_client: bool) -> None:
        self.info = info
        self.from_client = from_client
        self.done = False
        """True once nothing more can be learnt (encrypted, not TLS, or garbage)."""
        self._records = bytearray()
        self._handshake = bytearray()
        self._seen = 0

    def feed(self, data: bytes) -> None:
        """Look at the next bytes of this direction (never raises)."""
        if self.done:
            return
        self._seen += len(data)
        if self._seen > MAX_HANDSHAKE:
            self.done = True
            return
        self._records += data
        try:
            self._parse_records()
        except (_Short, ValueError, UnicodeError):
            self.done = True
        if self.done:
            self._records.clear()
            self._handshake.clear()

    def _parse_records(self) -> None:
        while len(self._records) >= 5 and not self.done:
            ctype, major, length = struct.unpack_from(">BBxH", self._records)
            if ctype != 22 or major != 3 or length > MAX_RECORD:
                self.done = True  # ChangeCipherSpec, alert, application data, or not TLS
                return
            if len(self._records) < 5 + length:
                return
            self._handshake += self._records[5 : 5 + length]
            del self._records[: 5 + length]
            self._parse_handshake()

    def _parse_handshake(self) -> None:
        while len(self._handshake) >= 4 and not self.done:
            kind = self._handshake[0]
            length = int.from_bytes(self._handshake[1:4], "big")
            if length > MAX_HANDSHAKE:
                self.done = True
                return
            if len(self._handshake) < 4 + length:
                return
            body = bytes(self._handshake[4 : 4 + length])
            del self._handshake[: 4 + length]
            if kind == 1 and self.from_client:
                self._client_hello(_Reader(body))
                self.done = True
            elif kind == 2 and not self.from_client:
                self._server_hello(_Reader(body))
                if self.info.version == "TLSv1.3":
                    self.done = True  # the rest is encrypted
            elif kind == 11 and not self.from_client:
                self._certificates(_Reader(body))
                self.done = True
            elif kind == 14:
                self.done = True  # ServerHelloDone: nothing else of interest

    def _client_hello(self, r: _Reader) -> None:
        info = self.info
        legacy = r.num(2)
        r.take(32)
        r.vec(1)
        suites = r.vec(2)
        codes = [suites.num(2) for _ in range(suites.left // 2)]
        info.cipher_list = [cipher_name(c) for c in codes if not _grease(c) and c != 0x00FF]
        r.vec(1)
        versions: list[str] = []
        if r.left:
            exts = r.vec(2)
            while exts.left:
                ext_type, ext = exts.num(2), exts.vec(2)
                if ext_type == 0:
                    names = ext.vec(2)
                    while names.left:
                        name_type, value = names.num(1), names.vec(2).data
                        if name_type == 0:
                            info.sni = value.decode("utf-8", errors="replace")
                elif ext_type == 16:
                    protos = ext.vec(2)
                    info.alpn_offers = []
                    while protos.left:
                        info.alpn_offers.append(protos.vec(1).data)
                elif ext_type == 43:
                    offered = ext.vec(1)
                    while offered.left:
                        name_ = version_name(offered.num(2))
                        if name_:
                            versions.append(name_)
        if not versions and version_name(legacy):
            versions = [version_name(legacy) or ""]
        info.offered_versions = versions
        info.client_hello = True

    def _server_hello(self, r: _Reader) -> None:
        info = self.info
        version = version_name(r.num(2))
        r.take(32)
        r.vec(1)
        cipher = r.num(2)
        r.num(1)
        alpn: bytes | None = None
        if r.left:
            exts = r.vec(2)
            while exts.left:
                ext_type, ext = exts.num(2), exts.vec(2)
                if ext_type == 43:
                    version = version_name(ext.num(2)) or version
                elif ext_type == 16:
                    alpn = ext.vec(2).vec(1).data
        info.version, info.cipher, info.alpn = version, cipher_name(cipher), alpn
        info.server_hello = True

    def _certificates(self, r: _Reader) -> None:
        chain = r.vec(3)
        certs: list[bytes] = []
        while chain.left:
            der = chain.vec(3).data
            certs.append(ssl.DER_cert_to_PEM_cert(der).encode("ascii"))
        self.info.certificates = certs
