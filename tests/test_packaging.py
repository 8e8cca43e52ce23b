"""What a user installs: a wheel built from this checkout, its metadata and its contents,
the sample opened from the installed package, and the addon's `sys.path` manners.

The wheel is built once per session with `pip wheel --no-deps` (in pip's isolated build
environment, which fetches the build backend named in pyproject.toml from the package index
unless pip's cache has it). Unpacking a pure-Python wheel is what installing it does, so
the unpacked tree stands for an installed flowtui.
"""

from __future__ import annotations

import email
import email.message
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import flowtui

ROOT = Path(__file__).resolve().parents[1]

_OFFLINE = (
    "Could not find a version that satisfies",
    "No matching distribution found",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy of what a source distribution holds: a build in the checkout would
    # leave build/ behind, whose stale files a later wheel would carry.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "flowtui", source / "flowtui", ignore=shutil.ignore_patterns("__pycache__")
    )
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0 and any(s in result.stderr for s in _OFFLINE):
        pytest.skip(
            "cannot build the wheel: pip's isolated build needs setuptools>=77 from the "
            f"package index, which is not reachable: {result.stderr.strip().splitlines()[-1]}"
        )
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("flowtui-*.whl")
    return built


@pytest.fixture(scope="module")
def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(zf.read(name))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked: a site directory holding only flowtui."""
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return site


def test_version_is_flowtui_dunder_version(metadata: email.message.Message) -> None:
    assert metadata["Version"] == flowtui.__version__


def test_license_is_pep_639(wheel: Path, metadata: email.message.Message) -> None:
    assert metadata["Metadata-Version"] >= "2.4"
    assert metadata["License-Expression"] == "MIT"
    assert metadata["License"] is None  # the deprecated free-text field
    assert metadata.get_all("License-File") == ["LICENSE"]
    with zipfile.ZipFile(wheel) as zf:
        (licence,) = [n for n in zf.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        text = zf.read(licence).decode()
    assert text.startswith("MIT License") and "flowtui developers" in text
    assert text == (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_classifiers_are_true(metadata: email.message.Message) -> None:
    classifiers = metadata.get_all("Classifier") or []
    assert not [c for c in classifiers if "Curses" in c]  # Textual does not use curses
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639: the expression


def test_published_requirements_are_ranges(metadata: email.message.Message) -> None:
    """Each requirement has a lower bound and no exact pin: the exact tested set lives in
    constraints.txt, which `make test` and CI install with `-c`."""
    from packaging.requirements import Requirement

    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist") or []]
    core = [r.name for r in requirements if r.marker is None]
    assert {"textual", "rich", "msgpack"} <= set(core)
    for req in requirements:
        operators = {s.operator for s in req.specifier}
        assert operators & {">=", "~="}, f"{req} has no lower bound"
        assert not operators & {"==", "==="}, f"{req} is pinned"
    pinned = {
        line.split("==")[0].lower()
        for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    missing = {r.name.lower() for r in requirements} - pinned
    assert missing == set(), f"requirements without an exact version in constraints.txt: {missing}"


def test_the_sample_and_styles_are_in_the_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        sample = zf.read("flowtui/sample/sample.flows")
    assert {"flowtui/py.typed", "flowtui/ui/flowtui.tcss"} <= names
    assert "flowtui/ui/widgets/message_view.py" in names  # every package, namespace or not
    assert sample == (ROOT / "flowtui/sample/sample.flows").read_bytes()
    assert not [n for n in names if n.startswith("tests/")]


def _run_installed(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m flowtui ARGS` with the installed tree first on the path, from elsewhere."""
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=site.parent,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )


def test_demo_finds_the_sample_in_the_installed_package(installed: Path) -> None:
    result = _run_installed(installed, "demo", "--path")
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == installed / "flowtui" / "sample" / "sample.flows"
    dump = _run_installed(installed, "dump", str(path))
    assert dump.returncode == 0 and len(dump.stdout.splitlines()) >= 10, dump.stderr


def test_demo_opens_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """`flowtui demo` hands the packaged sample to the UI, as `flowtui FILE` would."""
    from flowtui import cli, ui

    seen: list[list[Path]] = []
    monkeypatch.setattr(ui, "run_app", lambda paths: seen.append(paths) or 0)
    assert cli.main(["demo"]) == 0
    assert [[p.resolve() for p in paths] for paths in seen] == [
        [(ROOT / "flowtui/sample/sample.flows").resolve()]
    ]


_LOAD_ADDON = """
import sys
sys.path.append({site_packages!r})  # mitmproxy's own packages, as in its interpreter
sys.path.extend({extra!r})
from mitmproxy.addons.script import load_script
before = list(sys.path)
module = load_script({addon!r})
import flowtui
added = [p for p in sys.path if p not in before]
import json
print(json.dumps([flowtui.__file__, added, sys.path.index({site_packages!r})]))
print(json.dumps([sys.path.index(p) for p in added]))
"""


@pytest.mark.mitmproxy
@pytest.mark.parametrize("flowtui_importable", [False, True])
def test_addon_leaves_mitmproxy_first_on_sys_path(
    installed: Path, flowtui_importable: bool
) -> None:
    """mitmproxy loads the addon by path (`mitmdump -s`) with its own loader. Where flowtui
    is not importable, the addon appends the directory holding flowtui after mitmproxy's
    packages; where it is, the addon adds nothing (mitmproxy itself adds the script's own
    directory, which is not ours to change)."""
    pytest.importorskip("mitmproxy")
    import mitmproxy

    site_packages = str(Path(mitmproxy.__file__).resolve().parents[1])
    addon = str(installed / "flowtui" / "live" / "mitmproxy_addon.py")
    code = _LOAD_ADDON.format(
        site_packages=site_packages,
        extra=[str(installed)] if flowtui_importable else [],
        addon=addon,
    )
    # -S: no site-packages and so no editable install of flowtui; only mitmproxy's packages
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=installed.parent,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    flowtui_file, added, mitm_index = json.loads(first)
    indexes = json.loads(second)
    assert flowtui_file == str(installed / "flowtui" / "__init__.py")
    ours = [p for p in added if p != str(installed / "flowtui" / "live")]
    if flowtui_importable:
        assert ours == []
    else:
        assert ours == [str(installed)]
        assert indexes[added.index(str(installed))] > mitm_index
