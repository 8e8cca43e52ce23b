"""TLS certificates as captured: PEM in the state, parsed with `cryptography` on demand.

A capture can hold thousands of certificates, and some may be malformed (the peer is
untrusted). A `Cert` therefore keeps the exact PEM bytes it was read from, parses them
only when a property is asked for, and writes them back unchanged.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from flowtui.core.serializable import Serializable, State

__all__ = ["Cert"]


def _name_to_keyval(name: x509.Name) -> list[tuple[str, str]]:
    parts = []
    for attr in name:
        key = attr.rfc4514_string().partition("=")[0]
        value = attr.value
        parts.append((key, value if isinstance(value, str) else value.hex()))
    return parts


class Cert(Serializable):
    """An X.509 certificate, as in `mitmproxy.certs.Cert`."""

    def __init__(self, cert: x509.Certificate | None = None, *, pem: bytes | None = None) -> None:
        if cert is None and pem is None:
            raise ValueError("Cert needs a certificate or PEM bytes")
        self._parsed = cert
        self._pem = pem

    # -- state -------------------------------------------------------------------------

    @classmethod
    def from_state(cls, state: State) -> Self:
        if not isinstance(state, bytes):
            raise ValueError(
                f"Invalid certificate state: expected PEM bytes, got {type(state).__name__}."
            )
        return cls(pem=state)

    def get_state(self) -> State:
        return self.to_pem()

    def set_state(self, state: State) -> None:
        if not isinstance(state, bytes):
            raise ValueError("Invalid certificate state: expected PEM bytes.")
        self._pem, self._parsed = state, None
        self.__dict__.pop("_cert", None)

    @classmethod
    def from_pem(cls, data: bytes) -> Self:
        """Parse PEM bytes now; raises `ValueError` if they are not a certificate."""
        return cls(x509.load_pem_x509_certificate(data), pem=data)

    def to_pem(self) -> bytes:
        """The PEM bytes: exactly those read, or the canonical encoding."""
        if self._pem is None:
            assert self._parsed is not None
            self._pem = self._parsed.public_bytes(serialization.Encoding.PEM)
        return self._pem

    @functools.cached_property
    def _cert(self) -> x509.Certificate:
        if self._parsed is None:
            self._parsed = x509.load_pem_x509_certificate(self.to_pem())
        return self._parsed

    @property
    def parse_error(self) -> str | None:
        """Why the PEM bytes are not a readable certificate, or None when they are."""
        try:
            self._cert  # noqa: B018
        except ValueError as e:
            return str(e) or "not a certificate"
        return None

    # -- identity ------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cert):
            return NotImplemented
        try:
            return self.fingerprint() == other.fingerprint()
        except ValueError:
            return self.to_pem() == other.to_pem()

    def __hash__(self) -> int:
        return hash(self.to_pem())

    def __repr__(self) -> str:
        try:
            names = self.san_list()
            return f"<Cert(cn={self.cn!r}, altnames={names!r})>"
        except ValueError:
            return "<Cert(unparseable)>"

    # -- what a connection pane shows ----------------------------------------------------

    def public_key(self) -> Any:
        """The certificate's public key object."""
        return self._cert.public_key()

    def fingerprint(self) -> bytes:
        """SHA-256 fingerprint of the DER encoding."""
        return self._cert.fingerprint(hashes.SHA256())

    @property
    def issuer(self) -> list[tuple[str, str]]:
        """Issuer name as (short key, value) pairs, e.g. `[("CN", "Example CA")]`."""
        return _name_to_keyval(self._cert.issuer)

    @property
    def subject(self) -> list[tuple[str, str]]:
        """Subject name as (short key, value) pairs."""
        return _name_to_keyval(self._cert.subject)

    @property
    def notbefore(self) -> datetime.datetime:
        """Start of validity, timezone-aware UTC."""
        return self._cert.not_valid_before_utc

    @property
    def notafter(self) -> datetime.datetime:
        """End of validity, timezone-aware UTC."""
        return self._cert.not_valid_after_utc

    def has_expired(self, now: datetime.datetime | None = None) -> bool:
        """True when `now` (default: the current time) is past `notafter`."""
        return (now or datetime.datetime.now(datetime.UTC)) > self.notafter

    def expires_within(self, days: float, now: datetime.datetime | None = None) -> bool:
        """True when the certificate is still valid but ends within `days`."""
        now = now or datetime.datetime.now(datetime.UTC)
        return not self.has_expired(now) and self.notafter - now <= datetime.timedelta(days=days)

    @property
    def serial(self) -> int:
        """The serial number."""
        return self._cert.serial_number

    @property
    def is_ca(self) -> bool:
        """True for a CA certificate (basicConstraints CA:TRUE)."""
        try:
            ext = self._cert.extensions.get_extension_for_class(x509.BasicConstraints)
        except x509.ExtensionNotFound:
            return False
        return ext.value.ca

    @property
    def keyinfo(self) -> tuple[str, int]:
        """Key type and size in bits, e.g. `("RSA", 2048)` or `("EC (secp256r1)", 256)`."""
        key = self._cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            return "RSA", key.key_size
        if isinstance(key, dsa.DSAPublicKey):
            return "DSA", key.key_size
        if isinstance(key, ec.EllipticCurvePublicKey):
            return f"EC ({key.curve.name})", key.key_size
        if isinstance(key, ed25519.Ed25519PublicKey):
            return "Ed25519", 256
        if isinstance(key, ed448.Ed448PublicKey):
            return "Ed448", 456
        return type(key).__name__.replace("PublicKey", "").lstrip("_"), -1

    @property
    def cn(self) -> str | None:
        """The subject's common name, if any."""
        attrs = self._cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else None

    @property
    def organization(self) -> str | None:
        """The subject's organization, if any."""
        attrs = self._cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
        return str(attrs[0].value) if attrs else None

    @property
    def altnames(self) -> x509.GeneralNames:
        """The subjectAltName entries (DNS names, IP addresses, ...)."""
        try:
            ext = self._cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return x509.GeneralNames([])
        return x509.GeneralNames(list(ext.value))

    def san_list(self) -> list[str]:
        """The subjectAltName entries as text, e.g. `["DNS:example.com", "IP:127.0.0.1"]`."""
        out = []
        for name in self.altnames:
            if isinstance(name, x509.DNSName):
                out.append(f"DNS:{name.value}")
            elif isinstance(name, x509.IPAddress):
                out.append(f"IP:{name.value}")
            elif isinstance(name, x509.RFC822Name):
                out.append(f"email:{name.value}")
            elif isinstance(name, x509.UniformResourceIdentifier):
                out.append(f"URI:{name.value}")
            else:
                out.append(f"{type(name).__name__}:{name.value}")
        return out
