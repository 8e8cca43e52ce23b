"""A request or a response as the bytes of an HTTP/1 message (mitmproxy's
``raw_request``, ``raw_response`` and ``raw`` exports): the body decoded, chunked
again when the message says ``Transfer-Encoding: chunked``."""

from __future__ import annotations

from flowtui.core import Flow, HTTPFlow, Message, Request, Response
from flowtui.export.errors import ExportError

__all__ = ["head", "raw", "raw_request", "raw_response", "request_body", "response_body"]


def head(message: Message) -> bytes:
    """The message's HTTP/1 head: first line, header fields and the blank line."""
    if isinstance(message, Request):
        d = message.data
        if d.method.upper() == b"CONNECT":
            target = d.authority
        elif d.authority:
            target = d.scheme + b"://" + d.authority + d.path
        else:
            target = d.path
        line = d.method + b" " + target + b" " + d.http_version
    else:
        assert isinstance(message, Response)
        r = message.data
        line = b"%s %d %s" % (r.http_version, r.status_code, r.reason)
    return line + b"\r\n" + bytes(message.headers) + b"\r\n"


def _body(message: Message, what: str) -> bytes:
    body = message.data.content
    assert body is not None
    trailers = message.data.trailers
    if "chunked" not in message.headers.get("transfer-encoding", "").lower():
        if trailers:
            raise ExportError(f"the {what} has trailers but is not chunked")
        return body
    chunk = b"%x\r\n%s\r\n" % (len(body), body) if body else b""
    return chunk + b"0\r\n" + (bytes(trailers) if trailers else b"") + b"\r\n"


def _assemble(message: Message, what: str) -> bytes:
    message = message.copy()
    message.decode(strict=False)
    if message.raw_content is None:
        raise ExportError(f"the {what} body was not recorded")
    return head(message) + _body(message, what)


def _http(flow: Flow) -> HTTPFlow:
    if not isinstance(flow, HTTPFlow):
        raise ExportError(f"a {flow.type} flow has no HTTP messages")
    return flow


def raw_request(flow: Flow) -> bytes:
    """The request as HTTP/1 bytes, its body decoded."""
    return _assemble(_http(flow).request, "request")


def raw_response(flow: Flow) -> bytes:
    """The response as HTTP/1 bytes, its body decoded."""
    response = _http(flow).response
    if response is None:
        raise ExportError("the flow has no response")
    return _assemble(response, "response")


def raw(flow: Flow, separator: bytes = b"\r\n\r\n") -> bytes:
    """Request and response (and a WebSocket's messages), or whichever of the two was
    recorded."""
    f = _http(flow)
    has_request = f.request.raw_content is not None
    has_response = f.response is not None and f.response.raw_content is not None
    if has_request and has_response:
        parts = [raw_request(f), raw_response(f)]
        if f.websocket is not None:
            parts.append(
                b"\n".join(
                    (b"[OUTGOING] " if m.from_client else b"[INCOMING] ") + m.content
                    for m in f.websocket.messages
                )
            )
        return separator.join(parts)
    if has_request:
        return raw_request(f)
    if has_response:
        return raw_response(f)
    raise ExportError("the flow has neither a request nor a response body")


def request_body(flow: Flow) -> bytes:
    """The request body, decoded from its Content-Encoding (as sent, if it does not
    decode): what "save the body to a file" writes."""
    body = _http(flow).request.get_content(strict=False)
    if body is None:
        raise ExportError("the request body was not recorded")
    return body


def response_body(flow: Flow) -> bytes:
    """The response body, decoded from its Content-Encoding (as sent, if it does not
    decode)."""
    response = _http(flow).response
    if response is None:
        raise ExportError("the flow has no response")
    body = response.get_content(strict=False)
    if body is None:
        raise ExportError("the response body was not recorded")
    return body
