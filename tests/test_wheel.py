"""The wheel a learner installs: built for real from this tree, opened, and installed into a fresh
virtual environment where `labrunner list` must find every lab from the wheel alone."""

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel` of this tree with the project's build backend (hatchling). Without hatchling in this
    environment pip fetches it into an isolated build environment from the package index."""
    out = tmp_path_factory.mktemp("wheel")
    no_isolation = ["--no-build-isolation"] if importlib.util.find_spec("hatchling") else []
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *no_isolation,
                             "--quiet", "-w", str(out), str(REPO)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("labrunner-*.whl")
    return built


def test_the_wheel_ships_every_lab_file_and_compose_file(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    bundled_labs = {n[len("labrunner/bundled_labs/"):] for n in names if n.startswith("labrunner/bundled_labs/")}
    bundled_compose = {n[len("labrunner/bundled_compose/"):] for n in names if n.startswith("labrunner/bundled_compose/")}
    lab_ids = sorted(p.parent.name for p in (REPO / "labs").glob("*/lab.yaml"))
    assert lab_ids and all(f"{lab_id}/lab.yaml" in bundled_labs for lab_id in lab_ids)
    assert sorted(_files(REPO / "labs") - bundled_labs) == []          # texts, code, workspace, _shared
    assert sorted(_files(REPO / "compose") - bundled_compose) == []
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "labrunner/cli/__init__.py" in names and "labrunner/services/__init__.py" in names


def test_an_installed_wheel_lists_and_loads_every_lab(wheel, tmp_path):
    """A fresh venv holding only the wheel (its dependencies reached through a .pth line to this
    environment's site-packages, which the venv's own labrunner comes before): `labrunner list` lists
    every lab from the wheel's bundled copy, and every lab's code loads."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                              "--no-index", "--quiet", str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LABRUNNER_", "VIRTUAL_ENV"))}
    env["LABRUNNER_HOME"] = str(tmp_path / "home")
    script = venv / ("Scripts/labrunner.exe" if os.name == "nt" else "bin/labrunner")
    listing = subprocess.run([str(script), "list", "--json"], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=120)
    assert listing.returncode == 0, listing.stderr
    report = json.loads(listing.stdout)
    lab_ids = sorted(p.parent.name for p in (REPO / "labs").glob("*/lab.yaml"))
    assert sorted(lab["id"] for lab in report["labs"]) == lab_ids and report["broken"] == []
    assert {lab["source"] for lab in report["labs"]} == {"built-in"}
    probe = ("import json, labrunner\nfrom labrunner.labs import catalog\n"
             "print(json.dumps({'package': labrunner.__file__, 'labs': str(catalog.builtin_dir()),\n"
             "                  'loaded': sorted(catalog.get(i).id for i in catalog.lab_dirs())}))")
    loaded = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    where = json.loads(loaded.stdout)
    assert Path(where["package"]).is_relative_to(site) and Path(where["labs"]) == site / "labrunner" / "bundled_labs"
    assert where["loaded"] == lab_ids
