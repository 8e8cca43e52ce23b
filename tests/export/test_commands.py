"""curl, HTTPie and raw exports, checked against mitmproxy 11's ``export`` addon on
every HTTP flow of the real captures, and for safety against hostile requests: what a
user pastes into a shell runs curl with exactly the request's words and nothing else."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from types import SimpleNamespace
from typing import Any

import pytest
from export_oracle import flows_of_type

from flowtui.core import HTTPFlow, Request
from flowtui.export import ExportError, applies, export, formats
from flowtui.export.curl import curl_command, httpie_command
from flowtui.export.raw import raw, raw_request, raw_response
from flowtui.export.shell import needs_escapes, quote

HTTP = flows_of_type("http")
IDS = [name for name, _, _ in HTTP]


def _oracle(name: str, flow: Any, resolve: bool = False) -> Any:
    """mitmproxy's export `name` of `flow`, or the CommandError it raises (its one
    option, export_preserve_original_ip, given as `resolve`)."""
    from mitmproxy import exceptions
    from mitmproxy.addons import export as mexport

    options = SimpleNamespace(export_preserve_original_ip=resolve)
    saved = mexport.ctx
    mexport.ctx = SimpleNamespace(options=options)  # type: ignore[assignment]
    try:
        return mexport.formats[name](flow)
    except (exceptions.CommandError, ValueError) as e:
        return e
    finally:
        mexport.ctx = saved


def _words(flow: HTTPFlow) -> list[str]:
    r = flow.request
    return [r.method, r.pretty_url, *(f"{k}: {v}" for k, v in r.headers.items(multi=True))]


@pytest.mark.mitmproxy
@pytest.mark.parametrize(("name", "ours", "theirs"), HTTP, ids=IDS)
@pytest.mark.parametrize("fmt", ["curl", "httpie"])
def test_commands_equal_mitmproxys(fmt: str, name: str, ours: HTTPFlow, theirs: Any) -> None:
    expected = _oracle(fmt, theirs)
    run = curl_command if fmt == "curl" else httpie_command
    body = (ours.request.get_content(strict=False) or b"").decode("utf-8", "surrogateescape")
    if "\x00" in body:  # mitmproxy writes "\\x00", a body other than the request's
        with pytest.raises(ExportError, match="NUL"):
            run(ours)
        return
    got = run(ours)
    if (
        isinstance(expected, Exception)
        or needs_escapes(body)
        or any(needs_escapes(w) for w in _words(ours))
    ):
        # mitmproxy refuses a body that is not text and writes "\\x0a" for a newline;
        # the command runs with the request's very words and body.
        words = _bash_words(got.split(" <<< ")[0])
        assert not any(ord(c) < 0x20 for c in got)
        url = ours.request.pretty_url
        if fmt == "httpie":
            assert words[:3] == ["http", ours.request.method, url]
        else:
            assert words[-3:] == [url, "-d", body] if body else words[-1] == url
        for k, v in ours.request.headers.items(multi=True):
            if k.lower() not in ("content-length", "host", "accept-encoding"):
                assert f"{k}: {v}" in words
        return
    assert got == expected


@pytest.mark.mitmproxy
@pytest.mark.parametrize(("name", "ours", "theirs"), HTTP, ids=IDS)
@pytest.mark.parametrize("fmt", ["raw", "raw_request", "raw_response"])
def test_raw_equals_mitmproxys(fmt: str, name: str, ours: HTTPFlow, theirs: Any) -> None:
    expected = _oracle(fmt, theirs)
    run = {"raw": raw, "raw_request": raw_request, "raw_response": raw_response}[fmt]
    if isinstance(expected, Exception):
        with pytest.raises(ExportError):
            run(ours)
        return
    assert run(ours) == expected


def test_formats_are_listed_and_apply_by_flow_type() -> None:
    assert formats()[:4] == ["har", "curl", "httpie", "raw"]
    _, flow, _ = HTTP[0]
    assert applies("curl", flow) and applies("har", flow)
    assert not applies("pcap", flow) and not applies("nonsense", flow)
    with pytest.raises(ExportError, match="no export format 'nonsense'"):
        export([flow], "nonsense")
    with pytest.raises(ExportError, match="one flow at a time"):
        export([flow, flow], "raw")


def test_curl_of_many_flows_is_one_line_each() -> None:
    flows = [f for _, f, _ in HTTP[:5]]
    lines = export(flows, "curl").decode().splitlines()
    assert lines == [curl_command(f) for f in flows]


HOSTILE = [
    "x'; touch PWNED; echo '",
    'x"; $(touch PWNED) `touch PWNED`',
    "a\x15; touch PWNED\n",
    "\x1b[201~; touch PWNED\r\n",
    "tab\there \\ back\\slash \u202e right-to-left \x7f \x85 \u2028 end",
    "grüße ✓ $HOME !! ${PATH} * ?",
]


def _hostile_flow(value: str) -> HTTPFlow:
    _, base, _ = HTTP[0]
    flow = base.copy()
    flow.request = Request.make(
        "POST",
        "http://example.com/",
        value.encode(),
        {"X-Evil": value.replace("\n", " ").replace("\r", " "), "Content-Type": "text/plain"},
    )
    flow.request.data.path = b"/p?q=" + value.encode()  # a crafted capture holds any path
    return flow


def _bash_words(command: str, cwd: Any = None) -> list[str]:
    """The words bash gives `curl`/`http` for a pasted command line (an echo stub)."""
    stubs = "".join(f"{name}() {{ printf '%s\\0' {name} \"$@\"; }}\n" for name in ("curl", "http"))
    script = f"{stubs}{command}\n"
    out = subprocess.run(
        ["bash", "--norc", "--noprofile"],
        input=script.encode(),
        capture_output=True,
        check=True,
        cwd=cwd,
    ).stdout
    return [w.decode("utf-8", "surrogateescape") for w in out.split(b"\0")[:-1]]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_requests_paste_as_exactly_their_words(value: str, tmp_path: Any) -> None:
    flow = _hostile_flow(value)
    line = curl_command(flow)
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in line), line
    assert subprocess.run(["bash", "-n"], input=line.encode(), check=False).returncode == 0
    words = _bash_words(line, tmp_path)
    assert f"X-Evil: {flow.request.headers['X-Evil']}" in words
    assert words[-3:] == [flow.request.pretty_url, "-d", value]
    assert value in flow.request.pretty_url
    if not any(needs_escapes(w) for w in words):
        assert shlex.split(line) == words
    hline = httpie_command(flow)
    assert not any(ord(c) < 0x20 for c in hline)
    hwords = _bash_words(hline.split(" <<< ")[0], tmp_path)
    assert _bash_words(hline, tmp_path) == hwords
    assert hwords[:3] == ["http", "POST", flow.request.pretty_url]
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("value", [*HOSTILE, "", "'", "plain"])
def test_quote_round_trips(value: str) -> None:
    if needs_escapes(value):
        assert _bash_words("curl " + quote(value)) == ["curl", value]
    else:
        assert shlex.split(quote(value)) == [value]


def test_nul_cannot_be_a_word() -> None:
    flow = _hostile_flow("a\x00b")
    with pytest.raises(ExportError, match="NUL"):
        curl_command(flow)


@pytest.mark.parametrize(("name", "ours", "theirs"), HTTP, ids=IDS)
def test_bodies_are_the_decoded_content(name: str, ours: HTTPFlow, theirs: Any) -> None:
    """request_body/response_body: mitmproxy's `get_content(strict=False)` of the same
    message (what its console's "save body" writes)."""
    expected = theirs.request.get_content(strict=False)
    if expected is None:
        with pytest.raises(ExportError, match="not recorded"):
            export([ours], "request_body")
    else:
        assert export([ours], "request_body") == expected
    if theirs.response is None:
        assert not applies("response_body", ours)
        return
    expected = theirs.response.get_content(strict=False)
    if expected is None:
        with pytest.raises(ExportError, match="not recorded"):
            export([ours], "response_body")
    else:
        assert export([ours], "response_body") == expected
