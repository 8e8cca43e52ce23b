"""multipart/form-data bodies as `(name, value)` byte pairs, as mitmproxy reads them.

Like mitmproxy, this is a simple reader for form fields, not a full MIME parser: each
part's `name="..."` and body are kept, file names and part headers are not.
"""

from __future__ import annotations

import mimetypes
import re
from urllib.parse import quote

from flowtui.core.headers import parse_content_type

__all__ = ["decode_multipart", "encode_multipart"]

_NAME = re.compile(rb'\bname="([^"]+)"')


def _boundary(content_type: str) -> bytes | None:
    parsed = parse_content_type(content_type)
    if parsed is None:
        return None
    try:
        return parsed[2]["boundary"].encode("ascii")
    except (KeyError, UnicodeError):
        return None


def decode_multipart(content_type: str | None, content: bytes) -> list[tuple[bytes, bytes]]:
    """The `(name, value)` fields of a multipart body; empty without a boundary."""
    if not content_type:
        return []
    boundary = _boundary(content_type)
    if boundary is None:
        return []
    fields = []
    for chunk in content.split(b"--" + boundary):
        lines = chunk.splitlines()
        if len(lines) > 1 and lines[0][:2] != b"--":
            name = _NAME.search(lines[1])
            if name:
                # the body starts after the first empty line following the headers
                body_start = 3 + lines[2:].index(b"")
                fields.append((name.group(1), b"".join(lines[body_start:])))
    return fields


def encode_multipart(content_type: str, parts: list[tuple[bytes, bytes]]) -> bytes:
    """A multipart body for `parts` with the Content-Type's boundary (empty if none).

    Raises ValueError if a value contains the boundary line."""
    if not content_type or parse_content_type(content_type) is None:
        return b""
    raw = _boundary(content_type)
    if raw is None:
        return b""
    boundary = quote(raw).encode("utf-8")
    lines: list[bytes] = []
    for name, value in parts:
        kind = mimetypes.guess_type(str(name))[0] or "text/plain; charset=utf-8"
        if name:
            lines += [
                b"--" + boundary,
                b'Content-Disposition: form-data; name="' + name + b'"',
                b"Content-Type: " + kind.encode("utf-8"),
                b"",
                value,
            ]
        lines.append(b"")
        if value is not None and re.search(rb"^--" + re.escape(boundary) + rb"$", value):
            raise ValueError(b"boundary found in encoded string")
    lines.append(b"--" + boundary + b"--\r\n")
    return b"\r\n".join(lines)
