"""The ``flowtui`` command: open captures in the UI, ``dump`` them as text, ``convert`` them,
``export`` flows as HAR, curl, raw bytes or pcap, run the recording relay (``proxy``),
find the mitmproxy addon (``addon-path``) and open the bundled sample (``demo``).

Exit statuses: 0 success; 1 a data error (an unreadable file or record, a failed write, a
proxy that cannot start), reported in one line on stderr naming the file and the place,
after everything that could be read has been printed; 2 a usage error (argparse's).
"""

from __future__ import annotations

import argparse
import base64
import importlib
import importlib.resources
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from flowtui import __version__
from flowtui.sanitize import SafeStr, clean, join, number, safe_format

__all__ = ["format_flow_line", "format_flow_lines", "main", "state_to_json"]

EXIT_ERROR = 1
"""Exit status for a data error: unreadable input or records, a failed write."""

EXIT_USAGE = 2
"""Exit status for a usage error: what argparse exits with for a bad command line."""

SUBCOMMANDS = ("dump", "convert", "export", "proxy", "attach", "addon-path", "demo", "config")

_USAGE = """\
flowtui [-h] [--version] FILE [FILE ...]
       flowtui dump FILE [EXPR] [--json]
       flowtui convert IN OUT [--format {mitmproxy,flowtui}]
       flowtui export FORMAT FILE [-o OUT] [--flow N] [--filter EXPR]
       flowtui proxy --listen HOST:PORT --upstream HOST:PORT [...]
       flowtui attach ADDRESS [--token-file F] [--max-memory SIZE]
       flowtui addon-path
       flowtui demo [--path]
       flowtui config [--default] [--config PATH]"""

_DESCRIPTION = """\
Inspect network flows captured by mitmproxy (formats 18-21), saved by flowtui, or in
a HAR file.
  flowtui FILE...          open the captures in the terminal UI
  flowtui dump FILE [EXPR] print the flows (HTTP as mitmdump -nr does; --json: each
                           flow's state as JSON Lines); EXPR: only the flows it matches
  flowtui convert IN OUT   rewrite a capture; the format follows OUT's suffix
                           (.flows/.mitm/.dump: mitmproxy; .json, .har, .txt and other
                           suffixes of other formats: refused; anything else: flowtui),
                           or --format. A file named like a subcommand: use ./dump.
  flowtui export FORMAT F  write flows as har, curl, httpie, raw, raw_request,
                           raw_response, request_body, response_body, tcp_raw_client,
                           tcp_raw_server, hexdump or pcap
  flowtui proxy ...        a recording TCP relay serving the live socket (--help for more)
  flowtui attach ADDRESS   watch and steer a live proxy (unix:/path or tcp://HOST:PORT)
  flowtui addon-path       the path of the mitmproxy addon, for `mitmdump -s PATH`
  flowtui demo             open the sample capture shipped with flowtui (--path: print it)
  flowtui config           the config file's path and the effective settings
                           (--default: a commented default file)
Each subcommand explains its options with --help."""

_EPILOG = """\
exit status: 0 success; 1 a data error (unreadable file or records, failed write; one
line on stderr); 2 a usage error (bad command line)."""


