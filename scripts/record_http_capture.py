#!/usr/bin/env python3
"""Record a real HTTP + WebSocket capture with mitmdump, and its ground truth.

usage: python scripts/record_http_capture.py [OUT.flows]
       python scripts/record_http_capture.py --views [OUT.flows]
       (default tests/data/mitmproxy-11/http_bodies.flows, with --views
       tests/data/mitmproxy-11/http_views.flows; run with the venv that has
       mitmproxy 11, whose mitmdump is found beside this interpreter or on PATH)

`--views` records the bodies the content views and their snapshots need instead: a
PNG image (encoded here by hand, 24x16 with a text chunk), JSON labelled as JSON that
is not (a decode error), XML, HTML, JavaScript and CSS, a nested JSON document, and a
query string.

Everything runs on 127.0.0.1: an HTTP/1.1 server and a WebSocket server (wsproto) are
threads of this script, mitmdump runs as a regular proxy and as a reverse proxy to the
HTTP server (one process, a throwaway confdir), and the clients (urllib through a
ProxyHandler, a wsproto client through the proxy, an h2 client over TLS to the reverse
proxy, so HTTP/2 on the client side and HTTP/1.1 upstream) make:
gzip, deflate, br and zstd bodies, a body whose gzip is broken, latin-1 and UTF-8 text,
JSON (also as a gzip request body), URL-encoded and multipart forms, cookies both ways
(attributes, an Expires date with a comma, a quoted value), repeated headers, a query
with repeated and non-ASCII keys, a 404, and a WebSocket with text and binary messages
closed by the client; over HTTP/2: a br body, cookies in two fields, a query and a form.
mitmdump is stopped with SIGINT so that it writes every flow; every wait is bounded.

Beside the capture it writes `OUT.flows.json`: mitmproxy's own `get_state()` of every
flow as `mitmproxy.io.FlowReader` reads it back (bytes as {"__bytes__": base64},
tuples as lists), the ground truth the tests compare flowtui with.
"""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import brotli
import zstandard
from capture_truth import find_mitmdump, write_truth
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Request,
    TextMessage,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "data" / "mitmproxy-11" / "http_bodies.flows"
VIEWS_OUT = ROOT / "tests" / "data" / "mitmproxy-11" / "http_views.flows"
TIMEOUT = 10.0

JSON_BODY = json.dumps(
    {"name": "grüße ✓", "items": list(range(40)), "ok": True}, ensure_ascii=False
).encode()
COMPRESS = {
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}


def png_image(width: int, height: int) -> bytes:
    """A real PNG (RGB, 8 bits, a gradient) with a tEXt chunk, built with zlib."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return len(data).to_bytes(4, "big") + kind + data + crc.to_bytes(4, "big")

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 10 % 256, y * 16 % 256, 128)) for x in range(width))
        for y in range(height)
    )
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes((8, 2, 0, 0, 0))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00made by flowtui's recorder")
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


VIEW_BODIES: dict[str, tuple[str, bytes]] = {
    "/image.png": ("image/png", png_image(24, 16)),
    "/bad.json": ("application/json", b'{"ok": true, "items": [1, 2,, 3]}'),
    "/data.xml": (
        "application/xml",
        b'<?xml version="1.0"?><feed><entry id="1"><title>caf\xc3\xa9</title></entry>'
        b'<entry id="2"><title>second</title></entry></feed>',
    ),
    "/page.html": (
        "text/html; charset=utf-8",
        b"<!doctype html><html><head><title>flowtui</title></head><body><h1>Hello</h1>"
        b"<p class=x>a <b>bold</b> word</p><script>let a = 1;</script></body></html>",
    ),
    "/app.js": ("application/javascript", b"function f(a,b){return a+b}\nconst x = f(1, 2);\n"),
    "/style.css": ("text/css", b"body{margin:0;color:#333}h1{font-size:2em}"),
    "/nested.json": (
        "application/json",
        json.dumps(
            {
                "user": {"name": "ana ✓", "roles": ["admin", "dev"], "id": 7},
                "tags": [],
                "score": 1.5,
                "active": None,
                "ok": True,
            },
            ensure_ascii=False,
        ).encode(),
    ),
}
"""What `--views` fetches: path -> (Content-Type, body)."""


class Handler(BaseHTTPRequestHandler):
    """The upstream server: each path answers one kind of body or header."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        coding = path.rsplit("/", 1)[-1]
        if path.startswith("/encoded/") and coding in COMPRESS:
            self._send(
                200,
                COMPRESS[coding](JSON_BODY),
                [("Content-Type", "application/json"), ("Content-Encoding", coding)],
            )
        elif path == "/broken-gzip":
            self._send(
                200,
                b"this is not gzip at all",
                [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
            )
        elif path == "/latin1":
            self._send(
                200,
                "<p>caf\xe9 na\xefve</p>".encode("latin-1"),
                [("Content-Type", "text/html; charset=ISO-8859-1")],
            )
        elif path == "/meta-charset":
            body = '<html><head><meta charset="utf-8"></head><body>中文 ✓</body></html>'
            self._send(200, body.encode(), [("Content-Type", "text/html")])
        elif path == "/cookies":
            self._send(
                200,
                b"cookies set",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Set-Cookie", "session=abc123; Path=/; HttpOnly; SameSite=Lax"),
                    (
                        "Set-Cookie",
                        'pref="dark mode"; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Secure',
                    ),
                    ("Set-Cookie", "a=1, b=2; Max-Age=60"),
                    ("X-Repeated", "first"),
                    ("X-Repeated", "second"),
                    ("X-Raw", "caf\xe9"),
                ],
            )
        elif path == "/query":
            self._send(200, self.path.encode(), [("Content-Type", "text/plain")])
        elif path in VIEW_BODIES:
            ctype, body = VIEW_BODIES[path]
            self._send(200, body, [("Content-Type", ctype)])
        else:
            self._send(404, b"not found", [("Content-Type", "text/plain")])

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(size)
        content_type = self.headers.get("Content-Type", "application/octet-stream")
        self._send(201, body, [("Content-Type", content_type), ("X-Echo", self.path)])


