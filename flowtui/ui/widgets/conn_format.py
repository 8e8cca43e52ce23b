"""The connection pane's content as Rich `Text`: flow facts, each side's TLS, certificates.

Pure functions (no widgets) so they are cheap to test; the colours come from the
current Textual theme (`use_theme`). Every value that comes
from a capture (addresses, SNI, ALPN, cipher names, certificate fields, comments,
metadata) passes through `safe_text.clean()`: a certificate subject is as
attacker-controlled as a payload. A certificate that cannot be parsed is shown with
the reason, and any field that fails to parse shows its error instead of crashing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any, NamedTuple

from rich.cells import cell_len, chop_cells
from textual.color import Color
from textual.theme import BUILTIN_THEMES

from flowtui.core import Cert, Client, Connection, DNSFlow, Flow, HTTPFlow, Server, UnknownFlow
from flowtui.core import format_address as _format_address
from flowtui.core.messages import MessageFlow
from flowtui.ui.safe_text import (
    SafeStr,
    SafeText,
    bytes_to_text,
    clean,
    clean_lines,
    concat,
    join,
    number,
)
from flowtui.ui.widgets.flow_columns import format_relative

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "STYLES",
    "certificate_text",
    "connection_text",
    "flow_text",
    "format_time",
    "theme_styles",
    "use_theme",
]

EXPIRY_WARNING_DAYS = 30
"""Certificates ending within this many days of `now` are shown in the warning colour."""


def theme_styles(variables: Mapping[str, str]) -> dict[str, str]:
    """The pane's styles from a theme's CSS variables (`App.get_css_variables()`), so
    the pane follows whichever Textual theme is in use."""

    def colour(name: str, fallback: str = "foreground") -> Color:
        return Color.parse(variables.get(name) or variables[fallback])

    background = colour("background")
    foreground = colour("foreground").blend(background, 0.0)
    muted = foreground.blend(background, 0.4)
    return {
        "heading": f"bold {foreground.hex6}",
        "label": muted.hex6,
        "value": "",
        "error": f"bold {colour('error').hex6}",
        "warning": f"bold {colour('warning').hex6}",
        "ok": colour("success").hex6,
        "badge": f"bold {background.hex6} on {colour('warning').hex6}",
        "muted": f"italic {muted.hex6}",
    }


def _default_variables() -> dict[str, str]:
    return BUILTIN_THEMES["textual-dark"].to_color_system().generate()


STYLES: dict[str, str] = theme_styles(_default_variables())
"""The pane's styles: Textual's default theme until `use_theme` sets the app's."""


def use_theme(variables: Mapping[str, str]) -> None:
    """Take the styles from the theme whose CSS variables are given."""
    STYLES.update(theme_styles(variables))


_LABEL_WIDTH = 15
_MAX_CIPHERS = 12
_MAX_METADATA = 20
_MAX_VALUE = 300


def format_address(address: tuple[Any, ...] | None) -> SafeStr:
    """An address as `host:port` (IPv6 in brackets), cleaned for display."""
    return clean(_format_address(address), 300)


def format_time(ts: float | None, tz: tzinfo | None) -> SafeStr:
    """A timestamp with milliseconds in `tz` (None: the local zone), or `-`."""
    if ts is None:
        return clean("-")
    try:
        when = datetime.fromtimestamp(ts, tz) if tz is not None else datetime.fromtimestamp(ts)
    except (OverflowError, OSError, ValueError, TypeError):
        return clean(f"invalid ({ts!r})", 100)
    if tz is None:
        when = when.astimezone()
    return clean(when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + f" {when.tzname() or ''}".rstrip())


