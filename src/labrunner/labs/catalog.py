"""Find labs: the built-in ones, then folders from --labs-dir and LABRUNNER_LABS_PATH."""

from __future__ import annotations

import os
from pathlib import Path

from labrunner.errors import LabError, UsageError
from labrunner.labs.loader import load_code, parse_lab
from labrunner.labs.model import Lab

_extra_dirs: list[Path] = []


def add_labs_dir(path: Path) -> None:
    """Called for --labs-dir: a teacher's own labs, searched before the built-in ones."""
    if not path.is_dir():
        raise UsageError(f"--labs-dir {path}: no such folder", "give a folder that holds <lab-id>/lab.yaml")
    _extra_dirs.append(path)


def builtin_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    bundled = here / "bundled_labs"          # inside an installed wheel
    if bundled.is_dir():
        return bundled
    return here.parent.parent / "labs"      # a source checkout (editable install)


def search_dirs() -> list[tuple[Path, str]]:
    dirs = [(d, str(d)) for d in _extra_dirs]
    for entry in os.environ.get("LABRUNNER_LABS_PATH", "").split(os.pathsep):
        if entry:
            dirs.append((Path(entry).expanduser(), entry))
    installed = installed_labs_dir()
    if installed.is_dir():
        dirs.append((installed, "class bundle"))
    dirs.append((builtin_dir(), "built-in"))
    return dirs


def installed_labs_dir() -> Path:
    """Where `labrunner prepare --from` puts a class bundle's labs."""
    from labrunner import paths

    return paths.data_dir() / "labs"


def lab_dirs() -> dict[str, tuple[Path, str]]:
    """Lab id -> (folder, source); an earlier folder wins over a later one."""
    found: dict[str, tuple[Path, str]] = {}
    for base, source in search_dirs():
        try:
            children = sorted(base.iterdir()) if base.is_dir() else []
        except OSError:                    # a folder we may not read holds no labs for us
            continue
        for child in children:
            if (child / "lab.yaml").is_file() and child.name not in found:
                found[child.name] = (child, source)
    return found


def all_labs() -> list[Lab | LabError]:
    """Every lab, parsed; a malformed one appears as its error (with `lab_id`, `path` and `source`
    set on it) so `list` can show the good ones and one line for each broken one."""
    labs: list[Lab | LabError] = []
    for lab_id, (path, source) in lab_dirs().items():
        try:
            labs.append(parse_lab(path, source))
        except LabError as exc:
            exc.lab_id, exc.path, exc.source = lab_id, path, source
            labs.append(exc)
    return labs


def get(lab_id: str, *, with_code: bool = True) -> Lab:
    dirs = lab_dirs()
    if lab_id not in dirs:
        import difflib

        close = difflib.get_close_matches(lab_id, list(dirs), n=1, cutoff=0.5)
        fix = f"did you mean '{close[0]}'?" if close else "see `labrunner list`"
        raise UsageError(f"no lab named '{lab_id}'", fix)
    path, source = dirs[lab_id]
    lab = parse_lab(path, source)
    return load_code(lab) if with_code else lab
