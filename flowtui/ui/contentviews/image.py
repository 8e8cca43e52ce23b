"""The image view: type, dimensions and metadata, read from the headers by hand.

PNG, JPEG, GIF, WebP, BMP, ICO/CUR, TIFF, AVIF/HEIF and SVG are read with small parsers of their own
(no imaging library: nothing is decoded beyond the headers, so a decompression bomb
costs nothing, and compressed text chunks are inflated only up to `TEXT_LIMIT`).
SVG is read with a regular expression over the root tag, never an XML parser, so no
entity or DTD is resolved. Every value taken from the file is cleaned.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator

from flowtui.ui.contentviews.auto import sniff_image
from flowtui.ui.contentviews.base import Context, ViewError
from flowtui.ui.contentviews.forms import table
from flowtui.ui.safe_text import SafeText

__all__ = ["image_info", "image_view"]

TEXT_LIMIT = 4096
"""Characters of a metadata text shown (a compressed chunk is inflated only this far)."""

MAX_ENTRIES = 200
"""Metadata entries listed at most (a file with 100,000 text chunks lists these)."""

Info = list[tuple[str, str]]


class _Cut(Exception):
    """The data ends inside a header."""


def _u16be(data: bytes, pos: int) -> int:
    if pos + 2 > len(data):
        raise _Cut
    return int.from_bytes(data[pos : pos + 2], "big")


def _u32be(data: bytes, pos: int) -> int:
    if pos + 4 > len(data):
        raise _Cut
    return int.from_bytes(data[pos : pos + 4], "big")


def _dims(width: int, height: int) -> tuple[str, str]:
    return "Dimensions", f"{width} × {height} px"


def _text(raw: bytes, encoding: str = "utf-8") -> str:
    return raw[:TEXT_LIMIT].decode(encoding, "backslashreplace")


def _inflate(raw: bytes) -> bytes:
    try:
        return zlib.decompressobj().decompress(raw, TEXT_LIMIT)
    except zlib.error:
        return b"(compressed text that does not inflate)"


_PNG_COLOUR = {0: "greyscale", 2: "RGB", 3: "palette", 4: "greyscale + alpha", 6: "RGBA"}


def _png(data: bytes, info: Info) -> None:
    pos = 8
    frames = None
    while pos + 8 <= len(data) and len(info) < MAX_ENTRIES:
        length = _u32be(data, pos)
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            if len(body) < 13:
                raise _Cut
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body[:13])
            info.append(_dims(width, height))
            info.append(("Colour", f"{_PNG_COLOUR.get(colour, f'type {colour}')}, {depth}-bit"))
            if interlace:
                info.append(("Interlaced", "Adam7"))
        elif kind == b"acTL" and len(body) >= 8:
            frames = int.from_bytes(body[:4], "big")
        elif kind == b"gAMA" and len(body) >= 4:
            info.append(("Gamma", f"{int.from_bytes(body[:4], 'big') / 100000:g}"))
        elif kind == b"pHYs" and len(body) >= 9:
            x, y, unit = struct.unpack(">IIB", body[:9])
            if unit == 1:
                info.append(("Resolution", f"{x * 0.0254:.0f} × {y * 0.0254:.0f} dpi"))
            else:
                info.append(("Aspect", f"{x} × {y}"))
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\x00")
            info.append((_text(key, "latin-1"), _text(value, "latin-1")))
        elif kind == b"zTXt":
            key, _, value = body.partition(b"\x00")
            info.append((_text(key, "latin-1"), _text(_inflate(value[1:]), "latin-1")))
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\x00")
            compressed = rest[:1] == b"\x01"
            _, _, rest = rest[2:].partition(b"\x00")  # language tag
            _, _, value = rest.partition(b"\x00")  # translated keyword
            info.append((_text(key, "latin-1"), _text(_inflate(value) if compressed else value)))
        elif kind == b"tIME" and len(body) >= 7:
            y, mo, d, h, mi, s = struct.unpack(">HBBBBB", body[:7])
            info.append(("Modified", f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"))
        elif kind == b"iCCP":
            info.append(("ICC profile", _text(body.partition(b"\x00")[0])))
        elif kind == b"IEND":
            break
    if frames is not None:
        info.append(("Frames", f"{frames} (animated PNG)"))


_SOF = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive", 0xC3: "lossless"}
_EXIF_TAGS = {
    0x010E: "Description",
    0x010F: "Make",
    0x0110: "Model",
    0x0112: "Orientation",
    0x0131: "Software",
    0x0132: "Date",
    0x013B: "Artist",
    0x8298: "Copyright",
}


_TIFF_COMPRESSION = {
    1: "none",
    5: "LZW",
    6: "JPEG (old)",
    7: "JPEG",
    8: "Deflate",
    32773: "PackBits",
}


def _exif(tiff: bytes, info: Info, *, image: bool = False) -> None:
    """Text and orientation entries of the first IFD of a TIFF block (an Exif segment,
    or with `image` a TIFF file, whose dimensions come from the same IFD)."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        if image:
            raise _Cut
        return
    (ifd,) = struct.unpack(order + "I", tiff[4:8])
    if ifd + 2 > len(tiff):
        if image:
            raise _Cut
        return
    (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
    width = height = None
    for i in range(min(count, 256)):
        entry = tiff[ifd + 2 + 12 * i : ifd + 14 + 12 * i]
        if len(entry) < 12:
            break
        tag, kind, n, value = struct.unpack(order + "HHI4s", entry)
        number = None
        if kind == 3 and n == 1:  # SHORT
            number = struct.unpack(order + "H", value[:2])[0]
        elif kind == 4 and n == 1:  # LONG
            number = struct.unpack(order + "I", value)[0]
        if image and number is not None and tag in (256, 257, 258, 259):
            if tag == 256:
                width = number
            elif tag == 257:
                height = number
            elif tag == 258:
                info.append(("Bits per sample", str(number)))
            else:
                info.append(("Compression", _TIFF_COMPRESSION.get(number, str(number))))
            continue
        name = _EXIF_TAGS.get(tag)
        if name is None:
            continue
        if kind == 2:  # ASCII
            raw = value[:n] if n <= 4 else tiff[struct.unpack(order + "I", value)[0] :][:n]
            info.append((name, _text(raw.rstrip(b"\x00"))))
        elif number is not None:
            info.append((name, str(number)))
    if image:
        if width is None or height is None:
            raise _Cut
        info.insert(1, _dims(width, height))


def _tiff(data: bytes, info: Info) -> None:
    _exif(data, info, image=True)


def _bmff(data: bytes, info: Info) -> None:
    """AVIF/HEIF: the brand, and the first `ispe` (image spatial extents) property."""
    info.append(("Brand", _text(data[8:12])))
    at = data.find(b"ispe", 0, 1 << 20)
    if at < 4 or at + 16 > len(data):
        raise _Cut
    width, height = struct.unpack(">II", data[at + 8 : at + 16])
    info.insert(1, _dims(width, height))


def _jpeg(data: bytes, info: Info) -> None:
    pos = 2
    found = False
    while pos + 4 <= len(data) and len(info) < MAX_ENTRIES:
        if data[pos] != 0xFF:
            raise ViewError(f"not a JPEG: no marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = _u16be(data, pos + 2)
        body = data[pos + 4 : pos + 2 + length]
        pos += 2 + length
        if marker in _SOF or marker in (0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            if len(body) < 6:
                raise _Cut
            precision, height, width, components = struct.unpack(">BHHB", body[:6])
            info.insert(1, _dims(width, height))
            info.append(("Encoding", f"{_SOF.get(marker, f'SOF{marker - 0xC0}')}, {precision}-bit"))
            info.append(("Components", str(components)))
            found = True
        elif marker == 0xE0 and body[:5] == b"JFIF\x00" and len(body) >= 12:
            major, minor, unit, x, y = struct.unpack(">BBBHH", body[5:12])
            info.append(("JFIF", f"{major}.{minor:02d}"))
            if unit in (1, 2):
                info.append(("Resolution", f"{x} × {y} {'dpi' if unit == 1 else 'dots/cm'}"))
        elif marker == 0xE1 and body[:6] == b"Exif\x00\x00":
            _exif(body[6:], info)
        elif marker == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/"):
            info.append(("XMP", f"{len(body):,} bytes"))
        elif marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"):
            info.append(("ICC profile", f"{len(body) - 14:,} bytes"))
        elif marker == 0xFE:
            info.append(("Comment", _text(body)))
        elif marker in (0xDA, 0xD9):  # start of scan: the headers are over
            break
    if not found:
        raise _Cut


def _gif(data: bytes, info: Info) -> None:
    if len(data) < 13:
        raise _Cut
    width, height, flags = struct.unpack("<HHB", data[6:11])
    info.append(_dims(width, height))
    info.append(("Version", _text(data[:6])))
    pos = 13
    if flags & 0x80:
        info.append(("Colours", str(2 ** ((flags & 7) + 1))))
        pos += 3 * 2 ** ((flags & 7) + 1)
    frames = 0

    def sub_blocks(pos: int) -> tuple[bytes, int]:
        chunks = []
        while pos < len(data) and data[pos]:
            chunks.append(data[pos + 1 : pos + 1 + data[pos]])
            pos += 1 + data[pos]
        return b"".join(chunks), pos + 1

    while pos < len(data) and len(info) < MAX_ENTRIES:
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x2C:  # image descriptor
            frames += 1
            if pos + 10 > len(data):
                break
            local = data[pos + 9]
            pos += 10
            if local & 0x80:
                pos += 3 * 2 ** ((local & 7) + 1)
            _, pos = sub_blocks(pos + 1)  # LZW minimum code size, then the data
        elif block == 0x21 and pos + 1 < len(data):
            label = data[pos + 1]
            body, pos = sub_blocks(pos + 2)
            if label == 0xFE:
                info.append(("Comment", _text(body)))
            elif label == 0xFF and body[:11] in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
                loops = int.from_bytes(body[12:14], "little") if len(body) >= 14 else 0
                info.append(("Loops", "forever" if loops == 0 else str(loops)))
        else:
            break
    info.append(("Frames", str(frames)))


def _webp(data: bytes, info: Info) -> None:
    pos = 12
    frames = 0
    while pos + 8 <= len(data) and len(info) < MAX_ENTRIES:
        kind = data[pos : pos + 4]
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = data[pos + 8 : pos + 8 + length]
        pos += 8 + length + (length & 1)
        if kind == b"VP8X" and len(body) >= 10:
            width = 1 + int.from_bytes(body[4:7], "little")
            height = 1 + int.from_bytes(body[7:10], "little")
            info.append(_dims(width, height))
            flags = body[0]
            features = [
                name
                for bit, name in (
                    (0x10, "alpha"),
                    (0x02, "animation"),
                    (0x20, "ICC"),
                    (0x08, "Exif"),
                    (0x04, "XMP"),
                )
                if flags & bit
            ]
            if features:
                info.append(("Features", ", ".join(features)))
        elif kind in (b"VP8 ", b"VP8L") and not any(k == "Encoding" for k, _ in info):
            known = any(k == "Dimensions" for k, _ in info)  # from VP8X
            if kind == b"VP8 " and len(body) >= 10:
                if body[3:6] != b"\x9d\x01\x2a":
                    raise ViewError("not a WebP: a VP8 frame without its start code")
                width, height = struct.unpack("<HH", body[6:10])
                if not known:
                    info.append(_dims(width & 0x3FFF, height & 0x3FFF))
                info.append(("Encoding", "lossy (VP8)"))
            elif kind == b"VP8L" and len(body) >= 5:
                if body[0] != 0x2F:
                    raise ViewError("not a WebP: a VP8L frame without its signature")
                bits = int.from_bytes(body[1:5], "little")
                if not known:
                    info.append(_dims((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
                info.append(("Encoding", "lossless (VP8L)"))
        elif kind == b"ANMF":
            frames += 1
        elif kind == b"EXIF":
            _exif(body[6:] if body.startswith(b"Exif\x00\x00") else body, info)
    if frames:
        info.append(("Frames", str(frames)))


def _bmp(data: bytes, info: Info) -> None:
    if len(data) < 26:
        raise _Cut
    header = int.from_bytes(data[14:18], "little")
    if header == 12:
        width, height, _, bpp = struct.unpack("<HHHH", data[18:26])
    else:
        if len(data) < 34:
            raise _Cut
        width, height, _, bpp, compression = struct.unpack("<iiHHI", data[18:34])
        if compression:
            info.append(("Compression", str(compression)))
    info.append(_dims(abs(width), abs(height)))
    info.append(("Bits per pixel", str(bpp)))


def _ico(data: bytes, info: Info) -> None:
    count = int.from_bytes(data[4:6], "little")
    info.append(("Images", str(count)))
    for i in range(min(count, MAX_ENTRIES)):
        entry = data[6 + 16 * i : 22 + 16 * i]
        if len(entry) < 16:
            raise _Cut
        width, height, _, _, _, bpp, size, offset = struct.unpack("<BBBBHHII", entry)
        inner = "PNG" if data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n" else "BMP"
        info.append(
            (
                f"Image {i + 1}",
                f"{width or 256} × {height or 256} px, {bpp}-bit, {inner}, {size:,} bytes",
            )
        )


_SVG_ROOT = re.compile(r"<svg\b([^>]*)>", re.IGNORECASE | re.DOTALL)
_SVG_ATTR = re.compile(r"""([A-Za-z_:][-\w:.]*)\s*=\s*("[^"]*"|'[^']*')""")
_SVG_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def _svg(data: bytes, info: Info) -> None:
    text = data[:65536].decode("utf-8", "backslashreplace")
    root = _SVG_ROOT.search(text)
    if root is None:
        raise ViewError("not an SVG image: no <svg> element in the first 64 kB")
    attrs = {m.group(1).lower(): m.group(2)[1:-1] for m in _SVG_ATTR.finditer(root.group(1))}
    width, height = attrs.get("width"), attrs.get("height")
    if width or height:
        info.append(("Dimensions", f"{width or '?'} × {height or '?'}"))
    if "viewbox" in attrs:
        info.append(("viewBox", attrs["viewbox"]))
    if "version" in attrs:
        info.append(("Version", attrs["version"]))
    title = _SVG_TITLE.search(text, root.end())
    if title:
        info.append(("Title", " ".join(title.group(1).split())[:TEXT_LIMIT]))
    if re.search(r"<script\b", text, re.IGNORECASE):
        info.append(("Scripts", "yes (<script> elements)"))


_PARSERS: dict[str, tuple[str, Callable[[bytes, Info], None]]] = {
    "PNG": ("PNG (Portable Network Graphics)", _png),
    "JPEG": ("JPEG", _jpeg),
    "GIF": ("GIF (Graphics Interchange Format)", _gif),
    "WebP": ("WebP", _webp),
    "BMP": ("BMP (Windows bitmap)", _bmp),
    "ICO": ("ICO (Windows icon)", _ico),
    "CUR": ("CUR (Windows cursor)", _ico),
    "SVG": ("SVG (Scalable Vector Graphics)", _svg),
    "TIFF": ("TIFF", _tiff),
    "AVIF": ("AVIF", _bmff),
    "HEIF": ("HEIF", _bmff),
}


def image_info(data: bytes, ctx: Context) -> Info:
    """`[("Type", ...), ("Dimensions", "W × H px"), ...]`; raises `ViewError` if the
    body is not an image of a known format or ends before its dimensions."""
    kind = sniff_image(data)
    if kind is None and (ctx.mime == "image/svg+xml" or re.match(rb"\s*<", data[:1024])):
        kind = "SVG"
    if kind is None:
        head = data[:8].hex(" ")
        raise ViewError(f"not an image of a known format (it starts with {head})")
    name, parse = _PARSERS[kind]
    info: Info = [("Type", name)]
    try:
        parse(data, info)
    except (_Cut, struct.error) as exc:
        if not any(key == "Dimensions" for key, _ in info):
            raise ViewError(f"the {kind} image ends before its dimensions") from exc
        info.append(("Note", "the data ends inside the headers"))
    info.append(("Size", f"{len(data):,} bytes" + ("" if ctx.complete else " (so far)")))
    return info[: MAX_ENTRIES + 2]


def image_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """The image's type, dimensions and metadata as a table."""
    yield from table(
        [(key, value[:TEXT_LIMIT]) for key, value in image_info(data, ctx)], width=ctx.width
    )
