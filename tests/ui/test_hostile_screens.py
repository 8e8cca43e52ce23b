"""Hostile bytes on every screen: nothing reaches the terminal but text and styling.

One capture carries every kind of hostile payload in every field a user can see —
message content (text and hex), comment, SNI, ALPN, certificate CN/O/SAN, metadata,
error, the file name — and the test walks every screen and dialog, renders each to the
ANSI the terminal would get, and checks that: the only escape sequences are Textual's
own colours and cursor moves; no C0/C1 control, bidi override or zero-width character
is written; no action embedded as markup runs; the status bar stays on its line.
Captures of both formats (`hostile_captures`: flowtui's with hostile stored summaries)
go through every row, column, pane and dialog, and through the real app in a
pseudo-terminal, whose raw output bytes are checked too.
"""

from __future__ import annotations

import datetime
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
import warnings
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hostile_captures import PAYLOADS as CAPTURE_PAYLOADS
from hostile_captures import hostile_flowtui_capture, hostile_mitmproxy_capture
from textual.widgets import Input, TabbedContent
from ui.factories import T0, tcp_flow
from ui_support import FIXTURES, screen_ansi, screen_text

from flowtui.core import TCPMessage
from flowtui.core.certs import Cert
from flowtui.core.flow import Error
from flowtui.io import save_flows
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.messages import LoadProgress
from flowtui.ui.screens.main import MainScreen
from flowtui.ui.widgets.flow_columns import COLUMNS, layout

PAYLOADS = [
    "[/]",
    "[/bold]",
    "[@click=app.quit]click me[/]",
    "[link=https://evil.example]link[/link]",
    "\x1b]52;c;SGVsbG8=\x07",  # OSC 52 (clipboard) ended by BEL
    "\x1b]0;pwned title\x1b\\",  # OSC 0 (title) ended by ST
    "\x1b[2J\x1b[H",  # CSI clear screen, cursor home
    "\x1b[31mred\x1b[0m",
    "\x9b2J\x9d0;c1 title\x9c",  # C1 CSI, OSC and ST
    "NUL\x00 BEL\x07 BS\x08 CR\r VT\x0b FF\x0c DEL\x7f",
    "\u202eevil-override\u202c \u2066isolate\u2069",  # bidi
    "zero\u200bwidth\u200d\ufeff",
    "wide 漢字漢字 ﷽ 👩‍👩‍👧",
]
HOSTILE = " ".join(PAYLOADS)
"""Every payload in one string."""