class _Writer:
    """Appends `label  value` lines to a `Text`, wrapping values with a hanging indent.

    Wrapping here (rather than leaving it to the widget) keeps long subjects, SAN lists
    and cipher lists aligned under their value column instead of at the left edge.
    """

    def __init__(self, width: int) -> None:
        self.text = SafeText(no_wrap=True, overflow="crop")
        self.width = max(30, width)

    def heading(self, title: SafeStr, level: int = 0, style: str | None = None) -> None:
        self.text.append(concat(_indent(2 * level), title), style or STYLES["heading"])
        self.text.newline()

    def field(self, label: SafeStr, value: SafeStr, style: str = "", level: int = 0) -> None:
        label = concat(_indent(2 * level), label)
        # Values line up per nesting level (room for an 11-character label like
        # "cipher list"), and never touch a longer label.
        column = max(_LABEL_WIDTH, 2 * level + 12, len(label) + 1)
        lines = _wrap(value, self.width - column)
        self.text.append(concat(label, _indent(column - len(label))), STYLES["label"])
        self.text.append(lines[0], style)
        self.text.newline()
        for line in lines[1:]:
            self.text.append(_indent(column))
            self.text.append(line, style)
            self.text.newline()

    def done(self) -> SafeText:
        self.text.rstrip()
        return self.text


def _indent(width: int) -> SafeStr:
    return clean(" " * max(width, 0))


