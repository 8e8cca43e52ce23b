"""Client and server connections, mirroring `mitmproxy.connection`.

A connection object holds metadata only (addresses, TLS details, timestamps), never a
socket. Equality and hashing go by `id`, so a recorded flow's connections compare the
way live ones do.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Flag
from typing import Any, Literal

from flowtui.core.certs import Cert
from flowtui.core.mode_specs import ProxyMode
from flowtui.core.serializable import (
    BOOL,
    BYTES,
    FLOAT,
    INT,
    STR,
    AddressCodec,
    ListOf,
    Nested,
    OneOf,
    Optional,
    SerializableDataclass,
    TupleOf,
    sfield,
)

__all__ = [
    "TLS_VERSIONS",
    "Address",
    "Client",
    "Connection",
    "ConnectionState",
    "Server",
    "TlsVersion",
    "TransportProtocol",
    "format_address",
]


class ConnectionState(Flag):
    """The current state of the underlying socket."""

    CLOSED = 0
    CAN_READ = 1
    CAN_WRITE = 2
    OPEN = CAN_READ | CAN_WRITE


TransportProtocol = Literal["tcp", "udp"]

TlsVersion = Literal[
    "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "DTLSv0.9", "DTLSv1", "DTLSv1.2", "QUICv1"
]
TLS_VERSIONS: tuple[str, ...] = (
    "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "DTLSv0.9", "DTLSv1", "DTLSv1.2", "QUICv1",
)  # fmt: skip
"""The TLS versions a state may hold (OpenSSL's names)."""

SERVER_SPEC_SCHEMES = ("http", "https", "http3", "tls", "dtls", "tcp", "udp", "dns", "quic")

Address = tuple[str, int]
"""`(host, port)`; IPv6 addresses may carry `(host, port, flowinfo, scope_id)`."""


def format_address(address: tuple[Any, ...] | None) -> str:
    """`host:port`, with IPv6 hosts in brackets, as mitmproxy prints addresses."""
    if address is None:
        return "<no address>"
    host = address[0]
    shown = _host_text(host) if isinstance(host, str | int) else None
    return f"{host if shown is None else shown}:{address[1]}"


@functools.lru_cache(maxsize=4096)
def _host_text(host: str | int) -> str | None:
    """How an IP host is printed (None: not an IP address); cached, as a capture has
    few distinct hosts and parsing one costs more than the rest of a summary."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if ip.is_unspecified:
        return "*"
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return f"[{ip}]"


_ADDRESS = AddressCodec()
_CERTS = ListOf(Nested(Cert))


@dataclass(kw_only=True)
class Connection(SerializableDataclass):
    """Base class for client and server connections."""

    peername: Address | None = sfield(Optional(_ADDRESS))
    """The remote's `(ip, port)` tuple for this connection."""
    sockname: Address | None = sfield(Optional(_ADDRESS))
    """Our local `(ip, port)` tuple for this connection."""

    state: ConnectionState = field(default=ConnectionState.CLOSED, metadata={"serialize": False})
    """The current connection state (not part of the saved state)."""

    id: str = sfield(STR, default_factory=lambda: str(uuid.uuid4()))
    """A unique UUID to identify the connection."""
    transport_protocol: TransportProtocol = sfield(OneOf(("tcp", "udp")), default="tcp")
    """The connection protocol in use."""
    error: str | None = sfield(Optional(STR), default=None)
    """A general error with connections to this address (e.g. an untrusted certificate)."""

    tls: bool = sfield(BOOL, default=False)
    """True if TLS should be established; see `tls_established` for whether it was."""
    certificate_list: Sequence[Cert] = sfield(_CERTS, default=())
    """The TLS certificate list as sent by the peer; the end-entity certificate first."""
    alpn: bytes | None = sfield(Optional(BYTES), default=None)
    """The application-layer protocol negotiated with ALPN."""
    alpn_offers: Sequence[bytes] = sfield(ListOf(BYTES), default=())
    """The ALPN offers as sent in the ClientHello."""
    cipher: str | None = sfield(Optional(STR), default=None)
    """The active cipher name as returned by OpenSSL's `SSL_CIPHER_get_name`."""
    cipher_list: Sequence[str] = sfield(ListOf(STR), default=())
    """Ciphers accepted by the proxy server on this connection."""
    tls_version: TlsVersion | None = sfield(Optional(OneOf(TLS_VERSIONS)), default=None)
    """The active TLS version."""
    sni: str | None = sfield(Optional(STR), default=None)
    """The Server Name Indication sent in the ClientHello."""

    timestamp_start: float | None = sfield(Optional(FLOAT), default=None)
    """*Timestamp:* connection establishment started."""
    timestamp_end: float | None = sfield(Optional(FLOAT), default=None)
    """*Timestamp:* connection has been closed."""
    timestamp_tls_setup: float | None = sfield(Optional(FLOAT), default=None)
    """*Timestamp:* TLS handshake has been completed successfully."""

    @property
    def connected(self) -> bool:
        """*Read-only:* True if `state` is `ConnectionState.OPEN`."""
        return self.state is ConnectionState.OPEN

    @property
    def tls_established(self) -> bool:
        """*Read-only:* True if TLS has been established."""
        return self.timestamp_tls_setup is not None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Connection):
            return self.id == other.id
        return False

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        attrs: dict[str, Any] = {"id": None, "address": None}
        for f in dataclasses.fields(self):
            val = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and val == f.default:
                continue
            if f.name == "cipher_list":
                val = f"<{len(val)} ciphers>"
            elif f.name == "id":
                val = f"…{val[-6:]}"
            attrs[f.name] = val
        return f"{type(self).__name__}({attrs!r})"

    def _tls_state(self) -> str:
        if self.alpn:
            return f", alpn={self.alpn.decode(errors='replace')}"
        if self.tls_established:
            return ", tls"
        return ""

    @property
    def alpn_proto_negotiated(self) -> bytes | None:
        """*Deprecated:* an outdated alias for `Connection.alpn`."""
        warnings.warn(
            "Connection.alpn_proto_negotiated is deprecated, use Connection.alpn instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.alpn


@dataclass(eq=False, repr=False, kw_only=True)
class Client(Connection):
    """A connection between a client and the proxy."""

    peername: Address = sfield(_ADDRESS)
    """The client's address."""
    sockname: Address = sfield(_ADDRESS)
    """The local address we received this connection on."""

    mitmcert: Cert | None = sfield(Optional(Nested(Cert)), default=None)
    """The certificate the proxy used to establish TLS with the client."""
    proxy_mode: ProxyMode = sfield(
        Nested(ProxyMode), default_factory=lambda: ProxyMode.parse("regular")
    )
    """The proxy server type this client has been connecting to."""

    timestamp_start: float = sfield(FLOAT, default_factory=time.time)
    """*Timestamp:* TCP SYN received."""

    def __str__(self) -> str:
        state = self.state.name or ""
        return f"Client({format_address(self.peername)}, state={state.lower()}{self._tls_state()})"

    @property
    def address(self) -> Address:
        """*Deprecated:* an outdated alias for `Client.peername`."""
        warnings.warn(
            "Client.address is deprecated, use Client.peername instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.peername

    @address.setter
    def address(self, value: Address) -> None:
        warnings.warn(
            "Client.address is deprecated, use Client.peername instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        self.peername = value

    @property
    def cipher_name(self) -> str | None:
        """*Deprecated:* an outdated alias for `Connection.cipher`."""
        warnings.warn(
            "Client.cipher_name is deprecated, use Client.cipher instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.cipher

    @property
    def clientcert(self) -> Cert | None:
        """*Deprecated:* an outdated alias for `Connection.certificate_list[0]`."""
        warnings.warn(
            "Client.clientcert is deprecated, use Client.certificate_list instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.certificate_list[0] if self.certificate_list else None

    @clientcert.setter
    def clientcert(self, value: Cert | None) -> None:
        warnings.warn(
            "Client.clientcert is deprecated, use Client.certificate_list instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        self.certificate_list = [value] if value else []


_VIA = TupleOf(OneOf(SERVER_SPEC_SCHEMES), TupleOf(STR, INT))


@dataclass(eq=False, repr=False, kw_only=True)
class Server(Connection):
    """A connection between the proxy and an upstream server."""

    address: Address | None = sfield(Optional(TupleOf(STR, INT)))
    """The server's `(host, port)`; the host may be a domain or an IP address."""

    peername: Address | None = sfield(Optional(_ADDRESS), default=None)
    """The server's resolved `(ip, port)`; None until connected (or via an upstream proxy)."""
    sockname: Address | None = sfield(Optional(_ADDRESS), default=None)
    """Our local `(ip, port)` for this connection."""

    timestamp_start: float | None = sfield(Optional(FLOAT), default=None)
    """*Timestamp:* connection establishment started (TCP SYN, or the DNS lookup)."""
    timestamp_tcp_setup: float | None = sfield(Optional(FLOAT), default=None)
    """*Timestamp:* TCP ACK received."""

    via: tuple[str, Address] | None = sfield(Optional(_VIA), default=None)
    """An optional proxy server specification `(scheme, (host, port))` to connect through."""

    def __str__(self) -> str:
        local_port = f", src_port={self.sockname[1]}" if self.sockname else ""
        state = self.state.name or ""
        return (
            f"Server({format_address(self.address)}, state={state.lower()}"
            f"{self._tls_state()}{local_port})"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("address", "via"):
            is_open = self.__dict__.get("state", ConnectionState.CLOSED) is ConnectionState.OPEN
            # Assigning the current value is fine: set_state() does that.
            if is_open and self.__dict__.get(name) != value:
                raise RuntimeError(f"Cannot change server.{name} on open connection.")
        super().__setattr__(name, value)

    @property
    def ip_address(self) -> Address | None:
        """*Deprecated:* an outdated alias for `Server.peername`."""
        warnings.warn(
            "Server.ip_address is deprecated, use Server.peername instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.peername

    @property
    def cert(self) -> Cert | None:
        """*Deprecated:* an outdated alias for `Connection.certificate_list[0]`."""
        warnings.warn(
            "Server.cert is deprecated, use Server.certificate_list instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.certificate_list[0] if self.certificate_list else None

    @cert.setter
    def cert(self, value: Cert | None) -> None:
        warnings.warn(
            "Server.cert is deprecated, use Server.certificate_list instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        self.certificate_list = [value] if value else []
