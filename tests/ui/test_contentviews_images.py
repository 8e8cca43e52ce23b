"""The image view: type, dimensions and metadata of real encoded images.

Pillow encodes each image (and says its size); mitmproxy's image view is a second
oracle for the sizes of the formats it reads.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, PngImagePlugin

from flowtui.ui.contentviews import choose, render

pytestmark = pytest.mark.mitmproxy


def _plain(lines: object) -> list[str]:
    return [line.plain for line in lines]  # type: ignore[attr-defined]


def _encode(fmt: str, size: tuple[int, int] = (37, 21), mode: str = "RGB", **kw: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red" if mode in ("RGB", "RGBA") else 0).save(out, fmt, **kw)
    return out.getvalue()


def _info(lines: object) -> dict[str, str]:
    return dict(re.split(r"\s{2,}", p, maxsplit=1) for p in _plain(lines))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("fmt", "ctype", "kind", "kw"),
    [
        ("PNG", "image/png", "PNG", {}),
        ("JPEG", "image/jpeg", "JPEG", {}),
        ("JPEG", "image/jpeg", "JPEG", {"progressive": True}),
        ("GIF", "image/gif", "GIF", {}),
        ("WEBP", "image/webp", "WebP", {}),
        ("WEBP", "image/webp", "WebP", {"lossless": True}),
        ("BMP", "image/bmp", "BMP", {}),
        ("TIFF", "image/tiff", "TIFF", {}),
        ("TIFF", "image/tiff", "TIFF", {"compression": "tiff_lzw"}),
        ("AVIF", "image/avif", "AVIF", {}),
    ],
)
def test_image_dimensions_match_pillows(fmt: str, ctype: str, kind: str, kw: dict) -> None:
    body = _encode(fmt, (123, 45), **kw)
    result = render(body, content_type=ctype)
    assert result.view == "image" and result.error is None, result.error
    info = _info(result.lines)
    assert info["Type"].startswith(kind)
    width, height = Image.open(io.BytesIO(body)).size
    assert info["Dimensions"] == f"{width} × {height} px" == "123 × 45 px"
    assert info["Size"] == f"{len(body):,} bytes"


def test_an_image_of_an_unknown_format_says_so() -> None:
    body = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(40)  # JPEG 2000
    result = render(body, content_type="image/jp2")
    assert result.view == "image" and result.error is not None
    assert "not an image of a known format (it starts with 00 00 00 0c 6a 50 20 20)" in (
        result.error
    )
    assert _plain(result.lines) == _plain(render(body, view="hex").lines)


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "JPEG"])
def test_image_dimensions_match_mitmproxys(fmt: str) -> None:
    import mitmproxy.contentviews as cv

    body = _encode(fmt, (64, 9))
    _, lines = cv.get("Image")(body)
    text = "".join(piece for line in lines for _, piece in line)
    width, height = re.search(r"(\d+) x (\d+) px", text).groups()  # type: ignore[union-attr]
    assert _info(render(body).lines)["Dimensions"] == f"{width} × {height} px"


def test_image_metadata_is_listed() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "made by hand")
    info.add_text("Author", "me", zip=True)
    info.add_itxt("Title", "grüße", lang="de")
    png = _info(render(_encode("PNG", pnginfo=info, dpi=(72, 72))).lines)
    assert png["Comment"] == "made by hand" and png["Author"] == "me"
    assert png["Title"] == "grüße" and png["Resolution"] == "72 × 72 dpi"
    assert png["Colour"] == "RGB, 8-bit"

    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS"
    exif[0x0112] = 6
    jpeg = _info(render(_encode("JPEG", exif=exif.tobytes(), comment=b"hi there")).lines)
    assert jpeg["Make"] == "Canon" and jpeg["Model"] == "EOS" and jpeg["Orientation"] == "6"
    assert jpeg["Comment"] == "hi there" and jpeg["Encoding"] == "baseline, 8-bit"

    frames = [Image.new("RGB", (5, 7), colour) for colour in ("red", "green", "blue")]
    gif_io = io.BytesIO()
    frames[0].save(gif_io, "GIF", save_all=True, append_images=frames[1:], loop=0, comment=b"c")
    gif = _info(render(gif_io.getvalue()).lines)
    assert gif["Frames"] == "3" and gif["Loops"] == "forever" and gif["Comment"] == "c"

    ico = _info(render(_encode("ICO", (64, 64), sizes=[(16, 16), (32, 32)])).lines)
    assert ico["Images"] == "2"
    assert {ico["Image 1"].split(",")[0], ico["Image 2"].split(",")[0]} == {
        "16 × 16 px",
        "32 × 32 px",
    }
    webp_io = io.BytesIO()
    more = [Image.new("RGBA", (37, 21), (0, 0, 255, 128))]
    Image.new("RGBA", (37, 21), (255, 0, 0, 100)).save(
        webp_io, "WEBP", save_all=True, append_images=more
    )
    webp = _info(render(webp_io.getvalue()).lines)
    assert webp["Dimensions"] == "37 × 21 px" and webp["Features"] == "alpha, animation"
    assert webp["Frames"] == "2"


def test_svg_metadata_comes_from_the_root_tag_without_an_xml_parser() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50" viewBox="0 0 100 50">'
        b"<title>A &e; title</title><script>alert(1)</script></svg>"
    )
    info = _info(render(body, view="image").lines)
    assert info["Type"].startswith("SVG") and info["Dimensions"] == "100 × 50"
    assert info["viewBox"] == "0 0 100 50" and info["Title"] == "A &e; title"
    assert info["Scripts"].startswith("yes")
    assert choose(body, "image/svg+xml") == "xml"  # as mitmproxy: the source first


def test_a_cut_image_shows_what_its_head_holds() -> None:
    body = _encode("PNG", (300, 200))
    result = render(body[:40], content_type="image/png", complete=False)
    info = _info(result.lines)
    assert result.error is None and info["Dimensions"] == "300 × 200 px"
    assert info["Size"] == "40 bytes (so far)"
    result = render(body[:20], content_type="image/png")
    assert result.error is not None and "ends before its dimensions" in result.error
