"""Deterministic synthetic captures for the benchmarks (both formats), cached on disk.

Flows look like the issue's: TCP, 10 messages each (about 1.2 kB on average), TLS on
every other flow with the 2-certificate chain from the test PKI, plus one flow of
10,000 messages first (the "open a big flow" case). 100k flows come to about 1.3 GB in
mitmproxy's format. Files go to `bench/.cache/` (ignored by git) and are built once.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from flowtui.io import FlowReader, save_flows
from flowtui.io.tnetstring import dumps

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
PKI = ROOT.parent / "tests" / "data" / "mitmproxy-11" / "pki"
NEEDLE = b"flowtui-needle"
"""Appears in every 1,000th flow's last message: what the `~b` benchmark finds."""
BIG_MESSAGES = 10_000
T0 = 1_795_000_000.0


def _pems(name: str) -> list[bytes]:
    text = (PKI / name).read_bytes()
    parts = text.split(b"-----END CERTIFICATE-----")
    return [p.strip() + b"\n-----END CERTIFICATE-----\n" for p in parts if b"BEGIN" in p]


def _conn(
    cid: int, peer: list[Any], sock: list[Any], tls: bool, sni: str | None, certs: list[bytes]
) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{cid:012d}",
        "peername": peer,
        "sockname": sock,
        "timestamp_start": T0 + cid,
        "timestamp_end": T0 + cid + 2.5,
        "timestamp_tls_setup": T0 + cid + 0.01 if tls else None,
        "tls": tls,
        "tls_version": "TLSv1.3" if tls else None,
        "sni": sni,
        "alpn": b"h2" if tls else None,
        "alpn_offers": [b"h2", b"http/1.1"] if tls else [],
        "cipher": "TLS_AES_256_GCM_SHA384" if tls else None,
        "cipher_list": [],
        "certificate_list": certs,
        "error": None,
        "transport_protocol": "tcp",
    }


def flow_state(i: int, rng: random.Random, pool: bytes, certs: list[bytes]) -> dict[str, Any]:
    """The state (format 21) of synthetic flow number `i`."""
    tls = i % 2 == 1
    host = f"svc{i % 997}.bench.flowtui.test"
    client = _conn(
        2 * i,
        [f"10.0.{i % 250}.{i % 200 + 1}", 40000 + i % 20000],
        ["10.9.0.1", 8080],
        tls,
        host if tls else None,
        [],
    )
    server = _conn(
        2 * i + 1,
        [f"192.168.{i % 250}.{i % 100 + 1}", 443 if tls else 5000],
        ["10.9.0.1", 50000],
        tls,
        host if tls else None,
        certs if tls else [],
    )
    server["address"] = server["peername"]
    server["timestamp_tcp_setup"] = T0 + i + 0.005
    server["via"] = None
    client["proxy_mode"] = "regular"
    client["mitmcert"] = None
    count = BIG_MESSAGES if i == 0 else 10
    messages = []
    for k in range(count):
        size = rng.randrange(100, 400) if i == 0 else rng.randrange(150, 1850)
        at = rng.randrange(0, len(pool) - size)
        content = pool[at : at + size]
        if k == count - 1 and i % 1000 == 7:
            content = content[: -len(NEEDLE)] + NEEDLE
        messages.append([k % 2 == 0, content, T0 + i + 0.02 + k * 0.001])
    return {
        "id": f"00000000-0000-4000-9000-{i:012d}",
        "type": "tcp",
        "version": 21,
        "client_conn": client,
        "server_conn": server,
        "error": None,
        "intercepted": False,
        "is_replay": None,
        "marked": ":star:" if i % 50 == 3 else "",
        "comment": "",
        "metadata": {},
        "timestamp_created": T0 + i,
        "backup": None,
        "messages": messages,
    }


