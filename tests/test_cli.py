"""The ``flowtui`` command: dump, dump --json, convert, errors, escaping, opening the UI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hostile_captures import hostile_flowtui_capture, hostile_mitmproxy_capture
from truth import DATA, decode

from flowtui import cli
from flowtui.io import read_flows, tnetstring

CAPTURES = sorted(DATA.glob("*.flows"))
IDS = [p.stem for p in CAPTURES]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def truth(capture: Path) -> dict[str, Any]:
    return json.loads(capture.with_name(capture.name + ".json").read_text(encoding="utf-8"))


def _continues_http(line: str, peer: str) -> bool:
    """Whether `line` belongs to the HTTP flow printed above it (mitmdump's layout: the
    response and error lines are indented, WebSocket lines start with the client)."""
    return line.startswith((" ", f"{peer} -> WebSocket", f"{peer} <- WebSocket")) or (
        line.startswith(("WebSocket connection closed by ", "Error in WebSocket connection"))
    )


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_dump_matches_truth_summary(capsys: pytest.CaptureFixture[str], capture: Path) -> None:
    """HTTP flows as mitmdump prints them (tests/test_cli_dump.py compares with the real
    mitmdump); every other flow on one line numbered from 1, as the UI numbers them."""
    status, out, err = run(capsys, "dump", capture)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    doc = truth(capture)
    at = 0
    for s in doc["summary"]:
        line = lines[at]
        at += 1
        peer = s["client_conn"]["peername"]
        if s["type"] == "http":
            method, url = s["request"].split(" ", 1)
            assert line.startswith(f"{peer[0]}:{peer[1]}: {method} {url}")
            block = []
            while at < len(lines) and _continues_http(lines[at], f"{peer[0]}:{peer[1]}"):
                block.append(lines[at])
                at += 1
            if s["response_status"]:
                assert f" << {s['response_status']} " in block[0] or (
                    f" {s['response_status']} " in block[0] and " << HTTP/" in block[0]
                )
            if s["error"]:
                assert block[-1] == f" << {s['error']}"
            if s["websocket"]:
                assert any(" WebSocket " in b for b in block)
            continue
        assert line.startswith(f"#{s['index'] + 1}  {s['type']}  ")  # numbered from 1
        assert f"{peer[0]}:{peer[1]}" in line
        if s["type"] in ("tcp", "udp"):
            assert (
                f"c→s {s['messages_from_client']} msgs {s['bytes_from_client']} B, "
                f"s→c {s['messages_from_server']} msgs {s['bytes_from_server']} B"
            ) in line
        if s["type"] == "dns":
            assert s["request_questions"][0] in line
        if s["error"]:
            assert f"error: {s['error']}" in line
        if s["marked"]:
            assert f"marked {s['marked']}" in line
        tls = s["client_conn"].get("tls_version")
        if tls:
            assert f"client TLS {tls}" in line
    assert at == len(lines)


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_dump_json_equals_truth(capsys: pytest.CaptureFixture[str], capture: Path) -> None:
    status, out, _ = run(capsys, "dump", "--json", capture)
    assert status == 0
    assert [json.loads(line) for line in out.splitlines()] == truth(capture)["flows"]
    assert out.isascii()


@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
def test_convert_both_ways(capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str) -> None:
    src = DATA / "mixed_protocols.flows"
    mid = tmp_path / "mid.bin"
    back = tmp_path / "back.flows"
    assert run(capsys, "convert", src, mid, "--format", fmt)[0] == 0
    status, _, err = run(capsys, "convert", mid, back)
    assert status == 0 and "wrote 12 flows in mitmproxy format" in err
    assert [json.loads(x) for x in run(capsys, "dump", "--json", back)[1].splitlines()] == truth(
        src
    )["flows"]


def test_convert_default_format_is_by_suffix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = DATA / "echo_basic.flows"
    run(capsys, "convert", src, tmp_path / "x.flowtui")
    run(capsys, "convert", src, tmp_path / "x.flows")
    assert (tmp_path / "x.flowtui").read_bytes().startswith(b"\x89FLOWTUI")
    assert (tmp_path / "x.flows").read_bytes() == src.read_bytes()  # TCP only: byte-identical


def broken_capture(tmp_path: Path) -> Path:
    data = (DATA / "kill_intercept_mark.flows").read_bytes()
    path = tmp_path / "cut.flows"
    path.write_bytes(data[:-100])
    return path


def test_dump_error_after_readable_flows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = broken_capture(tmp_path)
    status, out, err = run(capsys, "dump", path)
    assert status == 1
    assert len(out.splitlines()) == 3
    assert err.count("\n") == 1
    assert err.startswith(f"flowtui: error: {path}: flow #3 at byte ")
    assert "truncated record (needs" in err


def test_convert_error_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "convert", broken_capture(tmp_path), tmp_path / "out.flows")
    assert status == 1 and err.count("\n") == 1 and "flow #3" in err
    assert not (tmp_path / "out.flows").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b'{"log": {"entries": 1}}', "not a HAR file"), (b"junk", "not a capture")],
)
def test_unsupported_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "x.har"
    path.write_bytes(content)
    status, out, err = run(capsys, "dump", path)
    assert (status, out) == (1, "")
    assert message in err and err.count("\n") == 1


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "dump", tmp_path / "nope.flows")
    assert status == 1 and "No such file" in err and err.count("\n") == 1
    status, _, err = run(capsys, tmp_path / "nope.flows")
    assert status == 1 and "no such file" in err


def test_hostile_payload_is_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = read_flows(DATA / "echo_basic.flows")[1].get_state()
    state["comment"] = "evil \x1b]52;c;cHduZWQ=\x07 \x1b[2J \x9b31m \u202e end\nnext"
    state["marked"] = "\x1b[5m"
    state["client_conn"]["sni"] = "a\x1bb.test"
    state["client_conn"]["tls"] = True
    state["client_conn"]["tls_version"] = "TLSv1.3"
    path = tmp_path / "evil.flows"
    path.write_bytes(tnetstring.dumps(state))
    status, out, _ = run(capsys, "dump", path)
    assert status == 0
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    assert out.count("\n") == 1
    assert "\\x1b]52;c;cHduZWQ=\\x07" in out and "\\u202e" in out and "a\\x1bb.test" in out
    status, out, _ = run(capsys, "dump", "--json", path)
    assert "\x1b" not in out and "\x9b" not in out
    assert json.loads(out)["comment"] == state["comment"]


def test_cli_output_uses_the_shared_sanitiser() -> None:
    from flowtui.sanitize import clean

    assert clean("plain grüße 🍇") == "plain grüße 🍇"
    assert clean("\x00\t\x7f\x85") == "\\x00\\x09\\x7f\\x85"
    assert clean("name-\udcff.flows") == "name-\\udcff.flows"  # surrogateescape from argv


def test_open_calls_the_ui(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    seen: list[list[Path]] = []
    fake = types.ModuleType("flowtui.ui")
    fake.run_app = lambda paths: seen.append(paths) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "flowtui.ui", fake)
    capture = DATA / "echo_basic.flows"
    assert cli.main([str(capture)]) == 0
    assert seen == [[capture]]


def test_open_falls_back_to_dump_without_ui(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    monkeypatch.setitem(sys.modules, "flowtui.ui", types.ModuleType("flowtui.ui"))
    status, out, _ = run(capsys, DATA / "echo_basic.flows")
    assert status == 0 and len(out.splitlines()) == 3


def test_version_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("flowtui ")
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2


def test_python_dash_m_and_broken_pipe(tmp_path: Path) -> None:
    """The real entry point: dump piped into a reader that stops early exits quietly."""
    big = tmp_path / "big.flows"
    big.write_bytes((DATA / "mixed_protocols.flows").read_bytes() * 200)
    proc = subprocess.run(
        f"{sys.executable} -m flowtui dump {big} | head -n 1",
        shell=True,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.stdout.decode().startswith("127.0.0.1:43918: GET http://127.0.0.1:40701/\n")
    assert b"Traceback" not in proc.stderr and proc.stderr == b""


def test_json_bytes_encoding_matches_fixture_truth() -> None:
    assert decode(json.loads(cli.state_to_json({"b": b"\x00\xff"}))) == {"b": b"\x00\xff"}


_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
"""What `dump` must never write: ESC and every other C0/C1 control (but newline), bidi
overrides and invisible characters."""


@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
def test_dump_of_a_hostile_capture_writes_no_control(tmp_path: Path, fmt: str) -> None:
    """Through the real entry point, both formats: a status code stored as text, ports as
    text and at 2**64-1, a type, SNI, ALPN, mark, comment, error, DNS name and request
    line full of escapes (and, in flowtui's format, hostile stored summaries)."""
    if fmt == "mitmproxy":
        path = hostile_mitmproxy_capture(tmp_path / "evil.flows")
    else:
        path = hostile_flowtui_capture(tmp_path / "evil.flowtui")
    proc = subprocess.run(
        [sys.executable, "-m", "flowtui", "dump", str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    out, err = proc.stdout.decode(), proc.stderr.decode()
    # The HTTP state with a text status and the unknown type are not flows: listed as
    # unreadable, then summed up on stderr with exit status 1 (a data error).
    assert proc.returncode == 1 and "flows unreadable" in err, err
    for text in (out, err):
        bad = _CONTROLS.search(text)
        assert bad is None, (
            f"{bad.group()!r} at {text[max(bad.start() - 30, 0) : bad.end() + 10]!r}"
        )
    lines = out.splitlines()
    hostile = lines[-5:]  # the hostile states come last in both captures
    numbered = [int(line.split("  ", 1)[0][1:]) for line in lines if line.startswith("#")]
    assert numbered == sorted(set(numbered))  # HTTP flows (printed as mitmdump does) aside
    assert "(unreadable record, kept as is: Invalid value for " in hostile[0]
    assert "127.0.0.1\\x1b[2J:? → evil\\x9b2J:18446744073709551615" in hostile[1]
    assert hostile[2].startswith("#") and "\\x1b]0;type\\x07\\x1b[?1049l  [::1]:? →" in hostile[2]
    assert "alpn=h2\\x1b[2J" in hostile[3] and "\\x1b]52;c;SGVsbG8=\\x07" in hostile[4]


def test_dump_numbers_flows_from_one_like_the_ui(capsys: pytest.CaptureFixture[str]) -> None:
    """Flows other than HTTP carry their number (HTTP flows are printed as mitmdump does)."""
    status, out, _ = run(capsys, "dump", DATA / "mixed_protocols.flows")
    assert status == 0
    numbers = [line.split("  ", 1)[0] for line in out.splitlines() if line.startswith("#")]
    kinds = [f.type for f in read_flows(DATA / "mixed_protocols.flows")]
    assert numbers == [f"#{n}" for n, kind in enumerate(kinds, 1) if kind != "http"]
