"""flowtui's DNS model against mitmproxy 11's, on every DNS flow of the real captures
(the shared fixtures' mixed capture and tests/data/mitmproxy-11/dns.flows, recorded
through mitmdump by scripts/record_dns_capture.py): every property reads the same, the
same changes give the same state, and what flowtui writes mitmproxy reads back unchanged."""

from __future__ import annotations

import copy
import io
import ipaddress
import random
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from http_oracle import flow_pairs, observe, pair_copy, plain, state

from flowtui.core import DNSFlow, DNSMessage, Flow, UnknownFlow
from flowtui.core import dns as fdns
from flowtui.core.dns_codes import classes, op_codes, response_codes, types
from flowtui.io import FlowWriter, read_flows, save_flows

pytest.importorskip("mitmproxy.io")
from mitmproxy import dns as mdns
from mitmproxy import flow as mflow
from mitmproxy import io as mio
from mitmproxy.net.dns import classes as mclasses
from mitmproxy.net.dns import op_codes as mop_codes
from mitmproxy.net.dns import response_codes as mresponse_codes
from mitmproxy.net.dns import types as mtypes

pytestmark = pytest.mark.mitmproxy


PAIRS = [name for name, _, _ in flow_pairs("dns")]


def dns_pair(name: str) -> tuple[DNSFlow, Any]:
    """Fresh copies (free to change) of flowtui's and mitmproxy's DNS flow `name`."""
    ours, theirs = pair_copy("dns", name)
    assert isinstance(ours, DNSFlow)
    return ours, theirs


def test_the_captures_hold_what_the_tests_need() -> None:
    """The tests below run on DNS flows of every kind the recording script makes."""
    seen_types, seen_codes, kinds = set(), set(), set()
    for name in PAIRS:
        ours, _ = dns_pair(name)
        seen_types.update(q.type for q in ours.request.questions)
        if ours.response is not None:
            seen_codes.add(ours.response.response_code)
            records = [*ours.response.answers, *ours.response.additionals]
            seen_types.update(r.type for r in records)
            kinds.update(("truncated",) if ours.response.truncation else ())
            kinds.update(("authority",) if ours.response.authorities else ())
        else:
            kinds.add("no response")
        kinds.update(("error",) if ours.error else ())
        kinds.update(("two questions",) if len(ours.request.questions) > 1 else ())
        kinds.update(("idna",) if any("ü" in q.name for q in ours.request.questions) else ())
    wanted = {types.A, types.AAAA, types.CNAME, types.TXT, types.MX, types.NS, types.SOA}
    assert wanted | {types.PTR, types.HTTPS, types.SVCB, types.OPT, 65280} <= seen_types
    assert {0, 2, 3, 4, 5} <= seen_codes
    assert {"truncated", "authority", "no response", "error", "two questions", "idna"} <= kinds
    assert len(PAIRS) >= 25


# -- reading: every property -----------------------------------------------------------

RECORD_PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "fields": lambda r: (r.name, r.type, r.class_, r.ttl, r.data),
    "str": str,
    "repr": repr,
    "to_json": lambda r: r.to_json(),
    "text": lambda r: r.text,
    "ipv4_address": lambda r: r.ipv4_address,
    "ipv6_address": lambda r: r.ipv6_address,
    "domain_name": lambda r: r.domain_name,
    "https_alpn": lambda r: r.https_alpn,
    "https_ech": lambda r: r.https_ech,
    "state": lambda r: r.get_state(),
}
MESSAGE_PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "header": lambda m: (
        m.timestamp,
        m.id,
        m.query,
        m.op_code,
        m.authoritative_answer,
        m.truncation,
        m.recursion_desired,
        m.recursion_available,
        m.reserved,
        m.response_code,
    ),
    "questions": lambda m: [(q.name, q.type, q.class_, str(q), q.to_json()) for q in m.questions],
    "question": lambda m: m.question and (m.question.name, repr(m.question)),
    "size": lambda m: m.size,
    "packed": lambda m: m.packed,
    "content": lambda m: m.content,
    "str": str,
    "repr": repr,
    "to_json": lambda m: m.to_json(),
    "state": lambda m: m.get_state(),
    "reparsed": lambda m: _without_timestamp(type(m).unpack(m.packed).get_state()),
}


def _without_timestamp(s: dict[str, Any]) -> dict[str, Any]:
    s.pop("timestamp")
    return s


