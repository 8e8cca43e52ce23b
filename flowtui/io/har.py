"""HAR files (HTTP Archive 1.2, saved by browser devtools, Charles, Fiddler, Insomnia,
mitmproxy and flowtui) read as HTTP flows, the way mitmproxy 11's reader turns each
``log.entries`` item into a flow, so a HAR opens, dumps, filters and saves (in
mitmproxy's format) like any capture.

Field by field this follows mitmproxy's ``mitmproxy.io.har`` (the tests compare the
flows' states), with these differences on purpose:

* A bad file is refused with the place named (``x.har: flow #3: log.entries[3].request:
  no "url"``); mitmproxy says only that the HAR is not valid.
* HTTP versions are read case-insensitively, and ``h2``/``h3``/``HTTP/1.0`` keep their
  version; mitmproxy reads anything but ``HTTP/2``, ``http/2.0`` and ``HTTP/3`` as
  HTTP/1.1.
* An entry whose response has status 0 and no headers (a request that got no answer:
  devtools' blocked or failed requests, and flowtui's and mitmproxy's own export of a
  flow without a response) becomes a flow without a response, with the HAR's
  ``_error`` (or "no response") as its error; mitmproxy makes a response with status 0.
* Header names and values that are not strings, a ``time`` that is not a number and
  similar damage are reported, not turned into a Python exception.

A HAR is a JSON document, read whole: a damaged one delivers no flows.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime
from typing import Any

from flowtui.core import Client, Error, Flow, HTTPFlow, Request, Response, Server
from flowtui.core import encoding as codings
from flowtui.core.headers import Headers, infer_content_encoding
from flowtui.core.http import REASONS
from flowtui.io.errors import FlowReadException

__all__ = ["HarError", "har_flows", "looks_like_har"]

_BOM = b"\xef\xbb\xbf"

_VERSIONS = {
    "http/2.0": "HTTP/2",
    "http/2": "HTTP/2",
    "h2": "HTTP/2",
    "http/3": "HTTP/3",
    "http/3.0": "HTTP/3",
    "h3": "HTTP/3",
    "http/1.0": "HTTP/1.0",
}
"""HTTP versions as HAR writers spell them; anything else is HTTP/1.1."""


class HarError(ValueError):
    """One entry that cannot be a flow; `where` is the JSON path of the bad value."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what


def looks_like_har(head: bytes) -> bool:
    """Whether a file starting with `head` is a JSON object (a HAR, if anything)."""
    return head.removeprefix(_BOM).lstrip(b" \t\r\n").startswith(b"{")