def ws_server(listener: socket.socket, stop: threading.Event) -> None:
    """Accept WebSocket connections: echo every message, then send one text and one
    binary message of its own after the client's first."""
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        threading.Thread(target=_ws_session, args=(conn,), daemon=True).start()


def _ws_session(conn: socket.socket) -> None:
    conn.settimeout(TIMEOUT)
    ws = WSConnection(ConnectionType.SERVER)
    greeted = False
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, Request):
                    conn.sendall(ws.send(AcceptConnection()))
                elif isinstance(event, Message):
                    conn.sendall(ws.send(Message(data=event.data)))
                    if not greeted:
                        greeted = True
                        conn.sendall(ws.send(TextMessage(data="server says hi ✓")))
                        conn.sendall(ws.send(BytesMessage(data=b"\x00\xff\xfe server bytes")))
                elif isinstance(event, CloseConnection):
                    conn.sendall(ws.send(event.response()))
                    return


def ws_client(proxy_port: int, ws_port: int) -> None:
    """A WebSocket through the proxy (absolute-form request): text and binary
    messages both ways, closed by the client with a code and a reason."""
    ws = WSConnection(ConnectionType.CLIENT)
    sock = socket.create_connection(("127.0.0.1", proxy_port), timeout=TIMEOUT)
    with sock:
        target = f"http://127.0.0.1:{ws_port}/chat?room=1"
        sock.sendall(ws.send(Request(host=f"127.0.0.1:{ws_port}", target=target)))
        outgoing: list[Message[Any]] = [
            TextMessage(data="hello ✓ websocket"),
            BytesMessage(data=bytes(range(256))),
            TextMessage(data='{"json": [1, 2, 3]}'),
        ]
        expected = len(outgoing) + 2  # echoes plus the server's own two
        received = 0
        accepted = False
        deadline = time.monotonic() + TIMEOUT
        while received < expected and time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                raise RuntimeError("proxy closed the WebSocket")
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, AcceptConnection) and not accepted:
                    accepted = True
                    for message in outgoing:
                        sock.sendall(ws.send(message))
                elif isinstance(event, Message):
                    received += 1
        sock.sendall(ws.send(CloseConnection(code=1000, reason="bye")))
        for _ in range(10):  # read the close reply (bounded)
            data = sock.recv(65536)
            if not data:
                break
            ws.receive_data(data)
            if any(isinstance(e, CloseConnection) for e in ws.events()):
                break


