"""TLS metadata read from a real handshake through the relay, and the sniffer under fuzz."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from live_helpers import running_client, wait_until

from flowtui.live.endpoints import Endpoint
from flowtui.live.relay import Relay
from flowtui.live.tls_sniff import HandshakeSniffer, TlsInfo


def _pki(tmp: Path) -> tuple[Path, Path, Path]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flowtui test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "echo.test")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("echo.test")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    chain, key_file, ca_file = tmp / "chain.pem", tmp / "key.pem", tmp / "ca.pem"
    chain.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ca_file.write_bytes(ca.public_bytes(pem))
    return chain, key_file, ca_file


async def _tls_through_relay(tmp_path: Path, version: ssl.TLSVersion):
    chain, key, ca = _pki(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(chain, key)
    server_ctx.set_alpn_protocols(["myproto"])
    server_ctx.maximum_version = version

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        data = await r.read(100)
        w.write(b"ECHO:" + data)
        await w.drain()
        w.close()

    tls_server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = tls_server.sockets[0].getsockname()[1]
    relay = Relay(("127.0.0.1", 0), ("127.0.0.1", port))
    await relay.start(Endpoint("unix", path=str(tmp_path / "s" / "l.sock")))
    try:
        async with running_client(str(relay.live.endpoint)) as client:
            ctx = ssl.create_default_context(cafile=str(ca))
            ctx.set_alpn_protocols(["myproto", "other"])
            r, w = await asyncio.open_connection(
                *relay.listen, ssl=ctx, server_hostname="echo.test"
            )
            w.write(b"tls-data")
            assert await asyncio.wait_for(r.read(100), 3) == b"ECHO:tls-data"
            w.close()
            flow = await wait_until(lambda: next(iter(client.flows.values()), None))
            await wait_until(lambda: client.flows[flow.id].server_conn.tls_version)
            return client.flows[flow.id], ctx
    finally:
        await relay.close()
        tls_server.close()


async def test_tls13_metadata(tmp_path: Path) -> None:
    flow, _ = await _tls_through_relay(tmp_path, ssl.TLSVersion.TLSv1_3)
    c, s = flow.client_conn, flow.server_conn
    assert c.sni == s.sni == "echo.test"
    assert c.alpn_offers == [b"myproto", b"other"]
    assert "TLS_AES_256_GCM_SHA384" in c.cipher_list
    assert s.tls_version == "TLSv1.3" and s.cipher and s.cipher.startswith("TLS_")
    assert s.alpn is None and list(s.certificate_list) == []  # encrypted in TLS 1.3
    assert "TLSv1.3" in flow.metadata["flowtui.tls_offered_versions"]


async def test_tls12_metadata_and_chain(tmp_path: Path) -> None:
    flow, _ = await _tls_through_relay(tmp_path, ssl.TLSVersion.TLSv1_2)
    s = flow.server_conn
    assert s.tls_version == "TLSv1.2" and s.alpn == b"myproto"
    assert s.cipher and "-" in s.cipher  # OpenSSL name, e.g. ECDHE-ECDSA-AES256-GCM-SHA384
    assert len(s.certificate_list) == 2
    assert s.certificate_list[0].cn == "echo.test"
    assert s.certificate_list[0].to_pem().startswith(b"-----BEGIN CERTIFICATE-----")


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=6), st.booleans())
def test_sniffer_never_raises(chunks: list[bytes], from_client: bool) -> None:
    sniffer = HandshakeSniffer(TlsInfo(), from_client)
    for chunk in chunks:
        sniffer.feed(b"\x16\x03\x01" + chunk if chunk[:1] == b"\x00" else chunk)


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=400), st.integers(0, 3))
def test_sniffer_handshake_shaped_garbage(body: bytes, kind: int) -> None:
    hs = bytes([(1, 2, 11, 14)[kind]]) + len(body).to_bytes(3, "big") + body
    record = b"\x16\x03\x03" + len(hs).to_bytes(2, "big") + hs
    for from_client in (True, False):
        HandshakeSniffer(TlsInfo(), from_client).feed(record)