def _text(value: Any) -> SafeStr:
    """Any state value as safe text (bytes decoded leniently)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="backslashreplace")
    return clean(str(value))


# --------------------------------------------------------------------------- dump


def _address(addr: Any) -> SafeStr:
    """``host:port`` (``[v6]:port``) from a state address, ``?`` when absent; a port that
    is not a number (an unreadable record's) shows as ``?``."""
    if not isinstance(addr, list | tuple) or len(addr) < 2:
        return clean("?")
    host, port = _text(addr[0]), number(addr[1])
    return safe_format("[{}]:{}" if ":" in host else "{}:{}", host, port)


def _tls(tls: Any) -> SafeStr:
    """A connection's TLS facts, compactly."""
    if not isinstance(tls, dict):
        return clean("")
    parts = [_text(tls.get("version") or "handshake incomplete")]
    for key in ("sni", "alpn"):
        if tls.get(key):
            parts.append(safe_format(key + "={}", _text(tls[key])))
    return join(clean(" "), parts)


def _counts(value: Any) -> tuple[SafeStr, SafeStr]:
    """A ``[client, server]`` pair of numbers from a summary (``?`` for anything else)."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return number(value[0]), number(value[1])
    return clean("?"), clean("?")


def format_flow_line(ordinal: int, flow: Any) -> SafeStr:
    """One line per flow, in the spirit of ``mitmdump -nr``; `ordinal` counts from 1 as
    the UI does. Every value read from the capture is cleaned, and numbers (status,
    ports, counts) are shown only when they are numbers."""
    from flowtui.io.summary import summarize_state

    s = summarize_state(flow.get_state())
    typ = _text(s.get("type", "?"))
    parts = [
        safe_format("#{}", number(ordinal)),
        typ,
        safe_format("{} → {}", _address(s.get("client")), _address(s.get("server"))),
    ]
    reason = getattr(flow, "reason", None)
    if type(flow).__name__ == "UnknownFlow":
        parts.append(safe_format("(unreadable record, kept as is: {})", _text(reason)))
    elif "messages" in s:
        (n_c, n_s), (b_c, b_s) = _counts(s["messages"]), _counts(s.get("bytes"))
        parts.append(safe_format("c→s {} msgs {} B, s→c {} msgs {} B", n_c, b_c, n_s, b_s))
    elif typ == "http":
        status = s.get("status")
        shown = number(status) if status is not None else clean("-")
        parts.append(safe_format("{} → {}", _text(s.get("request", "?")), shown))
        if "response_size" in s:
            parts.append(safe_format("{} B", number(s["response_size"])))
        if "websocket" in s:
            parts.append(safe_format("websocket c→s {} s→c {}", *_counts(s["websocket"])))
    elif typ == "dns":
        question = join(clean(", "), (_text(q) for q in s.get("questions", []))) or clean("?")
        answers = s.get("answers")
        shown = number(answers) if answers is not None else clean("-")
        parts.append(safe_format("{} → {} answers", question, shown))
    for side in ("client", "server"):
        tls = _tls(s.get(f"{side}_tls"))
        if tls:
            parts.append(safe_format(side + " TLS {}", tls))
    if s.get("error") and type(flow).__name__ != "UnknownFlow":
        parts.append(safe_format("error: {}", _text(s["error"])))
    if s.get("marked"):
        parts.append(safe_format("marked {}", _text(s["marked"])))
    if s.get("intercepted"):
        parts.append(clean("intercepted"))
    if s.get("comment"):
        parts.append(safe_format("comment: {}", _text(s["comment"])))
    return join(clean("  "), parts)


def format_flow_lines(ordinal: int, flow: Any) -> list[SafeStr]:
    """The lines `dump` prints for a flow: an HTTP flow as ``mitmdump -nr`` prints it
    (request, response, WebSocket messages, error), any other flow as one
    `format_flow_line`."""
    from flowtui.core import HTTPFlow

    if isinstance(flow, HTTPFlow):
        from flowtui.export.dumplines import mitmdump_lines

        return mitmdump_lines(flow)
    return [format_flow_line(ordinal, flow)]


def _json_value(value: Any) -> Any:
    """A state value in the fixtures' JSON encoding (bytes as {"__bytes__": base64})."""
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {
            ("__bytes__:" + base64.b64encode(k).decode("ascii")) if isinstance(k, bytes) else k: (
                _json_value(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def state_to_json(state: Any) -> str:
    """One flow state as a single line of ASCII JSON (safe for any terminal)."""
    return json.dumps(_json_value(state), ensure_ascii=True)


def _dump(path: Path, as_json: bool, out: TextIO, flt: Callable[[Any], bool] | None = None) -> int:
    """Print a capture (only the flows `flt` matches, if given); the status is 1 after
    printing what was readable if it is damaged or holds records that are not flows
    (each is printed, then summarised on stderr)."""
    from flowtui.core import UnknownFlow
    from flowtui.io import FlowReader, FlowReadException

    unreadable: list[UnknownFlow] = []
    total = 0
    try:
        with path.open("rb") as fileobj:
            for n, flow in enumerate(FlowReader(fileobj, name=str(path)).stream(), 1):
                total += 1
                if isinstance(flow, UnknownFlow):
                    unreadable.append(flow)
                if flt is not None and not isinstance(flow, UnknownFlow) and not flt(flow):
                    continue
                if as_json:  # ASCII JSON holds no control: `clean` only proves it to mypy
                    _emit(out, clean(state_to_json(flow.get_state())))
                else:
                    for line in format_flow_lines(n, flow):
                        _emit(out, line)
    except FlowReadException as e:
        _report_unreadable(unreadable, total, "", out)
        return _fail(str(e), out)
    except BrokenPipeError:
        raise
    except OSError as e:
        return _fail(f"{clean(str(path))}: {e.strerror or e}", out)
    return _report_unreadable(unreadable, total, "", out)


_LISTED = 3
"""Unreadable records named in the summary line; the rest are counted."""


def _report_unreadable(unreadable: Sequence[Any], total: int, note: str, out: TextIO | None) -> int:
    """One stderr line saying which records were not flows (file, flow, byte, reason);
    the exit status: 1 (a data error) if there were any, else 0."""
    if not unreadable:
        return 0
    if out is not None:
        out.flush()
    places = [f"{u.location}: {clean(u.reason, max_len=200)}" for u in unreadable[:_LISTED]]
    if len(unreadable) > _LISTED:
        places.append(f"and {len(unreadable) - _LISTED} more")
    print(
        f"flowtui: {len(unreadable)} of {total} flows unreadable{note}: {clean('; '.join(places))}",
        file=sys.stderr,
    )
    return EXIT_ERROR


def _emit(out: TextIO, line: SafeStr) -> None:
    """Write one line of output: only safe text reaches the terminal."""
    out.write(line + "\n")


def _fail(message: str, out: TextIO | None = None) -> int:
    """Report one error line on stderr (after flushing what was printed); return 1."""
    if out is not None:
        out.flush()
    print(f"flowtui: error: {clean(message)}", file=sys.stderr)
    return EXIT_ERROR


# --------------------------------------------------------------------------- convert


def _convert(src: Path, dst: Path, fmt: str | None) -> int:
    """Stream a capture into the chosen format, written atomically (one flow in memory
    at a time, so a capture of any size converts)."""
    from flowtui.core import Flow, UnknownFlow
    from flowtui.io import (
        FlowReader,
        FlowReadException,
        FlowWriteException,
        format_for_path,
        save_flows,
        suffix_problem,
    )

    problem = suffix_problem(dst) if fmt is None else None
    if problem is not None:
        return _fail(f"{dst}: {problem}")
    unknown: list[UnknownFlow] = []
    total = 0

    def flows(reader: FlowReader) -> Iterator[Flow]:
        nonlocal total
        for flow in reader.stream():
            total += 1
            if isinstance(flow, UnknownFlow):
                unknown.append(flow)
            yield flow

    try:
        try:
            fileobj = src.open("rb")
        except OSError as e:
            raise FlowReadException(f"cannot open: {e.strerror or e}", path=str(src)) from e
        with fileobj:
            target = format_for_path(dst).value if fmt is None else fmt
            count = save_flows(dst, flows(FlowReader(fileobj, name=str(src))), format=target)
    except (FlowReadException, FlowWriteException) as e:
        return _fail(str(e))
    print(f"{clean(str(dst))}: wrote {count} flows in {target} format", file=sys.stderr)
    return _report_unreadable(unknown, total, " (kept as they were)", None)


# --------------------------------------------------------------------------- export


def _filter_arg(parser: argparse.ArgumentParser, expr: str | None) -> Any:
    """A parsed filter, or None; a bad expression is a usage error (2) whose message
    shows the expression with a caret under the mistake."""
    if expr is None:
        return None
    from flowtui.core.filters import FilterError, parse

    try:
        return parse(expr)
    except FilterError as e:
        shown = clean(expr)
        caret = " " * len(clean(expr[: e.pos]))
        parser.error(f"bad filter expression: {clean(e.msg)}\n  {shown}\n  {caret}^")


_BINARY_EXPORTS = (
    "raw",
    "raw_request",
    "raw_response",
    "request_body",
    "response_body",
    "tcp_raw_client",
    "tcp_raw_server",
    "pcap",
)
"""Formats whose output is bytes from the network: never written to a terminal."""


def _export(
    parser: argparse.ArgumentParser,
    fmt: str,
    src: Path,
    output: Path | None,
    ordinals: list[int] | None,
    expr: str | None,
) -> int:
    """Export the chosen flows of a capture to `output` (atomically) or stdout."""
    from flowtui import export
    from flowtui.core import Flow, UnknownFlow
    from flowtui.io import FlowReader, FlowReadException, FlowWriteException, atomic_write

    flt = _filter_arg(parser, expr)
    to_terminal = output is None and sys.stdout.isatty()
    if to_terminal and fmt in _BINARY_EXPORTS:
        parser.error(f"{fmt} is binary: give -o FILE or pipe the output")
    unreadable: list[UnknownFlow] = []
    flows: list[Flow] = []
    total = 0
    try:
        try:
            fileobj = src.open("rb")
        except OSError as e:
            raise FlowReadException(f"cannot open: {e.strerror or e}", path=str(src)) from e
        with fileobj:
            for flow in FlowReader(fileobj, name=str(src)).stream():
                total += 1
                if isinstance(flow, UnknownFlow):
                    unreadable.append(flow)
                flows.append(flow)
    except FlowReadException as e:
        return _fail(str(e))
    if ordinals:
        beyond = [n for n in ordinals if n > total]
        if beyond:
            parser.error(f"--flow {beyond[0]}: {clean(str(src))} holds {total} flows")
        chosen = [flows[n - 1] for n in dict.fromkeys(ordinals)]
    else:
        chosen = flows
    chosen = [f for f in chosen if not isinstance(f, UnknownFlow)]
    if flt is not None:
        chosen = [f for f in chosen if flt(f)]
    if not chosen:
        return _fail(f"{src}: no flows to export" + (" match the filter" if flt else ""))
    try:
        data = export.export(chosen, fmt)
    except export.ExportError as e:
        return _fail(f"{src}: {e}")
    if output is None:
        if to_terminal:
            for line in data.decode("utf-8", "backslashreplace").splitlines():
                _emit(sys.stdout, clean(line))
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
    else:
        try:
            atomic_write(output, lambda f: f.write(data))
        except FlowWriteException as e:
            return _fail(str(e))
        print(f"{clean(str(output))}: wrote {len(data)} bytes of {fmt}", file=sys.stderr)
    left_out = sum(1 for f in chosen if not export.applies(fmt, f))
    if left_out:
        need = export.describe(fmt).needs
        print(f"flowtui: {fmt}: left out {left_out} flows (not {need})", file=sys.stderr)
    return _report_unreadable(unreadable, total, " (left out)", None)


# --------------------------------------------------------------------------- open


def _open(paths: list[Path], config: Path | None = None) -> int:
    """Open the UI on ``paths``; until the UI package exists, print the dump instead."""
    for path in paths:  # a pipe or FIFO (`flowtui <(cat x.flows)`) is read as a stream
        if path.is_dir() or not path.exists():
            what = "is a directory" if path.is_dir() else "no such file"
            return _fail(f"{path}: {what}")
    run_app = None
    try:
        ui = importlib.import_module("flowtui.ui")
        run_app = getattr(ui, "run_app", None)
    except ModuleNotFoundError as e:
        if e.name not in ("flowtui.ui", "flowtui"):
            raise
    if run_app is None:
        status = 0
        for path in paths:
            status = max(status, _dump(path, False, sys.stdout))
        return status
    return int(run_app(paths, config) if config is not None else run_app(paths))


# --------------------------------------------------------------------------- attach


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _memory_size(text: str) -> int:
    """``512M``, ``1G``, ``64K`` or a number of bytes (K, M, G: powers of 1024)."""
    spec = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = spec[-1:] if spec[-1:] in _UNITS else ""
    number = spec[: len(spec) - len(unit)]
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        value = -1
    if not value >= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a size such as 512M or 1G, not {text!r}")
    return int(value)


def _live_address(text: str) -> str:
    """A live socket address, checked while parsing: a malformed one is a usage error."""
    from flowtui.live.endpoints import parse_endpoint

    try:
        parse_endpoint(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e
    return text


def _attach(
    address: str, token_file: str | None, max_memory: int | None = None, config: Path | None = None
) -> int:
    """Run the UI attached to a live socket; an unreadable token file fails first (1)."""
    from flowtui.ui import run_attach

    try:
        return run_attach(address, token_file, max_memory, config)
    except ValueError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"{token_file}: {e.strerror or e}")


# --------------------------------------------------------------------------- demo


def _demo(path_only: bool) -> int:
    """Open the sample capture that ships inside the package (or print where it is)."""
    sample = importlib.resources.files("flowtui").joinpath("sample", "sample.flows")
    with importlib.resources.as_file(sample) as path:
        if not path.is_file():
            return _fail(f"{path}: the sample capture is missing from this installation")
        if path_only:
            print(clean(str(path)))
            return 0
        return _open([path])


# --------------------------------------------------------------------------- main


def _parser(command: str | None) -> argparse.ArgumentParser:
    """The argument parser of the top level (``None``) or of a subcommand."""
    if command == "dump":
        p = argparse.ArgumentParser(
            prog="flowtui dump", description="Print a capture.", epilog=_EPILOG
        )
        p.add_argument("file", type=Path, help="a capture (any supported format)")
        p.add_argument(
            "expr",
            nargs="?",
            metavar="EXPR",
            help="print only the flows this filter expression matches, as `mitmdump -nr "
            "FILE EXPR` does (mitmproxy's filter language: ~http, ~u REGEX, ~c 404, !, &, |)",
        )
        p.add_argument("--json", action="store_true", help="each flow's state as JSON Lines")
        return p
    if command == "export":
        from flowtui.export import describe, formats

        names = formats()
        p = argparse.ArgumentParser(
            prog="flowtui export",
            description="Write flows of a capture in another tool's format: "
            + "; ".join(f"{n}: {describe(n).description}" for n in names)
            + ". HAR and pcap take every flow that applies; curl, httpie and hexdump one "
            "block per flow; the byte formats (raw, bodies, TCP/UDP bytes) one flow "
            "(choose it with --flow).",
            epilog=_EPILOG,
        )
        p.add_argument("format", choices=names, metavar="FORMAT", help=", ".join(names))
        p.add_argument("file", type=Path, help="a capture (any supported format)")
        p.add_argument(
            "-o",
            "--output",
            type=Path,
            metavar="FILE",
            help="write to FILE (replaced atomically) instead of stdout; binary formats "
            "are never written to a terminal",
        )
        p.add_argument(
            "--flow",
            type=_ordinal,
            action="append",
            metavar="N",
            help="export flow number N, counted from 1 in file order as the UI numbers "
            "them (repeat for more)",
        )
        p.add_argument(
            "--filter",
            metavar="EXPR",
            help="export only the flows this filter expression matches",
        )
        return p
    if command == "convert":
        p = argparse.ArgumentParser(
            prog="flowtui convert", description="Rewrite a capture.", epilog=_EPILOG
        )
        p.add_argument("input", type=Path, help="a capture (any supported format)")
        p.add_argument("output", type=Path, help="the file to write (replaced atomically)")
        p.add_argument(
            "--format",
            choices=("mitmproxy", "flowtui"),
            help="output format (default: mitmproxy for .flows/.mitm/.dump, else flowtui)",
        )
        return p
    if command == "config":
        p = argparse.ArgumentParser(
            prog="flowtui config",
            description="Print the config file's path and the effective settings.",
        )
        p.add_argument(
            "--default", action="store_true", help="print a commented default config file"
        )
        _config_option(p)
        return p
    if command == "attach":
        p = argparse.ArgumentParser(
            prog="flowtui attach",
            description="Watch and steer a running proxy (flowtui proxy, or mitmproxy with "
            "the flowtui addon) through its live socket.",
            epilog=_EPILOG,
        )
        p.add_argument(
            "address",
            type=_live_address,
            help="the live socket: unix:/path/to.sock (or a path), or tcp://HOST:PORT",
        )
        p.add_argument(
            "--token-file",
            metavar="FILE",
            help="the token file of a TCP live socket (the one given to the proxy)",
        )
        p.add_argument(
            "--max-memory",
            type=_memory_size,
            metavar="SIZE",
            help="most message content kept from the proxy (e.g. 512M, 2G; default 512M). "
            "Past it the oldest flows' contents are cut from their end, and each cut flow "
            "says how much it lost ('cut: 12.3 MB of 40.0 MB not kept')",
        )
        _config_option(p)
        return p
    if command == "addon-path":
        return argparse.ArgumentParser(
            prog="flowtui addon-path",
            description="Print the path of flowtui's mitmproxy addon, to load it with "
            "`mitmdump -s PATH --set flowtui_listen=unix:/path/to.sock`.",
        )
    if command == "demo":
        p = argparse.ArgumentParser(
            prog="flowtui demo",
            description="Open the sample capture that ships with flowtui in the terminal UI.",
        )
        p.add_argument(
            "--path", action="store_true", help="print the sample's path instead of opening it"
        )
        return p
    p = argparse.ArgumentParser(
        prog="flowtui",
        usage=_USAGE,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"flowtui {__version__}")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="captures to open")
    _config_option(p)
    return p


def _ordinal(text: str) -> int:
    """A flow number, counted from 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a flow number from 1, not {text!r}")
    return value


def _config_option(p: argparse.ArgumentParser) -> None:
    """``--config PATH``: the config file to read instead of the default one."""
    p.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="the config file (default: $XDG_CONFIG_HOME/flowtui/config.toml)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``flowtui`` console script and ``python -m flowtui``."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    command = args_list[0] if args_list and args_list[0] in SUBCOMMANDS else None
    if command == "proxy":
        from flowtui.live.relay import main as relay_main

        return relay_main(args_list[1:])
    parser = _parser(command)
    args = parser.parse_args(args_list[1:] if command else args_list)
    try:
        if command == "addon-path":
            from flowtui.live import addon_path

            print(clean(addon_path()))
            return 0
        if command == "demo":
            return _demo(args.path)
        if command == "config":
            from flowtui.ui import run_config

            return run_config(args.config, args.default)
        if command == "dump":
            return _dump(args.file, args.json, sys.stdout, _filter_arg(parser, args.expr))
        if command == "export":
            return _export(parser, args.format, args.file, args.output, args.flow, args.filter)
        if command == "convert":
            return _convert(args.input, args.output, args.format)
        if command == "attach":
            return _attach(args.address, args.token_file, args.max_memory, args.config)
        return _open(list(args.files), args.config)
    except BrokenPipeError:
        # The reader went away (`flowtui dump x | head`): stop quietly, and keep the
        # interpreter's final flush from failing again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
