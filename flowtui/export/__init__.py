"""Flows written out in other tools' formats: HAR for browsers' devtools, curl and
HTTPie command lines, raw HTTP messages, TCP/UDP streams as bytes and hex dumps, and
pcap for Wireshark.

The public API is three functions over a table of formats::

    formats()               the names, in menu order
    applies(fmt, flow)      whether `fmt` can export `flow`
    export(flows, fmt)      the bytes of the export (ExportError says why not)

Archive formats (``har``, ``pcap``) write every flow that applies in one document and
text formats (``curl``, ``httpie``, ``hexdump``) one block per flow; both leave out the
flows they do not apply to. The byte formats (``raw``, ``raw_request``,
``raw_response``, ``request_body``, ``response_body``, ``tcp_raw_client``,
``tcp_raw_server``) export one flow. Nothing here
imports Textual or Rich.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flowtui.core import Flow, HTTPFlow, TCPFlow, UDPFlow
from flowtui.export.errors import ExportError

__all__ = ["ExportError", "Format", "applies", "describe", "export", "formats", "suffix"]


def _is_http(flow: Flow) -> bool:
    return isinstance(flow, HTTPFlow)


def _has_response(flow: Flow) -> bool:
    return isinstance(flow, HTTPFlow) and flow.response is not None


def _is_stream(flow: Flow) -> bool:
    return isinstance(flow, TCPFlow | UDPFlow)


@dataclass(frozen=True)
class Format:
    """One export format."""

    name: str
    """The name used by the CLI and the UI, e.g. ``har``."""
    description: str
    """One line for menus and ``--help``."""
    suffix: str
    """The usual file name suffix, with its dot."""
    kind: str
    """``archive`` (many flows in one document), ``text`` (one block per flow) or
    ``bytes`` (exactly one flow)."""
    applies: Callable[[Flow], bool]
    """Whether a flow can be exported in this format."""
    needs: str
    """What a flow must be, for error messages ("an HTTP flow")."""


def _har(flows: Sequence[Flow]) -> bytes:
    from flowtui.export.har import har_bytes

    return har_bytes(flows)


def _curl(flow: Flow) -> bytes:
    from flowtui.export.curl import curl_command

    return curl_command(flow).encode("utf-8", "surrogateescape")


def _httpie(flow: Flow) -> bytes:
    from flowtui.export.curl import httpie_command

    return httpie_command(flow).encode("utf-8", "surrogateescape")


def _raw(name: str) -> Callable[[Flow], bytes]:
    def run(flow: Flow) -> bytes:
        from flowtui.export import raw

        result: bytes = getattr(raw, name)(flow)
        return result

    return run


def _tcp(name: str) -> Callable[[Flow], bytes]:
    def run(flow: Flow) -> bytes:
        from flowtui.export import tcp

        result: bytes = getattr(tcp, name)(flow)
        return result

    return run


def _pcap(flows: Sequence[Flow]) -> bytes:
    from flowtui.export.pcap import pcap_bytes

    return pcap_bytes(flows)


_HTTP = "an HTTP flow"
_STREAM = "a TCP or UDP flow"

_FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("har", "HTTP Archive 1.2 (browser devtools)", ".har", "archive", _is_http, _HTTP),
        Format("curl", "the request as a curl command", ".sh", "text", _is_http, _HTTP),
        Format("httpie", "the request as an HTTPie command", ".sh", "text", _is_http, _HTTP),
        Format("raw", "request and response as HTTP/1 bytes", ".txt", "bytes", _is_http, _HTTP),
        Format("raw_request", "the request as HTTP/1 bytes", ".txt", "bytes", _is_http, _HTTP),
        Format(
            "raw_response",
            "the response as HTTP/1 bytes",
            ".txt",
            "bytes",
            _has_response,
            "an HTTP flow with a response",
        ),
        Format(
            "request_body",
            "the request body, decoded",
            ".bin",
            "bytes",
            _is_http,
            _HTTP,
        ),
        Format(
            "response_body",
            "the response body, decoded",
            ".bin",
            "bytes",
            _has_response,
            "an HTTP flow with a response",
        ),
        Format(
            "tcp_raw_client",
            "the bytes the client sent",
            ".bin",
            "bytes",
            _is_stream,
            _STREAM,
        ),
        Format(
            "tcp_raw_server",
            "the bytes the server sent",
            ".bin",
            "bytes",
            _is_stream,
            _STREAM,
        ),
        Format("hexdump", "both directions as a hex dump", ".txt", "text", _is_stream, _STREAM),
        Format("pcap", "TCP/UDP packets for Wireshark", ".pcap", "archive", _is_stream, _STREAM),
    )
}

_ARCHIVES: dict[str, Callable[[Sequence[Flow]], bytes]] = {"har": _har, "pcap": _pcap}
_ONE: dict[str, Callable[[Flow], bytes]] = {
    "curl": _curl,
    "httpie": _httpie,
    "raw": _raw("raw"),
    "raw_request": _raw("raw_request"),
    "raw_response": _raw("raw_response"),
    "request_body": _raw("request_body"),
    "response_body": _raw("response_body"),
    "tcp_raw_client": _tcp("client_bytes"),
    "tcp_raw_server": _tcp("server_bytes"),
    "hexdump": _tcp("hexdump"),
}


def formats() -> list[str]:
    """The names of the export formats, in menu order."""
    return list(_FORMATS)


def describe(fmt: str) -> Format:
    """The format named `fmt`; ExportError for an unknown name."""
    try:
        return _FORMATS[fmt]
    except KeyError:
        raise ExportError(f"no export format {fmt!r} (known: {', '.join(_FORMATS)})") from None


def suffix(fmt: str) -> str:
    """The usual file suffix of `fmt` (``.har``, ``.pcap``...)."""
    return describe(fmt).suffix


def applies(fmt: str, flow: Flow) -> bool:
    """Whether `flow` can be exported as `fmt` (False for an unknown format)."""
    spec = _FORMATS.get(fmt)
    return spec is not None and spec.applies(flow)


def _label(flow: Flow) -> str:
    return f"flow {flow.id[:8]} ({flow.type})"


def export(flows: Sequence[Flow], fmt: str) -> bytes:
    """`flows` exported as `fmt`.

    Archive and text formats take the flows that apply and leave the others out; a text
    format writes a flow it cannot export (a request body with a NUL byte for curl, say)
    as a ``# flow ...: reason`` comment line when it was given more than one flow.
    ExportError: for an unknown format; when no flow applies; when a byte format gets
    more than one flow; or when the one flow lacks what the format needs.
    """
    spec = describe(fmt)
    if not flows:
        raise ExportError("no flows to export")
    chosen = [f for f in flows if spec.applies(f)]
    if not chosen:
        if len(flows) == 1:
            raise ExportError(f"{fmt} needs {spec.needs}; {_label(flows[0])} is not")
        raise ExportError(f"{fmt} needs {spec.needs}; none of the {len(flows)} flows is")
    if spec.kind == "archive":
        return _ARCHIVES[fmt](chosen)
    if spec.kind == "bytes":
        if len(flows) != 1:
            raise ExportError(f"{fmt} exports one flow at a time, not {len(flows)}")
        return _ONE[fmt](chosen[0])
    blocks = []
    for flow in chosen:
        try:
            data = _ONE[fmt](flow)
        except ExportError as e:
            if len(chosen) == 1:
                raise
            data = f"# {_label(flow)}: {e}".encode()
        blocks.append(data if data.endswith(b"\n") else data + b"\n")
    return b"".join(blocks)