def capture(flows: int, fmt: str) -> Path:
    """The cached capture of `flows` flows in `fmt` (`mitmproxy` or `flowtui`), built once.

    The flowtui file is what `flowtui convert` makes of the mitmproxy one (stored list
    summaries included), as a user would get it.
    """
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"synth-{flows}.{'flows' if fmt == 'mitmproxy' else 'flowtui'}"
    if path.exists():
        return path
    if fmt == "flowtui":
        source = capture(flows, "mitmproxy")
        with source.open("rb") as f:
            save_flows(path, FlowReader(f, name=str(source)).stream(), format="flowtui")
        return path
    rng = random.Random(flows)
    text = random.Random(1).choices(b"abcdefghijklmnopqrstuvwxyz0123456789 \n=:/-", k=1 << 20)
    pool = bytes(text)
    certs = _pems("server_chain.pem")
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        for i in range(flows):
            f.write(dumps(flow_state(i, rng, pool, certs)))
    tmp.replace(path)
    return path


# -- an HTTP-heavy capture -------------------------------------------------------------

HTTP_BODIES = 256
"""Distinct response bodies in the HTTP capture (each flow takes one at random)."""
WEBSOCKET_EVERY = 10_000
"""Every this many flows, one is a WebSocket (10 at 100k flows)."""


