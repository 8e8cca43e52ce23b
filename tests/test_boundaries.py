"""The package layering holds (STYLE.md point 1 and the import contracts in pyproject.toml).

Two checks: import-linter's contracts over the static import graph (run here as in
`make lint` and CI, and shown to catch a planted violation), and a fresh interpreter per
headless package asserting Textual and Rich never load, which also sees the imports made
at run time (`importlib.import_module`) that a static graph cannot.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.skip(f"import-linter is not installed beside {sys.executable} (the dev extra)")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "flowtui/core/flow.py",
            "import textual.widget",
            "core, io, store and export import neither",
        ),
        ("flowtui/io/reader.py", "import rich.text", "core, io, store and export import neither"),
        ("flowtui/core/flow.py", "import flowtui.io.reader", "cli -> ui -> live"),
        ("flowtui/io/reader.py", "import flowtui.live.client", "cli -> ui -> live"),
        ("flowtui/io/writer.py", "import flowtui.store", "cli -> ui -> live"),
        ("flowtui/store/view.py", "import rich.text", "core, io, store and export import neither"),
        ("flowtui/export/har.py", "import rich.text", "core, io, store and export import neither"),
        ("flowtui/export/har.py", "import flowtui.store", "cli -> ui -> live"),
        ("flowtui/live/client.py", "import flowtui.ui.messages", "live imports no UI"),
        ("flowtui/live/relay.py", "import mitmproxy.flow", "only flowtui.live.mitmproxy_addon"),
        ("flowtui/ui/widgets/message_rows.py", "import textual.app", "the message document"),
    ],
)
def test_contracts_catch_a_planted_violation(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """A copy of the package with one forbidden import added breaks the named contract."""
    shutil.copytree(ROOT / "flowtui", tmp_path / "flowtui", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [ln for ln in result.stdout.splitlines() if " BROKEN" in ln]
    assert any(b.startswith(contract) for b in broken), result.stdout


def test_every_package_is_in_the_layers() -> None:
    """A new subpackage of flowtui (say `flowtui.store`) must be given its place in the
    layers, and a headless one must be in the no-Textual contract: import-linter itself
    ignores a package that no contract names."""
    contracts = _contracts()
    layers = {
        name.strip().strip("()")
        for layer in contracts["layers"]["layers"]  # type: ignore[attr-defined]
        for name in re.split(r"[:|]", layer)
    }
    headless = set(contracts["headless"]["source_modules"])  # type: ignore[call-overload]
    packages = {
        f"flowtui.{p.name}" for p in (ROOT / "flowtui").iterdir() if (p / "__init__.py").exists()
    }
    assert packages <= layers, f"not in the layers contract: {sorted(packages - layers)}"
    missing = packages - {"flowtui.ui", "flowtui.live"} - headless
    assert not missing, f"not in the headless contract: {sorted(missing)}"


def test_every_directory_of_modules_is_a_regular_package() -> None:
    """import-linter's graph skips a directory without `__init__.py` (a namespace
    package) and every import made in it: no contract would see its modules."""
    namespace = sorted(
        d.relative_to(ROOT).as_posix()
        for d in (ROOT / "flowtui").rglob("*")
        if d.is_dir() and any(d.glob("*.py")) and not (d / "__init__.py").exists()
    )
    assert namespace == []


def _loaded_in_fresh_interpreter(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {prefixes!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    return [m for m in out.split(",") if m]


def _modules_under(package: str) -> list[str]:
    """Every module of a package of this checkout, found on disk (a new one is included)."""
    base = ROOT / package.replace(".", "/")
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in base.rglob("*.py")
    )


HEADLESS = sorted(
    f"flowtui.{p.name}"
    for p in (ROOT / "flowtui").iterdir()
    if (p / "__init__.py").exists() and p.name not in ("ui", "live")
)
"""core, io and (once it exists) store: every subpackage but the UI and the live socket."""


@pytest.mark.parametrize("package", HEADLESS)
def test_headless_modules_load_neither_textual_nor_rich(package: str) -> None:
    modules = _modules_under(package)
    assert len(modules) > 1
    loaded = _loaded_in_fresh_interpreter(modules, ("textual", "rich"))
    assert loaded == [], f"{package} imported {loaded}"


def test_cli_loads_no_textual_until_the_app_runs() -> None:
    loaded = _loaded_in_fresh_interpreter(["flowtui.cli", "flowtui.sanitize"], ("textual",))
    assert loaded == [], f"flowtui.cli imported {loaded}"


def test_live_loads_no_ui_and_no_mitmproxy() -> None:
    """The live socket (all of it but the addon) runs without Textual and without mitmproxy."""
    modules = [m for m in _modules_under("flowtui.live") if m != "flowtui.live.mitmproxy_addon"]
    loaded = _loaded_in_fresh_interpreter(modules, ("textual", "rich", "mitmproxy"))
    loaded += [
        m for m in _loaded_in_fresh_interpreter(modules, ("flowtui",)) if m.startswith("flowtui.ui")
    ]
    assert loaded == [], f"flowtui.live imported {loaded}"


def test_ui_package_import_is_light() -> None:
    """`import flowtui.ui` (what the CLI does) loads Textual only when the app runs."""
    code = "import sys, flowtui.ui; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"
