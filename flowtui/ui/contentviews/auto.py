"""The auto view's choice: by content type first, then by sniffing the body's head.

The content types mirror mitmproxy's own views (JSON, XML/HTML, JavaScript, CSS,
form-urlencoded, multipart/form-data, msgpack, protobuf, images), with a few common
aliases it lacks (`text/json`, `application/xml`, `+xml`, JSON Lines). Without a
telling type the head is sniffed: image magic numbers, JSON that parses, markup; then
text or hex by the message viewer's binary guess.
"""

from __future__ import annotations

import re

from flowtui.ui.contentviews.base import parse_content_type
from flowtui.ui.contentviews.json_view import looks_like_json
from flowtui.ui.widgets.hexdump import looks_binary

__all__ = ["IMAGE_MAGIC", "choose", "sniff_image"]

_BY_TYPE = {
    "application/json": "json",
    "application/json-rpc": "json",
    "text/json": "json",
    "application/x-json": "json",
    "application/x-ndjson": "json",
    "application/jsonl": "json",
    "application/jsonlines": "json",
    "application/x-jsonlines": "json",
    "text/xml": "xml",
    "application/xml": "xml",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/javascript": "javascript",
    "application/x-javascript": "javascript",
    "text/javascript": "javascript",
    "application/ecmascript": "javascript",
    "text/ecmascript": "javascript",
    "text/css": "css",
    "application/x-www-form-urlencoded": "urlencoded",
    "multipart/form-data": "multipart",
    "application/msgpack": "msgpack",
    "application/x-msgpack": "msgpack",
    "application/vnd.msgpack": "msgpack",
    "application/x-protobuf": "protobuf",
    "application/x-protobuffer": "protobuf",
    "application/protobuf": "protobuf",
    "application/vnd.google.protobuf": "protobuf",
    "application/grpc": "protobuf",
    "application/grpc+proto": "protobuf",
    "image/svg+xml": "xml",
}

IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x02\x00", "CUR"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
"""Leading bytes of the raster formats the image view reads (WebP is `RIFF....WEBP`,
AVIF and HEIF an ISO BMFF `ftyp` box with their brand)."""

_BMFF_BRANDS = {
    b"avif": "AVIF",
    b"avis": "AVIF",
    b"heic": "HEIF",
    b"heix": "HEIF",
    b"hevc": "HEIF",
    b"heim": "HEIF",
    b"mif1": "HEIF",
    b"msf1": "HEIF",
}

_HTML_START = re.compile(
    rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|script|p|table)\b",
    re.IGNORECASE | re.DOTALL,
)
_XML_START = re.compile(rb"\s*<(?:\?xml|[A-Za-z_!])")


def sniff_image(data: bytes) -> str | None:
    """The image format the magic number says (`"PNG"`), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:8] == b"ftyp" and data[8:12] in _BMFF_BRANDS:
        return _BMFF_BRANDS[data[8:12]]
    for magic, name in IMAGE_MAGIC:
        # BMP's "BM" and ICO's four bytes are weak: check a little more.
        if data.startswith(magic) and (
            (name != "BMP" or (len(data) >= 26 and data[14] in (12, 40, 52, 56, 108, 124)))
            and (name not in ("ICO", "CUR") or (len(data) >= 6 and data[4:6] != b"\x00\x00"))
        ):
            return name
    return None


def choose(data: bytes, content_type: str | None) -> str:
    """The view auto picks for a body with this content type (the header's value)."""
    mime, _ = parse_content_type(content_type)
    if mime is not None:
        view = _BY_TYPE.get(mime)
        if view is not None:
            return view
        if mime.endswith("+json"):
            return "json"
        if mime.endswith("+xml"):
            return "xml"
        if mime.startswith("image/"):
            return "image"
        if mime.endswith(("+msgpack",)):
            return "msgpack"
        if mime.endswith(("+proto", "+protobuf")):
            return "protobuf"
    if not data:
        return "text"
    if sniff_image(data) is not None:
        return "image"
    head = data[:4096]
    if looks_like_json(data):
        return "json"
    if _HTML_START.match(head):
        return "html"
    if _XML_START.match(head) and not looks_binary(data):
        return "xml"
    return "hex" if looks_binary(data) else "text"