def _get(obj: Any, key: str, where: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    if not isinstance(obj, dict):
        raise HarError(where, f"expected an object, found {type(obj).__name__}")
    if key not in obj:
        if default is not ...:
            return default
        raise HarError(where, f'no "{key}"')
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        names = " or ".join(k.__name__ for k in _kinds(kind))
        raise HarError(f"{where}.{key}", f"expected {names}, found {type(value).__name__}")
    return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _headers(items: list[Any], where: str) -> Headers:
    fields = []
    for i, header in enumerate(items):
        here = f"{where}[{i}]"
        if isinstance(header, dict):
            name = _get(header, "name", here, str)
            value = _get(header, "value", here, str)
        elif isinstance(header, list) and len(header) >= 2:  # Slack writes [name, value]
            name, value = header[0], header[1]
            if not isinstance(name, str) or not isinstance(value, str):
                raise HarError(here, "expected a name and a value as strings")
        else:
            raise HarError(here, "expected {name, value} or [name, value]")
        fields.append(
            (name.encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape"))
        )
    return Headers(fields)


def _version(text: str) -> str:
    return _VERSIONS.get(text.lower(), "HTTP/1.1")


def _timestamp(text: str, where: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise HarError(where, f"not an ISO 8601 date: {text[:40]!r}") from None


def _response_body(content: dict[str, Any], headers: Headers, where: str) -> bytes:
    text = _get(content, "text", where, str, "")
    coding = _get(content, "encoding", where, (str, type(None)), None)
    if coding == "base64":
        try:
            body: bytes = base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            raise HarError(f"{where}.text", "not valid base64") from None
    else:
        charset = coding or infer_content_encoding(headers.get("content-type", ""))
        try:
            body = codings.encode(text, charset)
        except (ValueError, LookupError):
            body = text.encode("utf-8", "surrogateescape")
    try:
        encoded: bytes = codings.encode(body, headers.get("content-encoding") or "identity")
    except ValueError:
        raise HarError(where, "cannot apply the response's Content-Encoding") from None
    return encoded


def entry_to_flow(entry: Any, where: str) -> HTTPFlow:
    """One ``log.entries`` item as a flow; HarError names the bad value."""
    started = _timestamp(_get(entry, "startedDateTime", where, str), f"{where}.startedDateTime")
    duration = _get(entry, "time", where, (int, float))
    if not math.isfinite(duration):
        raise HarError(f"{where}.time", "not a finite number")
    end = started + duration / 1000.0
    req = _get(entry, "request", where, dict)
    rwhere = f"{where}.request"
    method = _get(req, "method", rwhere, str)
    url = _get(req, "url", rwhere, str)
    headers = _headers(_get(req, "headers", rwhere, list), f"{rwhere}.headers")
    req_version = _get(req, "httpVersion", rwhere, str)
    resp = _get(entry, "response", where, dict)
    swhere = f"{where}.response"
    resp_version = _get(resp, "httpVersion", swhere, str)
    body = ""
    if "postData" in req:
        post = _get(req, "postData", rwhere, dict)
        body = _get(post, "text", f"{rwhere}.postData", (str, type(None)), "") or ""
    server_ip = _get(entry, "serverIPAddress", where, (str, type(None)), None)
    port = 80 if url.startswith("http://") else 443

    client = Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0), timestamp_start=started)
    client.timestamp_end = end
    server = Server(address=(server_ip, port) if server_ip else None)
    flow = HTTPFlow(client, server)
    try:
        flow.request = Request.make(method, url, body, headers)
    except ValueError as e:
        raise HarError(rwhere, f"not a request flowtui can hold: {e}") from None
    flow.request.timestamp_start = started
    flow.request.timestamp_end = end
    flow.request.http_version = _version(req_version)

    status = _get(resp, "status", swhere, int)
    resp_headers = _headers(_get(resp, "headers", swhere, list), f"{swhere}.headers")
    if status == 0 and not resp_headers:
        message = resp.get("_error")
        text = message if isinstance(message, str) and message else "no response"
        flow.error = Error(msg=text, timestamp=end)
        return flow
    if not 0 < status < 1000:
        raise HarError(f"{swhere}.status", f"not an HTTP status code: {status}")
    content = _get(resp, "content", swhere, dict)
    flow.response = Response(
        b"HTTP/1.1",
        status,
        REASONS.get(status, "").encode(),
        resp_headers,
        _response_body(content, resp_headers, f"{swhere}.content"),
        None,
        started,
        end,
    )
    flow.response.http_version = _version(resp_version)
    return flow


def har_flows(data: bytes, name: str | None) -> list[Flow]:
    """Every entry of a HAR file as an HTTP flow; FlowReadException names the file and
    the entry (or the place in the JSON) at the first problem."""
    skipped = len(_BOM) if data.startswith(_BOM) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as e:
        raise FlowReadException(
            "a HAR file must be UTF-8 JSON", path=name, offset=skipped + e.start
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        at = skipped + len(text[: e.pos].encode("utf-8", "surrogatepass"))
        raise FlowReadException(
            f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})", path=name, offset=at
        ) from None
    except RecursionError:
        raise FlowReadException("not valid JSON: nested too deeply", path=name, offset=0) from None
    try:
        log = _get(doc, "log", "HAR", dict)
        entries = _get(log, "entries", "log", list)
    except HarError as e:
        raise FlowReadException(f"not a HAR file: {e}", path=name, offset=0) from None
    flows: list[Flow] = []
    for i, entry in enumerate(entries):
        try:
            flows.append(entry_to_flow(entry, f"log.entries[{i}]"))
        except HarError as e:
            raise FlowReadException(str(e), path=name, index=i) from None
    return flows
