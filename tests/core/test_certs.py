"""Certificates: what the connection pane shows, equal to mitmproxy's Cert; bad PEM is kept."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from truth import DATA

from flowtui.core import Cert, Flow

pytest.importorskip("mitmproxy.certs")
from mitmproxy import certs as mcerts


def pem_blocks(name: str) -> list[bytes]:
    text = (DATA / "pki" / name).read_bytes()
    end = b"-----END CERTIFICATE-----\n"
    return [block + end for block in text.split(end) if block.strip()]


ALL_PEMS = [
    p for name in ("server_chain.pem", "client_chain.pem", "root.pem") for p in pem_blocks(name)
]


@pytest.mark.mitmproxy
@pytest.mark.parametrize("pem", ALL_PEMS)
def test_cert_fields_equal_mitmproxys(pem: bytes) -> None:
    ours, theirs = Cert.from_pem(pem), mcerts.Cert.from_pem(pem)
    for attr in ("subject", "issuer", "notbefore", "notafter", "serial", "keyinfo", "cn",
                 "organization", "is_ca", "altnames"):  # fmt: skip
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert ours.fingerprint() == theirs.fingerprint()
    assert ours.has_expired() == theirs.has_expired()


def test_server_leaf_shows_its_sans() -> None:
    leaf = Cert.from_pem(pem_blocks("server_chain.pem")[0])
    assert leaf.san_list() == [
        "DNS:imap.flowtui.test",
        "DNS:*.flowtui.test",
        "DNS:localhost",
        "IP:127.0.0.1",
    ]
    assert not leaf.is_ca
    assert Cert.from_pem(pem_blocks("server_chain.pem")[1]).is_ca


def test_expiry_is_judged_against_the_given_time() -> None:
    leaf = Cert.from_pem(pem_blocks("server_chain.pem")[0])
    before_end = leaf.notafter - datetime.timedelta(days=10)
    assert not leaf.has_expired(before_end)
    assert leaf.expires_within(30, before_end)
    assert not leaf.expires_within(5, before_end)
    assert leaf.has_expired(leaf.notafter + datetime.timedelta(seconds=1))
    assert not leaf.expires_within(30, leaf.notafter + datetime.timedelta(seconds=1))


def test_state_is_the_pem_bytes_exactly() -> None:
    pem = pem_blocks("client_chain.pem")[0]
    cert = Cert.from_state(pem)
    assert cert.get_state() is pem
    assert cert == Cert.from_pem(pem)
    assert hash(cert) == hash(Cert.from_state(pem))


def test_malformed_certificate_is_kept_and_reported() -> None:
    junk = b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    cert = Cert.from_state(junk)  # loading never fails: the capture still opens
    assert cert.parse_error
    assert cert.get_state() == junk
    assert repr(cert) == "<Cert(unparseable)>"
    with pytest.raises(ValueError):
        cert.fingerprint()
    with pytest.raises(ValueError):
        Cert.from_pem(junk)


def test_flow_certificate_lists_load_in_order(tls_state: dict[str, Any]) -> None:
    server_pems = list(tls_state["server_conn"]["certificate_list"])
    flow = Flow.from_state(tls_state)
    chain = flow.server_conn.certificate_list
    assert [c.get_state() for c in chain] == server_pems
    assert len(chain) == 2
    assert chain[0].issuer == chain[1].subject  # leaf, then the intermediate that signed it
    assert len(flow.client_conn.certificate_list) == 2
