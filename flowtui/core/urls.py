"""URL, authority and query-string helpers for `Request`, following mitmproxy's rules.

Query strings and form bodies decode with surrogate escapes, so bytes that are not
UTF-8 come back unchanged when the same text is encoded again.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Sequence
from typing import Any

__all__ = [
    "default_port",
    "hostport",
    "is_valid_host",
    "parse",
    "parse_authority",
    "query_decode",
    "query_encode",
    "quote",
    "unparse",
    "unquote",
]

_AUTHORITY = re.compile(r"^(?P<host>[^:]+|\[.+\])(?::(?P<port>\d+))?$")
"""`host[:port]`, where an IPv6 host is in brackets."""
_LABEL = re.compile(rb"[A-Z\d\-_]{1,63}$", re.IGNORECASE)


def default_port(scheme: str | bytes) -> int | None:
    """80 for http, 443 for https, else None."""
    if isinstance(scheme, bytes):
        scheme = scheme.decode("latin-1")
    return {"http": 80, "https": 443}.get(scheme)


def hostport(scheme: str, host: str, port: int) -> str:
    """`host`, with `:port` unless the port is the scheme's default."""
    return host if default_port(scheme) == port else f"{host}:{port:d}"


def is_valid_host(host: str | bytes) -> bool:
    """A DNS name (underscores allowed), or an IPv4 or IPv6 address."""
    try:
        raw = host.encode("idna") if isinstance(host, str) else host
        raw.decode("idna")
    except (UnicodeError, ValueError):
        return False
    if len(raw) > 255:
        return False
    if raw.endswith(b"."):
        raw = raw[:-1]
    if all(_LABEL.match(label) for label in raw.split(b".")):
        return True
    try:
        ipaddress.ip_address(raw.decode("idna"))
    except ValueError:
        return False
    return True


def parse(url: str | bytes) -> tuple[bytes, bytes, int, bytes]:
    """`(scheme, host, port, path)` of an absolute URL; the port defaults by scheme and
    the path (with query) starts with `/`. ValueError without a valid host."""
    if isinstance(url, bytes):
        url = url.decode()
        if len(url) != len(url.encode()):  # non-ASCII: quote the query
            parts = list(urllib.parse.urlsplit(url))
            parts[3] = urllib.parse.quote(parts[3])
            url = urllib.parse.urlunsplit(parts)
    parsed = urllib.parse.urlparse(url)
    if not parsed.hostname:
        raise ValueError("No hostname given")
    host = parsed.hostname.encode("idna")
    raw: Any = parsed.encode("ascii")  # typeshed does not know the bytes result's fields
    port = raw.port or (443 if raw.scheme == b"https" else 80)
    path: bytes = urllib.parse.urlunparse((b"", b"", raw.path, raw.params, raw.query, raw.fragment))
    if not path.startswith(b"/"):
        path = b"/" + path
    if not is_valid_host(host):
        raise ValueError("Invalid Host")
    return raw.scheme, host, port, path


def unparse(scheme: str, host: str, port: int, path: str = "") -> str:
    """The URL for these parts (an asterisk-form path `*` is left out)."""
    if path == "*":
        path = ""
    return f"{scheme}://{hostport(scheme, host, port)}{path}"


def parse_authority(authority: str, check: bool) -> tuple[str, int | None]:
    """`(host, port)` of `host[:port]` (brackets removed from IPv6). A malformed one
    raises ValueError if `check`, else comes back whole as the host, without a port."""
    try:
        m = _AUTHORITY.match(authority)
        if not m:
            raise ValueError
        host = m["host"]
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not is_valid_host(host):
            raise ValueError
        if not m["port"]:
            return host, None
        port = int(m["port"])
        if not 0 <= port <= 65535:
            raise ValueError
        return host, port
    except ValueError:
        if check:
            raise
        return authority, None


def query_encode(pairs: Sequence[tuple[str, str]], similar_to: str | None = None) -> str:
    """URL-encode `(key, value)` pairs; keys without `=` in `similar_to` stay bare."""
    bare = bool(similar_to) and any("=" not in p for p in (similar_to or "").split("&"))
    encoded = urllib.parse.urlencode(pairs, False, errors="surrogateescape")
    if encoded and bare:
        encoded = encoded.replace("=&", "&")
        if encoded.endswith("="):
            encoded = encoded[:-1]
    return encoded


def query_decode(s: str) -> list[tuple[str, str]]:
    """The `(key, value)` pairs of a URL-encoded string, blank values kept."""
    return urllib.parse.parse_qsl(s, keep_blank_values=True, errors="surrogateescape")


def quote(s: str, safe: str = "/") -> str:
    """Percent-encode `s` (surrogate-escaped bytes become their `%XX`)."""
    return urllib.parse.quote(s, safe=safe, errors="surrogateescape")


def unquote(s: str) -> str:
    """Percent-decode `s`, surrogate-escaping bytes that are not UTF-8."""
    return urllib.parse.unquote(s, errors="surrogateescape")
