"""The config file: a good one applies; each kind of mistake is reported with the file,
the line and the key, and the app still starts on defaults; `flowtui config` prints the
path, the effective settings and a commented default file."""

from __future__ import annotations

import tomllib
from datetime import UTC
from pathlib import Path

import pytest
from textual.theme import BUILTIN_THEMES

from flowtui.cli import main
from flowtui.config import Config, config_path, load_config, parse_size
from flowtui.ui.commands import BY_ID

SAMPLE = Path(__file__).resolve().parent.parent / "flowtui" / "sample" / "sample.flows"

GOOD = """\
theme = "nord"
view_mode = "hex"
detail_delay = 0.2
follow = true
max_memory = "64M"

[keys]
"flow.mark" = "M"
view.filter = ["ctrl+f", "slash"]
"""


def _load(path: Path) -> tuple[Config, list[str]]:
    config, problems = load_config(path, command_ids=BY_ID, themes=BUILTIN_THEMES)
    return config, [str(p) for p in problems]


def test_a_good_file_applies(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    config, problems = _load(path)
    assert problems == []
    assert config == Config(
        keys={"flow.mark": "M", "view.filter": "ctrl+f,slash"},
        theme="nord",
        view_mode="hex",
        detail_delay=0.2,
        follow=True,
        max_memory=64 * 1024 * 1024,
        path=path,
    )


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        ('theme = "nord"\nview_mode = "hex\n', 2, None, "not TOML"),
        ('theme = "nord"\ncolour = "red"\n', 2, "colour", "unknown setting"),
        ('\n\ndetail_delay = "fast"\n', 3, "detail_delay", "seconds"),
        ("follow = 1\n", 1, "follow", "true or false"),
        ('max_memory = "lots"\n', 1, "max_memory", "512M"),
        ('view_mode = "pretty"\n', 1, "view_mode", "auto, text, hex"),
        ('theme = "no-such-theme"\n', 1, "theme", "unknown theme"),
        (
            '[keys]\n"flow.mark" = "M"\n"flow.frobnicate" = "z"\n',
            3,
            "keys.flow.frobnicate",
            "no command",
        ),
        ("[keys]\n\nflow.mark = 5\n", 3, "keys.flow.mark", "expected keys"),
    ],
)
def test_a_bad_file_names_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str | None, words: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    config, problems = _load(path)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.startswith(f"{path}:{line}: "), problem
    if key is not None:
        assert f": {key}: " in problem
    assert words in problem
    # what was wrong keeps its default
    if key is not None and not key.startswith("keys."):
        assert getattr(config, key, None) == getattr(Config(), key, None)


async def test_the_app_starts_on_defaults_with_a_bad_file(tmp_path: Path) -> None:
    from flowtui.ui.app import make_app

    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\ndetail_delay = -1\n[keys]\n"flow.nope" = "z"\n')
    app = make_app([SAMPLE], tz=UTC, config_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.theme == "nord"  # the good setting applies
        assert app.detail_delay == Config().detail_delay
        notes = "\n".join(str(n.message) for n in app._notifications)
        assert f"{path}:2: detail_delay" in notes and f"{path}:4: keys.flow.nope" in notes
        await pilot.press("m")  # the default keys work
        assert app.main.flow_list.flow is not None and app.main.flow_list.flow.marked


async def test_the_app_starts_with_a_config_that_is_not_toml(tmp_path: Path) -> None:
    from flowtui.ui.app import make_app

    path = tmp_path / "config.toml"
    path.write_text("[keys\n")
    app = make_app([SAMPLE], tz=UTC, config_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.theme == "textual-dark" and app.config.keys == {}
        notes = "\n".join(str(n.message) for n in app._notifications)
        assert f"{path}:1: not TOML" in notes


def test_the_path_follows_xdg(tmp_path: Path) -> None:
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "flowtui" / "config.toml"
    assert config_path({"HOME": "/x"}).parts[-2:] == ("flowtui", "config.toml")
    assert config_path({"FLOWTUI_CONFIG": str(tmp_path / "c.toml")}) == tmp_path / "c.toml"


def test_sizes() -> None:
    assert parse_size("512M") == 512 * 1024**2 and parse_size("1G") == 1024**3
    assert parse_size(4096) == 4096
    for bad in ("", "0", "nan", "-1M", True, "lots"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_flowtui_config_prints_path_and_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    assert main(["config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# config file: {path}\n")
    effective = tomllib.loads(out)
    assert effective["theme"] == "nord" and effective["max_memory"] == 64 * 1024**2
    assert effective["keys"] == {"flow.mark": "M", "view.filter": "ctrl+f,slash"}


def test_flowtui_config_reports_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("follow = 3\n")
    assert main(["config", "--config", str(path)]) == 1
    captured = capsys.readouterr()
    assert f"{path}:1: follow: expected true or false" in captured.err
    assert "follow" not in tomllib.loads(captured.out)  # the default (said in a comment)


def test_flowtui_config_default_is_a_valid_commented_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "--default"]) == 0
    out = capsys.readouterr().out
    assert tomllib.loads(out) == {"keys": {}}  # everything commented out
    assert '# flow.mark = "m"' in out and "# theme" in out
    # uncommented, it is a good file with every command at its default key
    path = tmp_path / "config.toml"
    path.write_text("\n".join(line.removeprefix("# ") for line in out.splitlines()
                              if line.startswith(("# flow.", "# view.", "[keys]"))))  # fmt: skip
    _config, problems = _load(path)
    assert problems == []


async def test_the_theme_from_the_config_colours_the_connection_pane(tmp_path: Path) -> None:
    """No theme is forced: the config's applies, and the pane's colours follow it."""
    from flowtui.ui.app import make_app
    from flowtui.ui.widgets import conn_format

    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n')
    app = make_app([SAMPLE], tz=UTC, detail_delay=0, config_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.main.query_one("#detail").active = "tab-connection"  # type: ignore[attr-defined]
        await pilot.pause()
        nord_error = app.get_css_variables()["error"].lower()
        assert app.theme == "nord" and nord_error in conn_format.STYLES["error"].lower()
        app.theme = "gruvbox"
        await pilot.pause()
        assert app.get_css_variables()["error"].lower() in conn_format.STYLES["error"].lower()
        assert nord_error not in conn_format.STYLES["error"].lower()


async def test_view_mode_from_the_config_is_how_messages_are_first_shown(tmp_path: Path) -> None:
    """`view_mode = "hex"` opens every flow's messages as a hex dump; `h` still cycles."""
    from ui_support import screen_text

    from flowtui.ui.app import make_app
    from flowtui.ui.widgets.message_view import MessageView

    path = tmp_path / "config.toml"
    path.write_text('view_mode = "hex"\n')
    app = make_app([SAMPLE], tz=UTC, detail_delay=0, config_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        view = app.main.query_one(MessageView)
        assert view.mode == "hex" and "00000000  " in screen_text(app)
        await pilot.press("down")  # the next flow opens in hex too
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert view.mode == "hex" and "00000000  " in screen_text(app)
        view.focus()
        await pilot.press("h")
        assert view.mode == "auto"