def _wrap(value: SafeStr, width: int) -> list[SafeStr]:
    """`value` in lines of at most `width` cells, broken at spaces where possible."""
    width = max(10, width)
    if cell_len(value) <= width:
        return [value]
    lines: list[str] = []
    current = ""
    for word in value.split(" "):
        candidate = f"{current} {word}" if current else word
        if cell_len(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        pieces = chop_cells(word, width) if cell_len(word) > width else [word]
        lines.extend(pieces[:-1])
        current = pieces[-1] if pieces else ""
    if current or not lines:
        lines.append(current)
    return [clean(line) for line in lines]  # pieces of safe text: no escape is added


def _colon_hex(data: bytes, per_line: int = 16) -> list[SafeStr]:
    hexed = [f"{b:02X}" for b in data]
    lines = [":".join(hexed[i : i + per_line]) for i in range(0, len(hexed), per_line)]
    return [clean(line) for line in lines] or [clean("")]


def _attempt(fn: Callable[[], SafeStr]) -> tuple[SafeStr, str]:
    """`(value, style)` from `fn`, or its error in the error style: one bad field never
    hides the rest of a certificate."""
    try:
        return fn(), ""
    except Exception as e:
        return clean(f"unreadable: {clean(str(e) or type(e).__name__, 200)}"), STYLES["error"]


def _name(pairs: list[tuple[str, str]]) -> SafeStr:
    return clean(", ".join(f"{k}={v}" for k, v in pairs), _MAX_VALUE)


class _CertFacts(NamedTuple):
    """What the pane shows of one certificate, parsed once per certificate's bytes."""

    parse_error: str | None
    self_signed: bool
    subject: tuple[SafeStr, str]
    issuer: tuple[SafeStr, str]
    sans: tuple[SafeStr, str]
    notbefore: datetime | SafeStr
    notafter: datetime | SafeStr
    serial: tuple[SafeStr, str]
    key: tuple[SafeStr, str]
    fingerprint: list[SafeStr] | SafeStr


def _facts(cert: Cert) -> _CertFacts:
    """The certificate's facts, cached by its PEM bytes: every flow of a capture
    decodes its own `Cert`, but most of them carry the same few certificates."""
    try:
        pem = cert.to_pem()
    except Exception:
        return _parse_facts(cert)
    facts = _FACTS.get(pem)
    if facts is None:
        facts = _FACTS[pem] = _parse_facts(cert)
        if len(_FACTS) > _FACTS_KEPT:
            del _FACTS[next(iter(_FACTS))]
    return facts


_FACTS: dict[bytes, _CertFacts] = {}
_FACTS_KEPT = 256


def _parse_facts(cert: Cert) -> _CertFacts:
    error = cert.parse_error
    if error is not None:
        none = clean("")
        empty = (none, "")
        return _CertFacts(error, False, empty, empty, empty, none, none, empty, empty, none)
    try:
        self_signed = cert.subject == cert.issuer
    except Exception:
        self_signed = False
    sans = _attempt(lambda: clean(", ".join(cert.san_list()), 2000) or clean("-"))
    try:
        fingerprint: list[SafeStr] | SafeStr = _colon_hex(cert.fingerprint())
    except Exception as e:  # a hostile certificate may raise anything
        fingerprint = clean(f"unreadable: {clean(str(e), 200)}")
    return _CertFacts(
        None,
        self_signed,
        _attempt(lambda: _name(cert.subject)),
        _attempt(lambda: _name(cert.issuer)),
        sans,
        _validity(lambda: cert.notbefore),
        _validity(lambda: cert.notafter),
        _attempt(lambda: _serial_hex(cert.serial)),
        _attempt(lambda: _keyinfo(cert)),
        fingerprint,
    )


def _validity(get: Callable[[], datetime]) -> datetime | SafeStr:
    try:
        return get()
    except Exception as e:
        return clean(f"unreadable: {clean(str(e), 200)}")


def _role(facts: _CertFacts, index: int, count: int, client: bool) -> str:
    if index == 0:
        return "client leaf" if client else "leaf"
    return "root" if facts.self_signed and index == count - 1 else "intermediate"


def certificate_text(
    cert: Cert,
    index: int,
    count: int,
    *,
    now: datetime,
    client: bool = False,
    width: int = 80,
    level: int = 0,
) -> SafeText:
    """Everything about one certificate of a chain, validity coloured against `now`."""
    out = _Writer(width)
    _certificate(out, cert, index, count, now=now, client=client, level=level)
    return out.done()


def _certificate(
    out: _Writer, cert: Cert, index: int, count: int, *, now: datetime, client: bool, level: int
) -> None:
    facts = _facts(cert)
    role = _role(facts, index, count, client)
    if facts.parse_error is not None:
        out.heading(clean(f"#{index} {role}"), level)
        out.field(
            clean("unparseable"),
            clean(f"certificate: {clean(facts.parse_error, 300)}"),
            STYLES["error"],
            level + 1,
        )
        return
    out.heading(clean(f"#{index} {role}"), level)
    sub = level + 1
    out.field(clean("subject"), *facts.subject, level=sub)
    out.field(clean("issuer"), *facts.issuer, level=sub)
    out.field(clean("SANs"), *facts.sans, level=sub)
    out.field(clean("not before"), *_validity_start(facts.notbefore, now), level=sub)
    out.field(clean("not after"), *_validity_end(facts.notafter, now), level=sub)
    out.field(clean("serial"), *facts.serial, level=sub)
    out.field(clean("key"), *facts.key, level=sub)
    if isinstance(facts.fingerprint, str):
        out.field(clean("SHA-256"), facts.fingerprint, STYLES["error"], sub)
    else:
        out.field(clean("SHA-256"), facts.fingerprint[0], level=sub)
        for line in facts.fingerprint[1:]:
            out.field(clean(""), line, level=sub)


def _serial_hex(serial: int) -> SafeStr:
    size = max(1, (serial.bit_length() + 7) // 8)
    return join(clean(":"), _colon_hex(serial.to_bytes(size, "big", signed=serial < 0), 64))


def _keyinfo(cert: Cert) -> SafeStr:
    kind, bits = cert.keyinfo
    return concat(clean(kind, 80), clean(f", {bits} bits" if bits > 0 else ""))


def _validity_start(start: datetime | SafeStr, now: datetime) -> tuple[SafeStr, str]:
    if isinstance(start, str):
        return start, STYLES["error"]
    stamp = start.strftime("%Y-%m-%d %H:%M:%S UTC")
    if now < start:
        return clean(f"{stamp}  (not yet valid)"), STYLES["error"]
    return clean(stamp), ""


def _validity_end(end: datetime | SafeStr, now: datetime) -> tuple[SafeStr, str]:
    if isinstance(end, str):
        return end, STYLES["error"]
    stamp = end.strftime("%Y-%m-%d %H:%M:%S UTC")
    if now > end:
        return clean(f"{stamp}  (expired {_days(now - end)} ago)"), STYLES["error"]
    if end - now <= timedelta(days=EXPIRY_WARNING_DAYS):
        return clean(f"{stamp}  (expires in {_days(end - now)})"), STYLES["warning"]
    return clean(stamp), STYLES["ok"]


def _days(delta: timedelta) -> str:
    if delta.days >= 1:
        return f"{delta.days} day" + ("s" if delta.days != 1 else "")
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour" + ("s" if hours != 1 else "")


def _alpn(value: bytes | None) -> SafeStr:
    if value is None:
        return clean("-")
    return bytes_to_text(value, 100) if value else clean("(none negotiated)")


def _cipher_list(ciphers: Sequence[str]) -> SafeStr:
    if not ciphers:
        return clean("-")
    shown = ", ".join(clean(c, 80) for c in ciphers[:_MAX_CIPHERS])
    more = len(ciphers) - _MAX_CIPHERS
    summary = f"{len(ciphers)}: {shown}"
    return clean(f"{summary}, … ({more} more)" if more > 0 else summary)


def _timing(
    out: _Writer, events: list[tuple[str, float | None]], t0: float | None, tz: tzinfo | None
) -> None:
    out.heading(clean("timing (relative to the client's start)"), 1)
    for label, ts in events:
        if ts is None:
            out.field(clean(label), clean("-"), STYLES["muted"], 2)
            continue
        rel = f"  {format_relative(ts, t0)}" if t0 is not None else ""
        out.field(clean(label), clean(f"{format_time(ts, tz)}{rel}"), level=2)


def connection_text(
    conn: Connection, *, t0: float | None, now: datetime, tz: tzinfo | None, width: int = 80
) -> SafeText:
    """One side of the connection: addresses, TLS, timing, every certificate."""
    out = _Writer(width)
    client = isinstance(conn, Client)
    if client:
        assert isinstance(conn, Client)
        out.heading(clean(f"Client  {format_address(conn.peername)}"))
        out.field(clean("peername"), format_address(conn.peername))
        out.field(clean("sockname"), format_address(conn.sockname))
        out.field(clean("proxy mode"), clean(str(conn.proxy_mode), _MAX_VALUE))
    else:
        assert isinstance(conn, Server)
        out.heading(clean(f"Server  {format_address(conn.address)}"))
        out.field(clean("address"), format_address(conn.address))
        out.field(clean("peername"), format_address(conn.peername) if conn.peername else clean("-"))
        out.field(clean("sockname"), format_address(conn.sockname) if conn.sockname else clean("-"))
        if conn.via is not None:
            scheme, address = conn.via
            out.field(clean("via"), clean(f"{clean(scheme, 20)}://{format_address(address)}"))
    out.field(clean("transport"), clean(conn.transport_protocol, 10))
    if conn.tls_version or conn.tls:
        tls = clean(conn.tls_version or "requested, not established", 60)
        out.field(clean("TLS"), tls, STYLES["ok"] if conn.tls_established else STYLES["warning"])
    else:
        out.field(clean("TLS"), clean("no"), STYLES["muted"])
    out.field(clean("SNI"), clean(conn.sni, _MAX_VALUE) if conn.sni is not None else clean("-"))
    out.field(clean("ALPN"), _alpn(conn.alpn))
    offers = join(clean(", "), (bytes_to_text(o, 100) for o in conn.alpn_offers[:20]))
    out.field(clean("ALPN offers"), offers or clean("-"))
    out.field(clean("cipher"), clean(conn.cipher, 120) if conn.cipher else clean("-"))
    out.field(clean("cipher list"), _cipher_list(conn.cipher_list))
    if conn.error:
        out.field(clean("error"), clean(conn.error, 1000), STYLES["error"])
    if client:
        events = [("start", conn.timestamp_start), ("TLS setup", conn.timestamp_tls_setup)]
    else:
        assert isinstance(conn, Server)
        events = [
            ("start", conn.timestamp_start),
            ("TCP setup", conn.timestamp_tcp_setup),
            ("TLS setup", conn.timestamp_tls_setup),
        ]
    events.append(("end", conn.timestamp_end))
    _timing(out, events, t0, tz)
    certs = list(conn.certificate_list)
    kind = "client certificates" if client else "certificates"
    out.heading(clean(f"{kind}: {len(certs) if certs else 'none'}"), 1)
    for i, cert in enumerate(certs):
        _certificate(out, cert, i, len(certs), now=now, client=client, level=2)
    return out.done()


def flow_text(flow: Flow | None, *, tz: tzinfo | None, width: int = 80) -> SafeText:
    """The flow-level facts: type, state, error, mark, comment, metadata, content."""
    out = _Writer(width)
    text = out.text
    if flow is None:
        text.append(clean("No flow selected."), STYLES["muted"])
        return text
    text.append(clean(f"{clean(flow.type, 20).upper()} flow"), STYLES["heading"])
    text.append(clean(f"  {clean(flow.id, 60)}"), STYLES["label"])
    for badge in _badges(flow):
        text.append(clean("  "))
        text.append(clean(f" {badge} "), STYLES["badge"])
    text.newline()
    out.field(clean("created"), format_time(flow.timestamp_created, tz))
    _describe_content(out, flow)
    if flow.error is not None:
        out.field(clean("error"), clean(flow.error.msg, 1000), STYLES["error"])
    if flow.marked:
        out.field(clean("marked"), clean(flow.marked, 60))
    if flow.comment:
        lines = clean_lines(flow.comment[:4000])
        out.field(clean("comment"), lines[0])
        for line in lines[1:40]:
            out.field(clean(""), line)
    if flow.metadata:
        out.field(clean("metadata"), clean(f"{len(flow.metadata)} key(s)"))
        for key, value in list(flow.metadata.items())[:_MAX_METADATA]:
            out.field(clean(str(key), 12), clean(_safe_repr(value), _MAX_VALUE), level=1)
    return out.done()


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[: _MAX_VALUE + 1]
    except Exception as e:
        return f"<unrepresentable: {type(e).__name__}>"


def _badges(flow: Flow) -> list[str]:
    badges = []
    if flow.intercepted:
        badges.append("intercepted")
    if flow.live:
        badges.append("live")
    if flow.is_replay:
        badges.append(f"replay {clean(flow.is_replay, 20)}")
    if not isinstance(flow, UnknownFlow) and flow.modified():
        badges.append("modified")
    if isinstance(flow, UnknownFlow):
        badges.append("read-only")
    return badges


def _describe_content(out: _Writer, flow: Flow) -> None:
    if isinstance(flow, MessageFlow):
        up = [m for m in flow.messages if m.from_client]
        down = [m for m in flow.messages if not m.from_client]
        up_bytes = sum(len(m.content) for m in up)
        down_bytes = sum(len(m.content) for m in down)
        out.field(
            clean("messages"),
            clean(
                f"{len(flow.messages)}  (→ {len(up)}, {up_bytes:,} bytes;"
                f" ← {len(down)}, {down_bytes:,} bytes)"
            ),
        )
    elif isinstance(flow, HTTPFlow):
        status = flow.status_code
        request = f"{clean(flow.method, 40)} {clean(flow.pretty_url, 1000)}"
        response = number(status) if status is not None else clean("no response")
        out.field(clean("request"), clean(f"{request}  → {response}"))
        if flow.websocket_messages is not None:
            out.field(clean("WebSocket"), clean(f"{flow.websocket_messages} messages"))
    elif isinstance(flow, DNSFlow):
        for name, typ in flow.questions[:20]:
            out.field(clean("question"), clean(f"{clean(name, 300)}  type {number(typ)}"))
        answers = flow.answer_count
        out.field(
            clean("answers"), number(answers) if answers is not None else clean("no response")
        )
    elif isinstance(flow, UnknownFlow):
        out.field(clean("record type"), clean(flow.raw_type, 60))
        out.field(clean("reason"), clean(flow.reason, 1000), STYLES["error"])