_SAFE_ESCAPES = re.compile(r"\x1b\[[0-9;]*[mHK]")
"""What Textual itself writes: SGR colours, cursor positioning and line erasing."""
_FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def _hostile_cert() -> Cert:
    """A certificate whose CN, O and SANs carry the payloads (attacker-controlled)."""
    key = ec.generate_private_key(ec.SECP256R1())
    with warnings.catch_warnings():
        # Longer than X.509's 64-character limit: attackers do not follow the rules.
        warnings.simplefilter("ignore", UserWarning)
        cn = x509.NameAttribute(NameOID.COMMON_NAME, "cn " + HOSTILE, _validate=False)
    name = x509.Name(
        [cn, x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org [/]\x1b]0;o\x07 \u202e")]
    )
    start = datetime.datetime(2023, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(6)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("evil[/].\x1b[2J.example"),
                    x509.UniformResourceIdentifier("https://x/[@click=app.quit]\x1b]52;c;QQ==\x07"),
                    x509.RFC822Name("a\x07b@[link=x]\x1b]0;t\x1b\\"),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return Cert(cert)


def _hostile_capture(directory: Path) -> Path:
    """A capture, under a hostile file name, of flows hostile in every visible field."""
    flow = tcp_flow(1, messages=0, sni="sni[/]\x1b]0;t\x07\u202e.example")
    flow.server_conn.alpn = b"h2\x1b[2J[/]"
    flow.server_conn.certificate_list = [_hostile_cert()]
    flow.client_conn.sni = "client " + HOSTILE
    flow.messages = [
        TCPMessage(True, HOSTILE.encode(), T0 + 1.1),
        TCPMessage(False, b"\xff\xfe\x80 invalid utf-8 \xc3\x28 " + HOSTILE.encode(), T0 + 1.2),
        TCPMessage(True, bytes(range(256)) * 4, T0 + 1.3),  # binary: shown as hex
        TCPMessage(False, b"A" * 1_000_000 + b"\x1b[2J[/]", T0 + 1.4),  # a 1 MB line
    ]
    flow.comment = HOSTILE + "\nsecond line [/] \x1b]52;c;QQ==\x07"
    flow.marked = "[/]"
    flow.metadata = {"meta [/] \x1b[2J": HOSTILE, "k": {"nested\x07": b"\x1b]0;x\x07"}}
    flow.error = Error("error " + HOSTILE, T0 + 2)
    plain = tcp_flow(2)
    plain.comment = "[@click=app.quit]"
    name = "cap [@click=app.quit] \x1b]0;t\x07 \u202e [link=x].flows"
    path = directory / name
    save_flows(path, [flow, plain], format="mitmproxy")
    return path


def _check(app: FlowtuiApp, where: str) -> None:
    """The terminal gets no foreign escape or control, and the layout holds."""
    update = app.screen._compositor.render_update(full=True)
    styles = [seg.style for row in update.strips for strip in row for seg in strip if seg.style]
    assert not [s.meta for s in styles if any(k.startswith("@click") for k in s.meta)], where
    assert not [s.link for s in styles if s.link], f"{where}: a hyperlink is drawn"
    ansi = screen_ansi(app)
    rest = _SAFE_ESCAPES.sub("", ansi)
    assert "\x1b" not in rest, f"{where}: escape {rest[rest.index(chr(27)) :][:20]!r}"
    bad = _FORBIDDEN.search(rest.replace("\r\n", "\n"))
    assert bad is None, f"{where}: control {bad.group()!r} reaches the terminal"
    lines = screen_text(app).splitlines()
    assert len(lines) == app.size.height, f"{where}: {len(lines)} lines"
    if isinstance(app.screen, MainScreen):
        status = app.screen.query_one("#status")
        assert status.region.height == 1 and status.region.y == app.size.height - 2, where
        assert app.screen.query_one("#flow-info").region.height >= 1


async def test_every_screen_with_hostile_bytes(tmp_path: Path) -> None:
    path = _hostile_capture(tmp_path)
    app = make_app([path], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        _check(app, "flow list")
        assert "[@click=app.quit]" in screen_text(app)  # shown, as text
        tabs = app.main.query_one(TabbedContent)
        for tab in ("tab-messages", "tab-connection"):
            tabs.active = tab
            await pilot.pause()
            _check(app, tab)
        tabs.active = "tab-messages"
        messages = app.main.query_one("#messages")
        for view in ("text", "hex", "auto"):
            messages.action_cycle_view()  # type: ignore[attr-defined]
            await pilot.pause()
            _check(app, f"messages ({view})")
        tabs.active = "tab-connection"
        connection = app.main.query_one("#connection")
        for _ in range(6):  # scroll through certificates, metadata and errors
            connection.scroll_page_down(animate=False)
            await pilot.pause()
            _check(app, "connection pane, scrolled")

        # Click every cell of the info line and status bar: no embedded action may run.
        for widget in (app.main.query_one("#flow-info"), app.main.query_one("#status")):
            for x in range(0, widget.size.width, 15):
                for y in range(widget.size.height):
                    await pilot.click(widget, offset=(x, y))
        assert app.is_running and app.return_code is None

        app.main.flow_list.focus()
        for key, name in (
            ("semicolon", "comment dialog"),
            ("f", "filter dialog"),
            ("w", "save dialog"),
            ("question_mark", "help"),
        ):
            await pilot.press(key)
            await pilot.pause()
            _check(app, name)
            await pilot.press("escape")
            await pilot.pause()

        # The filter dialog with a hostile expression: refused (a notification) and then a
        # valid one that the status bar echoes; a failed save's notification names the path.
        for text in ("~nosuchop " + HOSTILE, '~comment "[/]\x1b]0;t\x07\u202e|click"'):
            await pilot.press("f")
            await pilot.pause()
            app.screen.query_one(Input).value = text
            await pilot.press("enter")
            await pilot.pause()
            if not isinstance(app.screen, MainScreen):
                # Refused: the error line echoes it cleaned. (What the user types into an
                # Input is theirs: Textual shows it raw, so clear it before looking.)
                app.screen.query_one(Input).value = ""
                await pilot.pause()
                _check(app, "filter error")
                await pilot.press("escape")
                await pilot.pause()
            _check(app, "filter: " + text[:10])
        assert app.filter_text.startswith("~comment")
        await pilot.press("f")  # the dialog prefilled with the hostile filter
        await pilot.pause()
        _check(app, "filter dialog, prefilled")
        await pilot.press("escape")
        app.saving.save(tmp_path / ("missing " + HOSTILE.replace("/", "|")) / "x.flows")
        await app.workers.wait_for_complete()
        await pilot.pause()
        _check(app, "notifications")
        assert any(n.title == "Not saved" for n in app._notifications)

        await pilot.press("m")  # an unsaved change, so that quitting asks
        await pilot.press("q")
        await pilot.pause()
        _check(app, "quit dialog")
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and app.return_code is None

        # The save dialog shows the hostile file name escaped, yet enter saves to it.
        await pilot.press("w", "a")
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [p.name for p in tmp_path.iterdir()] == [path.name]
        assert app.changes == 0 and app.session.save_path == path


# -- both formats: hostile states and hostile stored summaries ----------------------------


def _capture(directory: Path, fmt: str) -> Path:
    if fmt == "flowtui":
        return hostile_flowtui_capture(directory / "evil.flowtui")
    return hostile_mitmproxy_capture(directory / "evil.flows")


@pytest.mark.parametrize("fmt", ["flowtui", "mitmproxy"])
async def test_every_flow_column_pane_and_dialog_of_both_formats(tmp_path: Path, fmt: str) -> None:
    """A flowtui capture's stored summaries ("ix") are what the list and the info line
    show without decoding a state: with every text field of them hostile (the type too),
    and hostile states behind them, every row, column, pane and dialog stays clean."""
    path = _capture(tmp_path, fmt)
    app = make_app([path], tz=UTC, detail_delay=0)
    async with app.run_test(size=(200, 40)) as pilot:  # wide: every column is shown
        await app.workers.wait_for_complete()
        await pilot.pause()
        flows = len(app.store)
        assert flows == (17 if fmt == "flowtui" else 5)
        assert [c.key for c, _ in layout(app.main.flow_list.size.width)] == [c.key for c in COLUMNS]
        tabs = app.main.query_one(TabbedContent)
        seen = ""
        for n in range(1, flows + 1):
            app.main.flow_list.focus()
            if n > 1:
                await pilot.press("down")
            await pilot.pause()
            for tab in ("tab-messages", "tab-connection"):
                tabs.active = tab
                await pilot.pause()
                _check(app, f"{fmt} flow #{n}, {tab}")
            seen += screen_text(app)
            app.main.flow_list.focus()
            await pilot.press("semicolon")  # the comment dialog (refused: a notification)
            await pilot.pause()
            _check(app, f"{fmt} flow #{n}, comment")
            await pilot.press("escape")
            await pilot.pause()
        # Shown, as visible escapes: the hostile type of a stored summary (info line)
        # and of a record, and the OSC 52 write.
        assert "\\x1b]52;c;SGVsbG8=\\x07" in seen
        assert "\\x1b]0;type\\x07\\x1b[?1049l" in seen
        if fmt == "flowtui":
            assert "type13 [/] [/bold]" in seen
        for key in ("w", "question_mark", "f"):
            await pilot.press(key)
            await pilot.pause()
            _check(app, f"{fmt} dialog {key}")
            await pilot.press("escape")
            await pilot.pause()


# -- the raw bytes a real terminal receives -----------------------------------------------

_SEQUENCE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)", re.S)
"""One escape sequence: CSI, OSC (to its terminator), or ESC and one byte (DCS, APC...)."""
_SGR_OR_MOVE = re.compile(rb"\x1b\[[0-9;]*[mH]")


def _run_in_terminal(path: Path, keys: list[bytes], cols: int = 120, rows: int = 40) -> bytes:
    """Every byte `python -m flowtui PATH` writes to a pseudo-terminal while `keys` are
    typed (each after the screen has settled), up to its exit."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env |= {"TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", str(path)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + 60

    def pump(done: Callable[[], bool]) -> None:
        while time.monotonic() < deadline and not done():
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:  # the app exited and closed the terminal
                    return
                if not data:
                    return
                out.extend(data)

    try:
        pump(lambda: b"shown" in out)
        for key in keys:
            before, settle = len(out), time.monotonic() + 0.3
            os.write(master, key)
            pump(lambda: len(out) > before and time.monotonic() > settle)  # noqa: B023
        pump(lambda: proc.poll() is not None)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    return bytes(out)


def _foreign_sequences(raw: bytes) -> set[bytes]:
    """The escape sequences in `raw` other than colours and cursor moves."""
    return {s for s in _SEQUENCE.findall(raw) if not _SGR_OR_MOVE.fullmatch(s)}


KEYS = [b"G", b"k", b"k", b"k", b"k", b";", b"\x1b", b"\t", b"\t", b"\x11"]
"""Last flow, up through the hostile ones, the comment dialog and out, both detail panes,
then ctrl+q."""


@pytest.fixture(scope="module")
def benign_bytes() -> bytes:
    """What the app writes over a real, harmless capture with the same keys."""
    return _run_in_terminal(FIXTURES / "mixed_protocols.flows", KEYS)


@pytest.mark.parametrize("fmt", ["flowtui", "mitmproxy"])
def test_raw_terminal_bytes_hold_nothing_from_the_capture(
    tmp_path: Path, fmt: str, benign_bytes: bytes
) -> None:
    """The real app in a pseudo-terminal: over a hostile capture it writes no escape
    sequence (no OSC 52/0/8, CSI 2J, alternate-screen exit, DCS, APC, PM) that it does
    not write over a benign one, no payload's bytes, and no C0/C1 control outside its
    own sequences."""
    hostile = _run_in_terminal(_capture(tmp_path, fmt), KEYS)
    assert b"shown" in hostile and b"SGVsbG8" in hostile  # the payload was on screen
    allowed = _foreign_sequences(benign_bytes)
    assert _foreign_sequences(hostile) <= allowed, _foreign_sequences(hostile) - allowed
    # Textual's own sequences that a payload also holds: only as often as Textual writes
    # them (leaving the alternate screen: once, on exit).
    for sequence in (b"\x1b[?1049l", b"\x1b[2J", b"\x1b[H"):
        assert hostile.count(sequence) == benign_bytes.count(sequence), sequence
    for payload in CAPTURE_PAYLOADS:  # (those Textual writes itself are counted above)
        raw = payload.encode()
        if re.search(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]", raw) and raw not in benign_bytes:
            assert raw not in hostile, payload
    text = _SEQUENCE.sub(b"", hostile).decode("utf-8", "replace")
    bad = re.search("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
    assert bad is None, f"{bad.group()!r} in {text[max(bad.start() - 40, 0) : bad.end()]!r}"


async def test_load_progress_of_a_hostile_file_name(tmp_path: Path) -> None:
    """While a file loads, the status bar names it in the progress: escaped there too."""
    path = hostile_mitmproxy_capture(tmp_path / "cap \x1b]0;t\x07 \x1b[2J \u202e.flows")
    app = make_app([path], tz=UTC, detail_delay=0)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.workers.wait_for_complete()
        app.post_message(LoadProgress(str(path), 10, 100, 3))  # what the loader sends
        await pilot.pause()
        shown = app.main.status.render_info().plain
        assert "loading cap \\x1b]0;t\\x07 \\x1b[2J \\u202e.flows 10%" in shown
        _check(app, "load progress")
