"""Content-Encoding and charset codecs for HTTP bodies, as `mitmproxy.net.encoding`.

`decode`/`encode` accept the HTTP content codings (identity, gzip, deflate, br, zstd)
and, like mitmproxy, fall back to Python's codecs for any other name: that is also how
a body is turned into text with its charset. Every failure is a `ValueError`.

The last compression result is remembered, as mitmproxy does, so that
`message.content = message.content` leaves the compressed bytes exactly as they were
instead of compressing them again (which could give other bytes).
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["decode", "encode"]

_COMPRESSIONS = frozenset({"gzip", "deflate", "deflateraw", "br", "zstd"})


class _Last(NamedTuple):
    encoded: Any
    encoding: Any
    errors: Any
    decoded: Any


_last = _Last(None, None, None, None)


def _identity(data: bytes) -> bytes:
    return data


def _gunzip(data: bytes) -> bytes:
    if not data:
        return b""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
        return f.read()


def _gzip(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as f:  # mtime 0: same bytes each time
        f.write(data)
    return out.getvalue()


def _inflate(data: bytes) -> bytes:
    """zlib-wrapped deflate, or raw deflate as some servers send it."""
    if not data:
        return b""
    try:
        return zlib.decompress(data)
    except zlib.error:
        return zlib.decompress(data, -zlib.MAX_WBITS)


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data)


def _unbrotli(data: bytes) -> bytes:
    if not data:
        return b""
    import brotli  # imported on use: most flows are never decoded

    result: bytes = brotli.decompress(data)
    return result


def _brotli(data: bytes) -> bytes:
    import brotli

    result: bytes = brotli.compress(data)
    return result


def _unzstd(data: bytes) -> bytes:
    if not data:
        return b""
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    result: bytes = reader.read()
    return result


def _zstd(data: bytes) -> bytes:
    import zstandard

    result: bytes = zstandard.ZstdCompressor().compress(data)
    return result


_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "none": _identity,
    "identity": _identity,
    "gzip": _gunzip,
    "deflate": _inflate,
    "deflateraw": _inflate,
    "br": _unbrotli,
    "zstd": _unzstd,
}
_ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "none": _identity,
    "identity": _identity,
    "gzip": _gzip,
    "deflate": _deflate,
    "deflateraw": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}


def _fail(verb: str, data: Any, encoding: str, e: Exception) -> ValueError:
    return ValueError(f"{type(e).__name__} when {verb} {repr(data)[:10]} with {encoding!r}: {e!r}")


def decode(encoded: Any, encoding: str, errors: str = "strict") -> Any:
    """`encoded` (bytes or str) decoded with `encoding`: a content coding gives bytes, a
    charset gives str. None stays None. Raises ValueError when the data does not decode
    or the encoding is unknown (TypeError for a wrong input type)."""
    global _last
    if encoded is None:
        return None
    encoding = encoding.lower()
    if (
        isinstance(encoded, bytes)
        and _last.encoded == encoded
        and _last.encoding == encoding
        and _last.errors == errors
    ):
        return _last.decoded
    try:
        custom = _DECODERS.get(encoding)
        decoded = custom(encoded) if custom else codecs.decode(encoded, encoding, errors)
    except TypeError:
        raise
    except Exception as e:  # zlib, brotli, zstd, codecs and lookup errors alike
        raise _fail("decoding", encoded, encoding, e) from None
    if encoding in _COMPRESSIONS:
        _last = _Last(encoded, encoding, errors, decoded)
    return decoded


def encode(decoded: Any, encoding: str, errors: str = "strict") -> Any:
    """`decoded` encoded with `encoding` (the reverse of `decode`); ValueError on failure."""
    global _last
    if decoded is None:
        return None
    encoding = encoding.lower()
    if (
        isinstance(decoded, bytes)
        and _last.decoded == decoded
        and _last.encoding == encoding
        and _last.errors == errors
    ):
        return _last.encoded
    try:
        custom = _ENCODERS.get(encoding)
        encoded = custom(decoded) if custom else codecs.encode(decoded, encoding, errors)
    except TypeError:
        raise
    except Exception as e:
        raise _fail("encoding", decoded, encoding, e) from None
    if encoding in _COMPRESSIONS:
        _last = _Last(encoded, encoding, errors, decoded)
    return encoded
