"""What TCP users filter on and mitmproxy lacks: `~sni`, `~tls`, `~alpn`, `~cert`.

Each looks at both sides of the flow (client and server connection). Certificates come
from the capture and may be malformed: one that cannot be parsed simply doesn't match.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from flowtui.core import Cert, Flow
from flowtui.core.filters.columns import FieldTest
from flowtui.core.filters.nodes import Node, SummaryTest

__all__ = ["Tls", "alpn_texts", "cert_texts", "sni_texts"]


def sni_texts(flow: Flow) -> Sequence[str]:
    """The SNI the client sent and the one the proxy sent upstream."""
    return [s for s in (flow.client_conn.sni, flow.server_conn.sni) if s]


def alpn_texts(flow: Flow) -> Sequence[str]:
    """Negotiated ALPN protocols and ALPN offers of both connections, as text."""
    out = []
    for conn in (flow.client_conn, flow.server_conn):
        for proto in (conn.alpn, *conn.alpn_offers):
            if isinstance(proto, bytes) and proto:
                out.append(proto.decode("utf-8", "backslashreplace"))
    return out


@functools.lru_cache(maxsize=4096)
def _pem_texts(pem: bytes) -> tuple[str, ...]:
    """Subject, issuer and SANs of a certificate (`CN=x, O=y`, `DNS:name`, `name`)."""
    cert = Cert(pem=pem)
    if cert.parse_error is not None:
        return ()
    try:
        subject = ", ".join(f"{k}={v}" for k, v in cert.subject)
        issuer = ", ".join(f"{k}={v}" for k, v in cert.issuer)
        sans = cert.san_list()
    except ValueError:  # a malformed name or extension in an otherwise readable cert
        return ()
    bare = [s.partition(":")[2] for s in sans]
    return (subject, issuer, *sans, *bare)


def cert_texts(flow: Flow) -> Sequence[str]:
    """The names in every certificate either side presented."""
    out: list[str] = []
    for conn in (flow.client_conn, flow.server_conn):
        for cert in conn.certificate_list:
            try:
                pem = cert.to_pem()
            except ValueError:
                continue
            out.extend(_pem_texts(pem))
    return out


class Tls(Node):
    """`~tls [VERSION]`: TLS was established on either side (with a version regex: a side
    whose TLS version, like `TLSv1.3`, matches it)."""

    def __init__(self, regex: re.Pattern[str] | None) -> None:
        self.regex = regex

    def __call__(self, flow: Flow) -> bool:
        for conn in (flow.client_conn, flow.server_conn):
            if not (conn.tls_established or conn.tls_version):
                continue
            if self.regex is None:
                return True
            if conn.tls_version and self.regex.search(conn.tls_version):
                return True
        return False

    def on_summary(self) -> SummaryTest | None:
        regex = self.regex
        if regex is None:
            return FieldTest("tls", bool)
        return FieldTest("tls", lambda versions: any(v and regex.search(v) for v in versions))

    def dump(self) -> str:
        return "~tls" if self.regex is None else f"~tls({self.regex.pattern!r})"
