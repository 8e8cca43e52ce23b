"""The user's config file: key remapping, theme and defaults, read with `tomllib`.

Why it explains itself: a mistake in it must never stop the app. Every problem (a TOML
syntax error, an unknown key, a wrong type, an unknown command id or theme) becomes a
`ConfigProblem` naming the file, the line and the key; the setting it concerns keeps
its default and the rest of the file still applies. No Textual here: the caller passes
the command ids and theme names it knows.

The file is ``$XDG_CONFIG_HOME/flowtui/config.toml`` (``~/.config`` when unset), or
the ``--config PATH`` given on the command line (``FLOWTUI_CONFIG`` in the environment).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "CONFIG_ENV",
    "VIEW_MODES",
    "Config",
    "ConfigProblem",
    "config_path",
    "default_text",
    "effective_text",
    "load_config",
    "parse_size",
]

CONFIG_ENV = "FLOWTUI_CONFIG"
"""An environment variable naming the config file (what ``--config PATH`` sets)."""
VIEW_MODES = ("auto", "text", "hex")
"""The message viewer's modes."""
ViewMode = Literal["auto", "text", "hex"]


@dataclass(frozen=True)
class Config:
    """The effective settings (the defaults, where the file says nothing valid)."""

    keys: dict[str, str] = field(default_factory=dict)
    """Command id → keys (comma-separated Textual key names), replacing the defaults."""
    theme: str = "textual-dark"
    """Any Textual theme name."""
    view_mode: ViewMode = "auto"
    """How the message viewer first shows a flow: auto, text or hex."""
    detail_delay: float = 0.05
    """Seconds the detail panes wait for the cursor to rest (0: follow at once)."""
    follow: bool | None = None
    """Keep the newest flow in view (None: on when attached to a proxy, off for files)."""
    max_memory: int | None = None
    """Most message content kept from a live proxy, in bytes (None: 512 MiB)."""
    path: Path | None = None
    """The file these settings were read from (None: none was read)."""


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake in a config file."""

    path: Path
    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the config file is looked for (it need not exist)."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "flowtui" / "config.toml"


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(value: object) -> int:
    """``512M``, ``1G``, ``64K`` or a number of bytes (K, M, G: powers of 1024);
    `ValueError` for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size such as 512M or 1G, not {value!r}")
    if isinstance(value, int | float):
        number: float = value
    elif isinstance(value, str):
        spec = value.strip().upper().removesuffix("B").removesuffix("I")
        unit = spec[-1:] if spec[-1:] in _UNITS else ""
        try:
            number = float(spec[: len(spec) - len(unit)]) * _UNITS[unit]
        except ValueError:
            number = -1
    else:
        number = -1
    if not (number >= 1 and math.isfinite(number)):
        raise ValueError(f"expected a size such as 512M or 1G, not {value!r}")
    return int(number)


def _line_of(lines: list[str], section: str | None, key: str) -> int | None:
    """The line (from 1) where `key` is set, in the ``[section]`` table (top level when
    None); a dotted key may be written quoted or as dotted names."""
    in_section = section is None
    parts = key.split(".")
    patterns = [re.escape(key), re.escape(f'"{key}"'), re.escape(f"'{key}'")]
    patterns.append(r"\s*\.\s*".join(re.escape(p) for p in parts))
    assign = re.compile(r"^\s*(?:" + "|".join(patterns) + r")\s*=")
    header_line = None
    for number, line in enumerate(lines, 1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            name = header.group(1).strip("\"'")
            in_section = name == section
            if in_section:
                header_line = number
            continue
        if in_section and assign.match(line):
            return number
    return header_line


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"flow": {"mark": "M"}}`` → ``{"flow.mark": "M"}`` (TOML reads an unquoted
    ``flow.mark = "M"`` as nested tables)."""
    out: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(_flatten(value, key + "."))
        else:
            out[key] = value
    return out


def _keys_value(value: object) -> str | None:
    """A key spec as Textual's comma-separated keys: a string or a list of strings."""
    if isinstance(value, str) and value.strip():
        return ",".join(k.strip() for k in value.split(",") if k.strip()) or None
    if isinstance(value, list) and value and all(isinstance(k, str) and k.strip() for k in value):
        return ",".join(k.strip() for k in value)
    return None


