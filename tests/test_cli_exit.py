"""The command's contract with scripts: exit statuses, help for every option, errors on
stderr, one version. Each case runs the real entry point (`python -m flowtui`)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from truth import DATA

import flowtui
from flowtui import cli

ROOT = Path(__file__).resolve().parents[1]


def flowtui_cmd(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def _cut_capture(tmp_path: Path) -> Path:
    path = tmp_path / "cut.flows"
    path.write_bytes((DATA / "kill_intercept_mark.flows").read_bytes()[:-100])
    return path


def _junk(tmp_path: Path) -> Path:
    path = tmp_path / "junk.flows"
    path.write_bytes(b"junk")
    return path


def _unreadable_record(tmp_path: Path) -> Path:
    """A capture whose second record is a flow of a type no one knows."""
    from flowtui.io import read_flows, tnetstring

    state = read_flows(DATA / "echo_basic.flows")[0].get_state()
    path = tmp_path / "odd.flows"
    path.write_bytes(
        (DATA / "echo_basic.flows").read_bytes()
        + tnetstring.dumps({**state, "type": "carrier-pigeon"})
    )
    return path


# ------------------------------------------------------------------ data errors: 1


@pytest.mark.parametrize(
    "case",
    ["missing", "directory", "truncated", "not-a-capture", "unreadable-record"],
)
@pytest.mark.parametrize("command", ["dump", "convert"])
def test_data_errors_exit_1_with_one_line_on_stderr(
    tmp_path: Path, command: str, case: str
) -> None:
    path = {
        "missing": lambda: tmp_path / "nope.flows",
        "directory": lambda: tmp_path,
        "truncated": lambda: _cut_capture(tmp_path),
        "not-a-capture": lambda: _junk(tmp_path),
        "unreadable-record": lambda: _unreadable_record(tmp_path),
    }[case]()
    args = [path] if command == "dump" else [path, tmp_path / "out.flowtui"]
    result = flowtui_cmd(command, *args)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    if command == "convert" and case == "unreadable-record":
        # convert says what it wrote (kept the record as it was), then the data error
        assert len(lines) == 2 and "wrote 4 flows" in lines[0], result.stderr
    else:
        assert len(lines) == 1, result.stderr
    assert lines[-1].startswith("flowtui: "), result.stderr
    assert "Traceback" not in result.stderr and "usage:" not in result.stderr


def test_opening_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    result = flowtui_cmd(tmp_path / "nope.flows")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"flowtui: error: {tmp_path / 'nope.flows'}: no such file\n"


def test_convert_to_a_refused_suffix_is_a_data_error(tmp_path: Path) -> None:
    result = flowtui_cmd("convert", DATA / "echo_basic.flows", tmp_path / "out.har")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert not (tmp_path / "out.har").exists()


def test_proxy_that_cannot_listen_exits_1_on_stderr() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = flowtui_cmd("proxy", "--listen", f"127.0.0.1:{port}", "--upstream", "127.0.0.1:9")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "flowtui proxy: error:" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------------ usage errors: 2


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--no-such-option", "x.flows"],
        ["dump"],
        ["dump", "x.flows", "--bogus"],
        ["convert", "only-one.flows"],
        ["convert", "a.flows", "b.flows", "--format", "pcap"],
        ["attach"],
        ["attach", "tcp://127.0.0.1"],
        ["attach", "unix:/x.sock", "--max-memory", "lots"],
        ["proxy"],
        ["proxy", "--upstream", "nohost"],
        ["proxy", "--upstream", "127.0.0.1:9", "--on-detach", "explode"],
        ["proxy", "--upstream", "127.0.0.1:9", "--tcp", "127.0.0.1:0"],
        ["addon-path", "extra"],
        ["demo", "--open-sesame"],
    ],
    ids=lambda a: " ".join(a) or "no-arguments",
)
def test_usage_errors_exit_2_with_usage_on_stderr(args: list[str]) -> None:
    result = flowtui_cmd(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("usage: flowtui"), result.stderr
    assert "error:" in result.stderr.splitlines()[-1]


# ------------------------------------------------------------------ success: 0


def test_success_exits_0(tmp_path: Path) -> None:
    assert flowtui_cmd("dump", DATA / "echo_basic.flows").returncode == 0
    out = tmp_path / "out.flowtui"
    result = flowtui_cmd("convert", DATA / "echo_basic.flows", out)
    assert result.returncode == 0 and out.is_file()
    assert flowtui_cmd("addon-path").returncode == 0


# ------------------------------------------------------------------ help


def _options(command: str | None) -> list[tuple[str, str | None]]:
    """Each argument of a parser: (its name, its help text)."""
    if command == "proxy":
        from flowtui.live.relay import _parser as relay_parser

        parser = relay_parser()
    else:
        parser = cli._parser(command)
    return [
        (a.option_strings[-1] if a.option_strings else a.dest, a.help)
        for a in parser._actions  # argparse has no public list of arguments
    ]


@pytest.mark.parametrize("command", [None, *cli.SUBCOMMANDS])
def test_every_option_is_explained(command: str | None) -> None:
    unexplained = [name for name, text in _options(command) if not text or len(text) < 8]
    assert unexplained == [], f"{command or 'flowtui'}: no help for {unexplained}"


@pytest.mark.parametrize("command", cli.SUBCOMMANDS)
def test_help_of_each_subcommand(command: str) -> None:
    """`--help` prints help (not the command's work) to stdout and exits 0, naming every
    option it has."""
    result = flowtui_cmd(command, "--help")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith(f"usage: flowtui {command}"), result.stdout
    for name, _ in _options(command):
        if name.startswith("--"):
            assert name in result.stdout, f"{command} --help does not mention {name}"


def test_addon_path_help_is_help_not_the_path() -> None:
    result = flowtui_cmd("addon-path", "--help")
    assert "mitmproxy_addon.py" not in result.stdout
    assert "mitmdump -s" in result.stdout


def test_top_level_help_lists_subcommands_and_exit_statuses() -> None:
    result = flowtui_cmd("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for command in cli.SUBCOMMANDS:
        assert f"flowtui {command}" in text
    assert "exit status: 0 success; 1 a data error" in text and "2 a usage error" in text


# ------------------------------------------------------------------ version


def test_version_comes_from_one_place() -> None:
    result = flowtui_cmd("--version")
    assert result.returncode == 0
    assert result.stdout == f"flowtui {flowtui.__version__}\n"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]
    literal = re.compile(r"""(?i)version\W{1,6}\d+\.\d+""")
    written = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "flowtui").rglob("*.py")
        if literal.search(p.read_text(encoding="utf-8")) and "__version__ =" not in p.read_text()
    ]
    assert written == [], f"a version string written outside flowtui/__init__.py: {written}"
