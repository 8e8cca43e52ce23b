"""A request as a curl or HTTPie command line, as mitmproxy's ``export.curl`` and
``export.httpie`` write them: the body decoded, ``Content-Length`` dropped, ``Host``
dropped when it names the request's host, ``Accept-Encoding`` turned into
``--compressed`` for curl.

Differences from mitmproxy, on purpose, so that the command sends the request's very
bytes: a body (or header) holding control characters or bytes that are not UTF-8 is
written as an exact ``$'...'`` string (see `flowtui.export.shell`), where mitmproxy
writes the text ``\\x0a`` for a newline, refuses a body that is not text, and passes a
Latin-1 body as its UTF-8 re-encoding.
"""

from __future__ import annotations

from flowtui.core import Flow, HTTPFlow, Request
from flowtui.export.errors import ExportError
from flowtui.export.shell import ShellQuoteError, join, quote

__all__ = ["curl_command", "httpie_command"]


def _request(flow: Flow) -> Request:
    if not isinstance(flow, HTTPFlow):
        raise ExportError(f"a {flow.type} flow has no HTTP request")
    request = flow.request.copy()
    request.decode(strict=False)
    request.headers.pop("content-length", None)
    for name in ("host", ":authority"):
        if request.headers.get(name, "") == request.host:
            request.headers.pop(name, None)
    return request


def _body(request: Request) -> str | None:
    """The decoded body as the word the shell must pass: its bytes as UTF-8, any other
    byte as a surrogate escape that `quote` writes as ``\\xNN``."""
    content = request.content
    if not content:
        return None
    return content.decode("utf-8", "surrogateescape")


def _line(args: list[str], tail: str = "") -> str:
    try:
        return join(args) + tail
    except ShellQuoteError as e:
        raise ExportError(str(e)) from e


def curl_command(flow: Flow, resolve: bool = False) -> str:
    """The curl command repeating the flow's request; with `resolve`, pinned with
    ``--resolve`` to the server address the proxy connected to."""
    request = _request(flow)
    args = ["curl"]
    peer = flow.server_conn.peername[0] if flow.server_conn.peername else None
    if resolve and peer and request.pretty_host != peer:
        args += ["--resolve", f"{request.pretty_host}:{request.port}:[{peer}]"]
    for name, value in request.headers.items(multi=True):
        if name.lower() == "accept-encoding":
            args.append("--compressed")
        else:
            args += ["-H", f"{name}: {value}"]
    if request.method != "GET":
        args += ["-X", request.method]
    args.append(request.pretty_url)
    body = _body(request)
    if body is not None:
        args += ["-d", body]
    return _line(args)


def httpie_command(flow: Flow) -> str:
    """The HTTPie command repeating the flow's request (the body on stdin)."""
    request = _request(flow)
    args = ["http", request.method, request.pretty_url]
    args += [f"{name}: {value}" for name, value in request.headers.items(multi=True)]
    body = _body(request)
    if body is None:
        return _line(args)
    try:
        tail = " <<< " + quote(body)
    except ShellQuoteError as e:
        raise ExportError(str(e)) from e
    return _line(args, tail)
