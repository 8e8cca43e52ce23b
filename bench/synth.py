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