def http_clients(proxy_port: int, http_port: int) -> None:
    proxy = urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{proxy_port}"})
    opener = urllib.request.build_opener(proxy)
    base = f"http://127.0.0.1:{http_port}"

    def fetch(path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> None:
        req = urllib.request.Request(base + path, data=data, headers=headers or {})
        try:
            with opener.open(req, timeout=TIMEOUT) as resp:
                resp.read()
        except urllib.error.HTTPError as e:
            e.read()

    for coding in COMPRESS:
        fetch(f"/encoded/{coding}", headers={"Accept-Encoding": coding})
    fetch("/broken-gzip")
    fetch("/latin1")
    fetch("/meta-charset")
    fetch(
        "/cookies",
        headers={"Cookie": 'theme=dark; quoted="a b"; empty=', "X-Client": "caf\xe9"},
    )
    fetch("/query?a=1&a=2&b=%C3%A9t%C3%A9&flag&sp=a+b")
    fetch(
        "/form",
        data=b"user=gr%C3%BC%C3%9Fe&user=second&note=a+b%26c&empty=",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    boundary = "flowtuiBoundary7d3"
    multipart = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="field"\r\n\r\n'
            "value ✓\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"\x00\x01\xff\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    fetch(
        "/upload",
        data=multipart,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    fetch(
        "/json",
        data=JSON_BODY,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    fetch(
        "/gzip-upload",
        data=gzip.compress(JSON_BODY, mtime=0),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    fetch("/missing")


def views_clients(proxy_port: int, http_port: int) -> None:
    """`--views`: one GET per body of `VIEW_BODIES`, one with a query string."""
    proxy = urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{proxy_port}"})
    opener = urllib.request.build_opener(proxy)
    for path in VIEW_BODIES:
        query = "?q=flow+tui&page=2&lang=caf%C3%A9" if path == "/nested.json" else ""
        req = urllib.request.Request(f"http://127.0.0.1:{http_port}{path}{query}")
        with opener.open(req, timeout=TIMEOUT) as resp:
            resp.read()


def h2_client(port: int) -> None:
    """HTTP/2 over TLS to the proxy's reverse mode (mitmproxy picks h2 when the client
    offers it and speaks HTTP/1.1 upstream): GETs, a POST with a body, and cookies."""
    import ssl

    import h2.config
    import h2.connection
    import h2.events

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    with ctx.wrap_socket(raw, server_hostname="h2.flowtui.test") as sock:
        if sock.selected_alpn_protocol() != "h2":
            raise RuntimeError(f"no HTTP/2: {sock.selected_alpn_protocol()!r}")
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        requests: list[tuple[str, str, list[tuple[str, str]], bytes]] = [
            ("GET", "/encoded/br", [("accept-encoding", "br")], b""),
            ("GET", "/cookies", [("cookie", "h2=yes"), ("cookie", "second=1")], b""),
            ("GET", "/query?x=1&x=2", [], b""),
            (
                "POST",
                "/form",
                [("content-type", "application/x-www-form-urlencoded")],
                b"a=1&b=%C3%BC",
            ),
        ]
        for method, path, extra, body in requests:
            stream = conn.get_next_available_stream_id()
            headers = [
                (":method", method),
                (":path", path),
                (":scheme", "https"),
                (":authority", "h2.flowtui.test"),
                *extra,
            ]
            conn.send_headers(stream, headers, end_stream=not body)
            if body:
                conn.send_data(stream, body, end_stream=True)
            sock.sendall(conn.data_to_send())
            done = False
            for _ in range(100):  # bounded: each response takes a few reads
                data = sock.recv(65536)
                if not data:
                    raise RuntimeError("proxy closed the HTTP/2 connection")
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.DataReceived):
                        conn.acknowledge_received_data(event.flow_controlled_length, stream)
                    if isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                        done = True
                sock.sendall(conn.data_to_send())
                if done:
                    break
        conn.close_connection()
        sock.sendall(conn.data_to_send())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _protocol(state: dict[str, Any]) -> dict[str, Any]:
    """The HTTP keys of a flow's digest."""
    request, response = state["request"], state["response"]
    return {
        "request": f"{_text(request['method'])} {_text(request['scheme'])}://"
        f"{request['host']}:{request['port']}{_text(request['path'])}",
        "response_status": response["status_code"] if response else None,
        "websocket": state["websocket"] is not None,
    }


def main() -> None:
    args = sys.argv[1:]
    views = "--views" in args
    args = [a for a in args if a != "--views"]
    out = Path(args[0]) if args else VIEWS_OUT if views else DEFAULT_OUT
    exe = find_mitmdump()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ws_listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    threading.Thread(target=ws_server, args=(ws_listener, stop), daemon=True).start()

    proxy_port, reverse_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as work:
        partial = Path(work) / "capture.flows"
        cmd = [
            exe,
            "--listen-host", "127.0.0.1",
            "--mode", f"regular@{proxy_port}",
            "--mode", f"reverse:http://127.0.0.1:{server.server_address[1]}@{reverse_port}",
            "--set", f"confdir={work}/confdir",
            "--set", "keep_host_header=true",
            "-w", str(partial),
            "-q",
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        try:
            wait_listening(proxy_port)
            if views:
                views_clients(proxy_port, server.server_address[1])
            else:
                http_clients(proxy_port, server.server_address[1])
                ws_client(proxy_port, ws_listener.getsockname()[1])
                wait_listening(reverse_port)
                h2_client(reverse_port)
            time.sleep(0.5)  # let the proxy finish the WebSocket flow
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=TIMEOUT)
            stop.set()
            server.shutdown()
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(partial, out)
    count = write_truth(out, _protocol)
    print(f"{out}: {count} flows, truth in {out.name}.json ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