class _Reader:
    """Checks one parsed file, collecting problems with their lines."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.problems: list[ConfigProblem] = []

    def problem(self, key: str, message: str, section: str | None = None) -> None:
        line = _line_of(self.lines, section, key.split(".", 1)[1] if section else key)
        self.problems.append(ConfigProblem(self.path, line, key, message))

    def keys(self, table: object, command_ids: Collection[str] | None) -> dict[str, str]:
        if not isinstance(table, dict):
            self.problem("keys", 'must be a table: [keys] with lines like flow.mark = "M"')
            return {}
        out: dict[str, str] = {}
        for command_id, value in _flatten(table).items():
            name = f"keys.{command_id}"
            if command_ids is not None and command_id not in command_ids:
                self.problem(name, "no command has this id (`flowtui config` lists them)", "keys")
                continue
            keys = _keys_value(value)
            if keys is None:
                self.problem(name, f'expected keys as text like "ctrl+m", not {value!r}', "keys")
                continue
            out[command_id] = keys
        return out

    def setting(self, name: str, value: object, themes: Collection[str] | None) -> Any:
        """The checked value of a top-level setting, or raises ValueError."""
        if name == "theme":
            if not isinstance(value, str):
                raise ValueError(f"expected a theme name, not {value!r}")
            if themes is not None and value not in themes:
                raise ValueError(f"unknown theme {value!r} (known: {', '.join(sorted(themes))})")
            return value
        if name == "view_mode":
            if value not in VIEW_MODES:
                raise ValueError(f"expected one of {', '.join(VIEW_MODES)}, not {value!r}")
            return value
        if name == "detail_delay":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not 0 <= float(value) <= 10:  # type: ignore[arg-type]
                raise ValueError(f"expected seconds from 0 to 10, not {value!r}")
            return float(value)  # type: ignore[arg-type]
        if name == "follow":
            if not isinstance(value, bool):
                raise ValueError(f"expected true or false, not {value!r}")
            return value
        if name == "max_memory":
            return parse_size(value)
        raise ValueError("unknown setting (known: keys, " + ", ".join(_SETTINGS) + ")")


_SETTINGS = ("theme", "view_mode", "detail_delay", "follow", "max_memory")


def load_config(
    path: Path | None = None,
    *,
    command_ids: Collection[str] | None = None,
    themes: Collection[str] | None = None,
    required: bool = False,
) -> tuple[Config, list[ConfigProblem]]:
    """Read the config file at `path` (default: `config_path()`).

    A missing file is no problem unless `required` (a path the user named); every
    other mistake is a problem and leaves that setting at its default.
    """
    path = config_path() if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            return Config(), [ConfigProblem(path, None, None, "no such file")]
        return Config(), []
    except (OSError, UnicodeDecodeError) as e:
        return Config(), [ConfigProblem(path, None, None, f"cannot read it: {e}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        where = re.search(r"\(at line (\d+), column \d+\)", str(e))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        line = int(where.group(1)) if where else None
        return Config(path=path), [ConfigProblem(path, line, None, f"not TOML: {message}")]
    reader = _Reader(path, text)
    values: dict[str, Any] = {"path": path}
    for name, value in data.items():
        if name == "keys":
            values["keys"] = reader.keys(value, command_ids)
            continue
        try:
            values[name] = reader.setting(name, value, themes)
        except ValueError as e:
            reader.problem(name, str(e))
    return Config(**values), reader.problems


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def effective_text(config: Config) -> str:
    """The effective settings as TOML (what ``flowtui config`` prints)."""
    out = []
    for f in fields(Config):
        value = getattr(config, f.name)
        if f.name in ("keys", "path"):
            continue
        if value is None:
            out.append(f"# {f.name}: default")
        else:
            out.append(f"{f.name} = {_toml(value)}")
    out.append("")
    out.append("[keys]")
    for command_id, keys in sorted(config.keys.items()):
        out.append(f"{_toml(command_id)} = {_toml(keys)}")
    return "\n".join(out) + "\n"


def default_text(commands: Collection[tuple[str, str, str]] = ()) -> str:
    """A commented default config file; `commands` are (id, default keys, title) rows
    listed as commented remapping examples."""
    lines = [
        "# flowtui's config file (TOML). Every setting is optional; a mistake is",
        "# reported with its file, line and key, and that setting keeps its default.",
        "",
        "# Any Textual theme: textual-dark, textual-light, nord, gruvbox, dracula, ...",
        '# theme = "textual-dark"',
        "",
        "# How the message viewer first shows a flow: auto, text or hex.",
        '# view_mode = "auto"',
        "",
        "# Seconds the detail panes wait for the cursor to rest (0: follow at once).",
        "# detail_delay = 0.05",
        "",
        "# Keep the newest flow in view (default: on when attached to a proxy).",
        "# follow = true",
        "",
        "# Most message content kept from a live proxy (flowtui attach).",
        '# max_memory = "512M"',
        "",
        "# Remap any command by its id, as mitmproxy's keys.yaml does: one or more",
        '# Textual key names, comma-separated ("ctrl+x,M") or a list (["ctrl+x", "M"]).',
        "[keys]",
    ]
    for command_id, keys, title in commands:
        lines.append(f"# {command_id} = {_toml(keys)}  # {title}")
    return "\n".join(lines) + "\n"