def _observe_all(flow: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {
        "repr": repr(flow),
        "timestamp_start": flow.timestamp_start,
        "response": flow.response is not None,
    }
    for part in ("request", "response"):
        message = getattr(flow, part)
        if message is None:
            continue
        for key, get in MESSAGE_PROPERTIES.items():
            seen[f"{part}.{key}"] = observe(lambda get=get, m=message: get(m))
        for section in ("answers", "authorities", "additionals"):
            for i, record in enumerate(getattr(message, section)):
                for key, get in RECORD_PROPERTIES.items():
                    seen[f"{part}.{section}.{i}.{key}"] = observe(lambda get=get, r=record: get(r))
    return seen


@pytest.mark.parametrize("name", PAIRS)
def test_every_property_reads_as_in_mitmproxy(name: str) -> None:
    ours, theirs = dns_pair(name)
    mine, reference = _observe_all(ours), _observe_all(theirs)
    assert mine.keys() == reference.keys()
    assert {k: v for k, v in mine.items() if v != reference[k]} == {}


@pytest.mark.parametrize("name", PAIRS)
def test_state_is_mitmproxys_exactly(name: str) -> None:
    """Same keys in the same order, same container types."""
    ours, theirs = dns_pair(name)
    a, b = ours.get_state(), theirs.get_state()
    assert a == b
    assert list(a) == list(b) and list(a["request"]) == list(b["request"])
    if b["response"]:
        assert list(a["response"]) == list(b["response"])


def test_packed_bytes_equal_mitmproxys_and_reparse() -> None:
    """Every message of the captures packs to mitmproxy's bytes, which both read back."""
    count = 0
    for name in PAIRS:
        ours, theirs = dns_pair(name)
        for part in ("request", "response"):
            a, b = getattr(ours, part), getattr(theirs, part)
            if b is None:
                continue
            assert a.packed == b.packed, (name, part)
            again = DNSMessage.unpack(a.packed)
            again.timestamp = a.timestamp
            assert again == a
            count += 1
    assert count >= 45


def test_compatibility_shorthands() -> None:
    """`questions`, `answer_count` and `raw` (used by the list and the filters) read the model."""
    for name in PAIRS:
        ours, theirs = dns_pair(name)
        assert ours.questions == [(q.name, q.type) for q in theirs.request.questions]
        expected = len(theirs.response.answers) if theirs.response else None
        assert ours.answer_count == expected
        assert plain(ours.raw) == plain({k: theirs.get_state()[k] for k in ("request", "response")})


def test_code_names_are_mitmproxys() -> None:
    for ours, theirs, top in (
        (types, mtypes, 0x10000),
        (classes, mclasses, 300),
        (op_codes, mop_codes, 20),
        (response_codes, mresponse_codes, 30),
    ):
        assert [ours.to_str(i) for i in range(top)] == [theirs.to_str(i) for i in range(top)]
    assert types.to_str(28) == "AAAA" and types.to_str(65280) == "TYPE(65280)"
    assert types.NSAP_PTR == mtypes.NSAP_PTR and types.HTTPS == 65
    assert [response_codes.http_equiv_status_code(i) for i in range(30)] == [
        mresponse_codes.http_equiv_status_code(i) for i in range(30)
    ]
    assert fdns.types is types and fdns.response_codes.NXDOMAIN == 3


# -- changing: the same changes give the same state ------------------------------------


def _first_record(flow: Any) -> Any:
    if flow.response is None:
        return None
    records = [*flow.response.answers, *flow.response.authorities, *flow.response.additionals]
    return records[0] if records else None


def _on_record(change: Callable[[Any, Any], None]) -> Callable[[Any], None]:
    def apply(flow: Any) -> None:
        record = _first_record(flow)
        if record is not None:
            change(flow, record)

    return apply


def _module(flow: Any) -> Any:
    return fdns if isinstance(flow, DNSFlow) else mdns


def _fixed(message: Any) -> Any:
    message.timestamp = 1234.5
    return message


def _copy_request(flow: Any) -> None:
    random.seed(7)
    flow.request = flow.request.copy()


def _https(flow: Any) -> Any:
    m = _module(flow)
    return m.HTTPSRecord(1, "svc.test", {1: b"\x02h2", 5: b"ech!"})


CHANGES: dict[str, Callable[[Any], None]] = {
    "question name": lambda f: setattr(f.request.questions[0], "name", "changed.example"),
    "question type": lambda f: setattr(f.request.questions[0], "type", 28),
    "question unicode": lambda f: setattr(f.request.questions[0], "name", "bücher.test"),
    "question bad name": lambda f: setattr(f.request.questions[0], "name", "a..b"),
    "add question": lambda f: f.request.questions.append(_module(f).Question("extra.test", 16, 1)),
    "clear questions": lambda f: f.request.questions.clear(),
    "request id": lambda f: setattr(f.request, "id", 4242),
    "request id too big": lambda f: setattr(f.request, "id", 70000),
    "op_code": lambda f: setattr(f.request, "op_code", 5),
    "op_code too big": lambda f: setattr(f.request, "op_code", 16),
    "reserved": lambda f: setattr(f.request, "reserved", 7),
    "flags": lambda f: (
        setattr(f.request, "recursion_desired", not f.request.recursion_desired),
        setattr(f.request, "truncation", True),
        setattr(f.request, "authoritative_answer", True),
    ),
    "copy request": _copy_request,
    "add answer A": lambda f: (
        f.response
        and f.response.answers.append(
            _module(f).ResourceRecord.A("new.test", ipaddress.IPv4Address("192.0.2.1"), ttl=5)
        )
    ),
    "add answer AAAA": lambda f: (
        f.response
        and f.response.answers.append(
            _module(f).ResourceRecord.AAAA("new.test", ipaddress.IPv6Address("2001:db8::5"))
        )
    ),
    "add CNAME PTR TXT": lambda f: (
        f.response
        and f.response.answers.extend(
            [
                _module(f).ResourceRecord.CNAME("alias.test", "canonical.test"),
                _module(f).ResourceRecord.PTR("5.2.0.192.in-addr.arpa", "new.test"),
                _module(f).ResourceRecord.TXT("t.test", "tëxt ✓", ttl=1),
            ]
        )
    ),
    "add HTTPS": lambda f: (
        f.response
        and f.response.additionals.append(_module(f).ResourceRecord.HTTPS("h.test", _https(f)))
    ),
    "add unknown type": lambda f: (
        f.response
        and f.response.authorities.append(
            _module(f).ResourceRecord("u.test", 999, 3, 7, b"\xc0\x0c")
        )
    ),
    "rcode": lambda f: f.response and setattr(f.response, "response_code", 3),
    "rcode out of range": lambda f: f.response and setattr(f.response, "response_code", 16),
    "record ttl": _on_record(lambda f, r: setattr(r, "ttl", 1)),
    "record ttl negative": _on_record(lambda f, r: setattr(r, "ttl", -1)),
    "record text": _on_record(lambda f, r: setattr(r, "text", "ü text")),
    "record ipv4": _on_record(
        lambda f, r: setattr(r, "ipv4_address", ipaddress.IPv4Address("198.51.100.1"))
    ),
    "record ipv6": _on_record(
        lambda f, r: setattr(r, "ipv6_address", ipaddress.IPv6Address("2001:db8::9"))
    ),
    "record domain_name": _on_record(lambda f, r: setattr(r, "domain_name", "x.y.test")),
    "record https_alpn": _on_record(lambda f, r: setattr(r, "https_alpn", [b"h3", b"x"])),
    "record https_alpn none": _on_record(lambda f, r: setattr(r, "https_alpn", None)),
    "record https_ech": _on_record(lambda f, r: setattr(r, "https_ech", "AAEC")),
    "record https_ech none": _on_record(lambda f, r: setattr(r, "https_ech", None)),
    "record data too long": _on_record(lambda f, r: setattr(r, "data", b"x" * 70000)),
    "remove answers": lambda f: f.response and f.response.answers.clear(),
    "fail": lambda f: setattr(f, "response", _fixed(f.request.fail(3))),
    "fail noerror": lambda f: setattr(f, "response", _fixed(f.request.fail(0))),
    "succeed": lambda f: setattr(
        f,
        "response",
        _fixed(
            f.request.succeed(
                [_module(f).ResourceRecord.A("ok.test", ipaddress.IPv4Address("192.0.2.7"))]
            )
        ),
    ),
    "succeed then edit the shared question": lambda f: (
        setattr(f, "response", _fixed(f.request.succeed([]))),
        f.request.questions.append(_module(f).Question("shared.test", 1, 1)),
    ),
    "no response": lambda f: setattr(f, "response", None),
    "marked": lambda f: setattr(f, "marked", ":grapes:"),
    "comment": lambda f: setattr(f, "comment", "c ✓"),
    "backup then change": lambda f: (f.backup(), setattr(f.request, "id", 1)),
    "backup change revert": lambda f: (
        f.backup(),
        setattr(f.request.questions[0], "name", "reverted.test") if f.request.questions else None,
        f.response and setattr(f.response, "response_code", 2),
        f.response and f.response.answers.clear(),
        f.revert(),
    ),
    "intercept": lambda f: f.intercept(),
    "intercept resume": lambda f: (f.intercept(), f.resume()),
    "kill": lambda f: (setattr(f, "live", True), f.kill(), setattr(f.error, "timestamp", 1.0)),
    "kill not live": lambda f: f.kill(),
}


def _raised(result: Any) -> bool:
    return isinstance(result, list) and result[:1] == ["raises"]


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("name", PAIRS)
def test_same_change_same_state(name: str, change: str) -> None:
    ours, theirs = dns_pair(name)
    mine = observe(lambda: CHANGES[change](ours))
    reference = observe(lambda: CHANGES[change](theirs))
    if _raised(reference) or _raised(mine):
        assert mine == reference
    assert state(ours) == state(theirs)
    assert ours.modified() == theirs.modified()
    assert _observe_all(ours) == _observe_all(theirs)


@pytest.mark.parametrize("name", PAIRS[:3])
def test_copy_matches(name: str) -> None:
    ours, theirs = dns_pair(name)
    a, b = ours.copy(), theirs.copy()
    assert a.id != ours.id and b.id != theirs.id
    sa, sb = state(a), state(b)
    sa.pop("id"), sb.pop("id")
    assert sa == sb
    random.seed(3)
    mine = ours.request.copy()
    random.seed(3)
    reference = theirs.request.copy()
    assert mine.get_state() == reference.get_state()
    assert mine is not ours.request and mine.questions is not ours.request.questions


# -- writing: what flowtui writes, mitmproxy reads back the same -----------------------


def _changed_flows() -> list[DNSFlow]:
    flows = []
    for name in PAIRS:
        flow, _ = dns_pair(name)
        CHANGES["add answer A"](flow)
        CHANGES["question unicode"](flow)
        CHANGES["add unknown type"](flow)
        CHANGES["comment"](flow)
        flows.append(flow)
    return flows


def test_written_by_flowtui_read_by_mitmproxy() -> None:
    """flowtui's mitmproxy-format output is the bytes mitmproxy writes for the same flows."""
    ours = _changed_flows()
    buf = io.BytesIO()
    writer = FlowWriter(buf)
    for flow in ours:
        writer.add(flow)
    theirs = list(mio.FlowReader(io.BytesIO(buf.getvalue())).stream())
    assert [f.get_state() for f in theirs] == [f.get_state() for f in ours]
    again = io.BytesIO()
    mwriter = mio.FlowWriter(again)
    for flow in theirs:
        mwriter.add(flow)
    assert again.getvalue() == buf.getvalue()


@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
def test_saved_in_both_formats_reads_back_as_mitmproxy_reads_it(fmt: str, tmp_path: Path) -> None:
    ours = _changed_flows()
    out = tmp_path / "out"
    assert save_flows(out, ours, format=fmt) == len(ours)
    back = read_flows(out)
    assert all(isinstance(f, DNSFlow) for f in back)
    assert [f.get_state() for f in back] == [f.get_state() for f in ours]
    reference = [mflow.Flow.from_state(copy.deepcopy(f.get_state())) for f in ours]
    assert [f.get_state() for f in back] == [f.get_state() for f in reference]
    assert [_observe_all(f) for f in back] == [_observe_all(f) for f in reference]


# -- bad data is data ------------------------------------------------------------------


def test_records_of_unknown_type_keep_their_bytes() -> None:
    """An unassigned type (and bad data of a known one) reads, shows as hex, raises
    what mitmproxy raises from the typed accessors, and packs to the same bytes."""
    seen = []
    for module in (fdns, mdns):
        rec = module.ResourceRecord("u.test", 65280, 1, 60, b"\x00\xff\xc0\x0c raw")
        bad_a = module.ResourceRecord("a.test", 1, 1, 60, b"\x01\x02\x03")
        bad_https = module.ResourceRecord("h.test", 65, 1, 60, b"\x00")
        msg = module.Message(
            1.0, 7, False, 0, False, False, True, True, 0, 0, [], [rec, bad_a, bad_https], [], []
        )
        seen.append(
            [
                observe(lambda rec=rec: (str(rec), rec.to_json(), rec.data)),
                observe(lambda bad_a=bad_a: str(bad_a)),
                observe(lambda bad_https=bad_https: str(bad_https)),
                observe(lambda rec=rec: rec.ipv4_address),
                observe(lambda rec=rec: rec.domain_name),
                observe(lambda rec=rec: rec.text),
                observe(lambda rec=rec: rec.https_alpn),
                observe(lambda bad_https=bad_https: bad_https.https_ech),
                observe(lambda msg=msg: msg.packed),
                observe(
                    lambda msg=msg: _without_timestamp(type(msg).unpack(msg.packed).get_state())
                ),
            ]
        )
    assert seen[0] == seen[1]
    assert "0x00ffc00c20726177" in seen[0][0][0]
    assert seen[0][1].endswith("(invalid A data)")


@pytest.mark.parametrize(
    ("where", "bad"),
    [
        ("questions", 5),
        ("questions", [{"name": "x", "type": "A", "class_": 1}]),
        ("answers", [{"name": "x", "type": 1, "class_": 1, "ttl": 1, "data": "text"}]),
        ("answers", [{"name": "x", "type": 1, "class_": 1, "ttl": 1}]),
        ("id", None),
        ("query", 1),
        ("timestamp", "now"),
        ("extra", 1),
    ],
)
def test_a_dns_record_the_model_refuses_is_an_unreadable_flow(
    where: str, bad: Any, tmp_path: Path
) -> None:
    """mitmproxy cannot load such a record either; flowtui lists it as unreadable, keeps
    its bytes when saving, and the other flows of the file still read."""
    from flowtui.io import tnetstring

    flows = [dns_pair(name)[0] for name in PAIRS[:3]]
    states = [f.get_state() for f in flows]
    states[1]["request"][where] = bad
    path = tmp_path / "bad.flows"
    path.write_bytes(b"".join(tnetstring.dumps(s) for s in states))
    with pytest.raises(Exception):  # noqa: B017 (mitmproxy raises several kinds here)
        mflow.Flow.from_state(copy.deepcopy(states[1]))
    back = read_flows(path)
    assert isinstance(back[0], DNSFlow) and isinstance(back[2], DNSFlow)
    assert isinstance(back[1], UnknownFlow) and back[1].raw_type == "dns"
    out = tmp_path / "out.flows"
    save_flows(out, back, format="mitmproxy")
    assert out.read_bytes() == path.read_bytes()


def test_unpack_errors_are_struct_errors() -> None:
    """A truncated or trailing-garbage message raises `struct.error`, as mitmproxy's."""
    ours, _ = dns_pair(PAIRS[0])
    packed = ours.request.packed
    for data in (packed[:-1], packed + b"\x00", b"", packed[:11]):
        with pytest.raises(struct.error):
            DNSMessage.unpack(data)
        with pytest.raises(struct.error):
            mdns.Message.unpack(data)


def test_an_empty_response_state_reads_as_no_response() -> None:
    """mitmproxy tests the stored response for truth: `{}` loads as no response."""
    ours, _ = dns_pair(PAIRS[0])
    s = ours.get_state()
    s["response"] = {}
    mine = Flow.from_state(copy.deepcopy(s))
    theirs = mflow.Flow.from_state(copy.deepcopy(s))
    assert isinstance(mine, DNSFlow) and mine.response is None
    assert mine.get_state() == theirs.get_state()


def test_the_dns_capture_survives_both_formats_byte_for_byte(tmp_path: Path) -> None:
    """mitmproxy's file -> flowtui's format -> mitmproxy's format gives the same bytes
    (every flow is re-encoded from the model, none copied: each was changed and reverted)."""
    from truth import DATA

    original = DATA / "dns.flows"
    flows = read_flows(original)
    for flow in flows:
        flow.backup()
        flow.comment = "changed"
        flow.revert()
    save_flows(tmp_path / "x.ftui", flows, format="flowtui")
    back = read_flows(tmp_path / "x.ftui")
    save_flows(tmp_path / "x.flows", back, format="mitmproxy")
    assert (tmp_path / "x.flows").read_bytes() == original.read_bytes()