def _json_bodies(rng: random.Random, count: int, low: int, high: int) -> list[bytes]:
    """`count` gzip-compressed JSON documents, each `low`-`high` bytes compressed (as
    stored in the capture), of records with random ids and numbers (JSON compresses
    about 2x this way, as API responses with ids and tokens do)."""
    import gzip
    import json

    out = []
    for _ in range(count):
        target = rng.randrange(low, high)
        items: list[dict[str, Any]] = []
        body = gzip.compress(b"[]", mtime=0)
        while len(body) < target:
            for _ in range(max(1, (target - len(body)) // 60)):
                items.append(
                    {
                        "id": f"{rng.getrandbits(64):016x}",
                        "name": rng.choice(["alpha", "beta", "gamma", "delta"]) + str(len(items)),
                        "score": rng.randrange(1_000_000),
                        "tags": [rng.choice(["a", "b", "c", "new", "old"]) for _ in range(3)],
                        "active": rng.random() < 0.5,
                    }
                )
            body = gzip.compress(json.dumps(items).encode(), mtime=0)
        out.append(body)
    return out


def _h(pairs: list[tuple[str, str]]) -> list[list[bytes]]:
    return [[k.encode(), v.encode()] for k, v in pairs]


def http_flow_state(
    i: int, rng: random.Random, bodies: list[bytes], uploads: list[bytes], certs: list[bytes]
) -> dict[str, Any]:
    """The state (format 21) of synthetic HTTP flow number `i`: a JSON API call over
    HTTP/1.1 (TLS on every other flow) with a gzip JSON response body of 1-50 kB; every
    fourth flow POSTs a gzip JSON body; every `WEBSOCKET_EVERY`th is a WebSocket."""
    tls = i % 2 == 1
    host = f"api{i % 97}.bench.flowtui.test"
    t = T0 + i * 0.01
    sni = host if tls else None
    client_peer = [f"10.0.{i % 250}.{i % 200 + 1}", 40000 + i % 20000]
    server_peer = [f"192.168.{i % 250}.{i % 100 + 1}", 443 if tls else 80]
    client = _conn(2 * i, client_peer, ["10.9.0.1", 8080], tls, sni, [])
    server = _conn(2 * i + 1, server_peer, ["10.9.0.1", 50000], tls, sni, certs if tls else [])
    for conn in (client, server):
        conn["alpn"] = b"http/1.1" if tls else None
        conn["timestamp_start"], conn["timestamp_end"] = t, t + 5.0
    server["address"] = server["peername"]
    server["timestamp_tcp_setup"] = t + 0.005
    server["via"] = None
    client["proxy_mode"] = "regular"
    client["mitmcert"] = None
    ws = i % WEBSOCKET_EVERY == 5
    post = not ws and i % 4 == 0
    upload = uploads[rng.randrange(len(uploads))] if post else b""
    body = b"" if ws else bodies[rng.randrange(len(bodies))]
    req_headers = [("Host", host), ("User-Agent", "bench/1.0 (flowtui synth)"),
                   ("Accept", "application/json"), ("Accept-Encoding", "gzip, deflate, br"),
                   ("Accept-Language", "en-GB,en;q=0.9"),
                   ("Cookie", f"session={i % 1000:08x}; theme=dark"),
                   ("X-Request-Id", f"{rng.getrandbits(64):016x}")]  # fmt: skip
    if ws:
        req_headers += [("Connection", "Upgrade"), ("Upgrade", "websocket"),
                        ("Sec-WebSocket-Version", "13"),
                        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]  # fmt: skip
    if post:
        req_headers += [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                        ("Content-Length", str(len(upload)))]  # fmt: skip
    resp_headers = [("Date", "Sat, 05 Dec 2026 07:00:00 GMT"), ("Server", "bench"),
                    ("Cache-Control", "no-store"), ("Vary", "Accept-Encoding"),
                    ("X-Trace", f"{rng.getrandbits(48):012x}")]  # fmt: skip
    if ws:
        resp_headers += [("Connection", "Upgrade"), ("Upgrade", "websocket"),
                         ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]  # fmt: skip
    else:
        resp_headers += [("Content-Type", "application/json; charset=utf-8"),
                         ("Content-Encoding", "gzip"),
                         ("Content-Length", str(len(body)))]  # fmt: skip
    path = f"/v1/items/{i}?page={i % 7}&limit=50" if not ws else f"/socket/{i}"
    request = {
        "http_version": b"HTTP/1.1", "headers": _h(req_headers), "content": upload,
        "trailers": None, "timestamp_start": t + 0.02, "timestamp_end": t + 0.021,
        "host": host, "port": 443 if tls else 80, "method": b"POST" if post else b"GET",
        "scheme": b"https" if tls else b"http", "authority": b"", "path": path.encode(),
    }  # fmt: skip
    response = {
        "http_version": b"HTTP/1.1", "headers": _h(resp_headers), "content": body,
        "trailers": None, "timestamp_start": t + 0.05, "timestamp_end": t + 0.06 + i % 10 / 100,
        "status_code": 101 if ws else (200 if i % 20 else 404),
        "reason": b"Switching Protocols" if ws else (b"OK" if i % 20 else b"Not Found"),
    }  # fmt: skip
    websocket = None
    if ws:
        messages = [[1 if k % 3 else 2, k % 2 == 0, (b"frame %d " % k) * (k % 40 + 1),
                     t + 0.1 + k * 0.01, False, False] for k in range(200)]  # fmt: skip
        websocket = {"messages": messages, "closed_by_client": True, "close_code": 1000,
                     "close_reason": "", "timestamp_end": t + 4.0}  # fmt: skip
    return {
        "version": 21, "type": "http", "id": f"00000000-0000-4000-a000-{i:012d}",
        "error": None, "client_conn": client, "server_conn": server, "intercepted": False,
        "is_replay": None, "marked": ":star:" if i % 50 == 3 else "", "metadata": {},
        "comment": "", "timestamp_created": t, "backup": None,
        "request": request, "response": response, "websocket": websocket,
    }  # fmt: skip


def http_capture(flows: int) -> Path:
    """The cached HTTP-heavy capture of `flows` flows in mitmproxy's format, built once."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"synth-http-{flows}.flows"
    if path.exists():
        return path
    rng = random.Random(flows)
    bodies = _json_bodies(random.Random(2), HTTP_BODIES, 1000, 50_000)
    uploads = _json_bodies(random.Random(3), 32, 1000, 5000)
    certs = _pems("server_chain.pem")
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        for i in range(flows):
            f.write(dumps(http_flow_state(i, rng, bodies, uploads, certs)))
    tmp.replace(path)
    return path
