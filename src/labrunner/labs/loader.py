"""Read lab.yaml into the model, validating every field; a fault is one line with its place.

    labs/x/lab.yaml: steps[2].checks[0]: checks.py has no function 'foo'
"""

from __future__ import annotations

import importlib.util
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from labrunner.errors import LabError
from labrunner.labs.model import (LEVELS, SUPPORTED_FORMAT, Lab, Mistake, Step, inside, one_line, read_text,
                                  shown)

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
FUNCTION_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
LAB_KEYS = {
    "format_version", "id", "title", "summary", "aws_services", "level", "minutes",
    "objectives", "services", "steps", "intro", "differences", "outro",
}
STEP_KEYS = {"id", "title", "text", "checks", "hints", "solution", "mistakes", "routes", "timeout"}
CODE_FILES = ("checks", "solutions", "mistakes", "routes")
OPTIONAL_CODE = ("mistakes", "routes")
# Bounds on what one lab may hold: generous for a real lab (the largest built-in one has 8 steps,
# a 453-character summary and 674-character hints), small enough that nothing can hang `show`.
MAX_LENGTH = {"title": 120, "summary": 1000, "item": 400, "hint": 4000, "expect": 400, "path": 200}
MAX_ITEMS = {"steps": 50, "objectives": 20, "aws_services": 10, "services": 10, "checks": 30, "hints": 6,
             "mistakes": 20, "routes": 20}
MAX_TIMEOUT = 600.0


class _Place:
    """Builds `labs/x/lab.yaml: steps[2].checks[0]: message` errors."""

    def __init__(self, file: Path):
        self.file = file

    def fail(self, where: str, message: str, fix: str | None = None) -> LabError:
        prefix = f"{shown(self.file)}: {where}: " if where else f"{shown(self.file)}: "
        return LabError(prefix + message, fix)


def _brief(value) -> str:
    """A value for a message: short whatever its size (never the whole of a 10 MB string)."""
    import reprlib

    brief = reprlib.Repr()
    brief.maxstring, brief.maxother, brief.maxlist, brief.maxdict, brief.maxlevel = 60, 60, 4, 4, 2
    return brief.repr(value)


def _get(data: dict, key: str, kind, place: _Place, where: str, default=...):
    if key not in data:
        if default is ...:
            return place.fail(where, f"missing required field '{key}'")
        return default
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
        names = "/".join(k.__name__ for k in kinds)
        return place.fail(
            f"{where}.{key}" if where else key,
            f"expected {_kind_word(names)}, found {_kind_word(type(value).__name__)} {_brief(value)}",
        )
    return value


def _kind_word(name: str) -> str:
    return {"str": "text", "list": "a list", "dict": "a mapping", "int": "a whole number",
            "float": "a number", "int/float": "a number", "NoneType": "nothing"}.get(name, name)


def _check(value):
    if isinstance(value, LabError):
        raise value
    return value


def _text(data: dict, key: str, place: _Place, where: str, limit: str, default=...) -> str:
    """A text field, non-blank and at most MAX_LENGTH[limit] characters."""
    value = _check(_get(data, key, str, place, where, default))
    label = f"{where}.{key}" if where else key
    if not value.strip():
        raise place.fail(label, "is empty")
    if len(value) > MAX_LENGTH[limit]:
        raise place.fail(label, f"is {len(value)} characters long; at most {MAX_LENGTH[limit]}")
    if limit == "title" and one_line(value) != value:
        raise place.fail(label, f"{_brief(value)} must be one line of text")
    return value


def _str_list(data: dict, key: str, place: _Place, where: str, *, min_items: int = 1, limit: str = "item",
              pattern: re.Pattern | None = None) -> tuple:
    items = _check(_get(data, key, list, place, where))
    label = f"{where}.{key}" if where else key
    if len(items) < min_items:
        raise place.fail(label, f"needs at least {min_items} item(s)")
    if len(items) > MAX_ITEMS[key]:
        raise place.fail(label, f"has {len(items)} items; at most {MAX_ITEMS[key]}")
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise place.fail(f"{label}[{i}]", f"expected non-empty text, found {_brief(item)}")
        if len(item) > MAX_LENGTH[limit]:
            raise place.fail(f"{label}[{i}]", f"is {len(item)} characters long; at most {MAX_LENGTH[limit]}")
        if pattern and not pattern.fullmatch(item):
            raise place.fail(f"{label}[{i}]", f"{_brief(item)} is not a Python function name")
    return tuple(items)


def _function(data: dict, key: str, place: _Place, where: str) -> str:
    name = _check(_get(data, key, str, place, where))
    if not FUNCTION_PATTERN.fullmatch(name):
        raise place.fail(f"{where}.{key}", f"{_brief(name)} is not a Python function name")
    return name


def _keys(data: dict, known: set, place: _Place, where: str) -> None:
    """Every key is text and known."""
    for key in data:
        if not isinstance(key, str):
            raise place.fail(where, f"field names are text; found {_brief(key)}")
    unknown = sorted(set(data) - known)
    if unknown:
        label = f"{where}.{unknown[0]:.40}" if where else f"{unknown[0]:.40}"
        raise place.fail(label, f"unknown field (known: {', '.join(sorted(known))})")


def _file(lab_dir: Path, relative: str, place: _Place, where: str, root: Path) -> str:
    """A file the lab names: inside its own folder, UTF-8, not too large."""
    if len(relative) > MAX_LENGTH["path"]:
        raise place.fail(where, f"a path of {len(relative)} characters; at most {MAX_LENGTH['path']}")
    try:
        path = inside(lab_dir, relative, root)
    except ValueError as exc:
        raise place.fail(where, str(exc)) from None
    read_text(path)
    return relative


def _no_links_out(lab_dir: Path, place: _Place, root: Path) -> None:
    """No symlink in the lab folder leads outside it (workspace files are copied to the learner)."""
    import os

    inside_root = str(root) + os.sep
    folders = [str(lab_dir)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    if not os.path.realpath(entry.path).startswith(inside_root):
                        raise place.fail("", f"{shown(Path(entry.path))} is a symlink that leads outside the lab "
                                             "folder", "copy the file into the lab folder")
                elif entry.is_dir():
                    folders.append(entry.path)


def parse_lab(lab_dir: Path, source: str = "built-in") -> Lab:
    """Parse and validate lab.yaml (not yet the Python files: see `load_code`)."""
    from labrunner.labs import strict_yaml

    file = lab_dir / "lab.yaml"
    place = _Place(file)
    if file.is_symlink() or not file.is_file():
        raise place.fail("", "is not a plain file in the lab folder")
    try:
        data = strict_yaml.load(read_text(file))
    except strict_yaml.Refused as exc:
        raise place.fail(f"line {exc.line}" if exc.line else "", f"not valid YAML: {exc.problem}") from None
    if not isinstance(data, dict):
        raise place.fail("", "expected a mapping of fields (format_version, id, title, ...)")

    version = _check(_get(data, "format_version", int, place, ""))
    if version > SUPPORTED_FORMAT:
        raise LabError(
            f"{shown(file)}: format_version {_brief(version)} is newer than this labrunner reads "
            f"(up to {SUPPORTED_FORMAT})",
            "update labrunner: pip install --upgrade labrunner",
        )
    if version < 1:
        raise place.fail("format_version", f"must be 1 or more, found {_brief(version)}")
    _keys(data, LAB_KEYS, place, "")

    lab_id = _check(_get(data, "id", str, place, ""))
    if not ID_PATTERN.fullmatch(lab_id):
        raise place.fail("id", f"{_brief(lab_id)} must be lower-case letters, digits and dashes (at most 64)")
    if lab_id != lab_dir.name:
        raise place.fail("id", f"'{lab_id}' differs from its folder name {_brief(lab_dir.name)}")
    level = _check(_get(data, "level", str, place, ""))
    if level not in LEVELS:
        raise place.fail("level", f"{_brief(level)} is not one of {', '.join(LEVELS)}")
    minutes = _check(_get(data, "minutes", int, place, ""))
    if not 1 <= minutes <= 600:
        raise place.fail("minutes", f"{_brief(minutes)} is outside 1..600")

    from labrunner import services

    service_names = _str_list(data, "services", place, "")
    for i, name in enumerate(service_names):
        if name not in services.names():
            raise place.fail(f"services[{i}]", f"unknown service {_brief(name)} (known: {', '.join(services.names())})")

    root = lab_dir.resolve()
    files = {}
    for key in ("intro", "differences", "outro"):
        files[key] = _file(lab_dir, _check(_get(data, key, str, place, "", default=f"{key}.md")), place, key, root)

    raw_steps = _check(_get(data, "steps", list, place, ""))
    if not raw_steps:
        raise place.fail("steps", "a lab needs at least one step")
    if len(raw_steps) > MAX_ITEMS["steps"]:
        raise place.fail("steps", f"has {len(raw_steps)} steps; at most {MAX_ITEMS['steps']}")
    steps = [_step(raw, i, lab_dir, place, root) for i, raw in enumerate(raw_steps)]
    for i, step in enumerate(steps):
        if step.id in [s.id for s in steps[:i]]:
            raise place.fail(f"steps[{i}].id", f"'{step.id}' is used by an earlier step")
    _no_links_out(lab_dir, place, root)

    return Lab(
        id=lab_id,
        title=_text(data, "title", place, "", "title"),
        summary=_text(data, "summary", place, "", "summary"),
        aws_services=_str_list(data, "aws_services", place, ""),
        level=level,
        minutes=minutes,
        objectives=_str_list(data, "objectives", place, ""),
        services=service_names,
        steps=tuple(steps),
        path=lab_dir,
        format_version=version,
        source=source,
        **files,
    )


def _step(raw, i: int, lab_dir: Path, place: _Place, root: Path) -> Step:
    where = f"steps[{i}]"
    if not isinstance(raw, dict):
        raise place.fail(where, "expected a mapping (id, title, text, checks, hints, solution)")
    _keys(raw, STEP_KEYS, place, where)
    step_id = _check(_get(raw, "id", str, place, where))
    if not ID_PATTERN.fullmatch(step_id):
        raise place.fail(f"{where}.id", f"{_brief(step_id)} must be lower-case letters, digits and dashes "
                                        "(at most 64)")
    text = _file(lab_dir, _check(_get(raw, "text", str, place, where)), place, f"{where}.text", root)
    raw_mistakes = _check(_get(raw, "mistakes", list, place, where, default=[]))
    if len(raw_mistakes) > MAX_ITEMS["mistakes"]:
        raise place.fail(f"{where}.mistakes", f"has {len(raw_mistakes)} items; at most {MAX_ITEMS['mistakes']}")
    mistakes = []
    for j, m in enumerate(raw_mistakes):
        mwhere = f"{where}.mistakes[{j}]"
        if not isinstance(m, dict) or set(m) != {"apply", "expect"}:
            raise place.fail(mwhere, "expected a mapping with 'apply' and 'expect'")
        mistakes.append(Mistake(apply=_function(m, "apply", place, mwhere),
                                expect=_text(m, "expect", place, mwhere, "expect")))
    timeout = _check(_get(raw, "timeout", (int, float), place, where, default=20.0))
    if not 0 < timeout <= MAX_TIMEOUT:               # also refuses .nan and .inf
        raise place.fail(f"{where}.timeout", f"{_brief(timeout)} seconds is outside 0..{MAX_TIMEOUT:g}")
    return Step(
        id=step_id,
        title=_text(raw, "title", place, where, "title"),
        text=text,
        checks=_str_list(raw, "checks", place, where, pattern=FUNCTION_PATTERN),
        hints=_str_list(raw, "hints", place, where, limit="hint"),
        solution=_function(raw, "solution", place, where),
        mistakes=tuple(mistakes),
        routes=_str_list(raw, "routes", place, where, pattern=FUNCTION_PATTERN) if "routes" in raw else (),
        timeout=float(timeout),
    )


def load_code(lab: Lab) -> Lab:
    """Import checks.py, solutions.py (and mistakes.py, routes.py) and check every name lab.yaml uses."""
    if lab.modules:
        return lab
    import_code(lab)
    missing = missing_functions(lab)
    if missing:
        lab.modules.clear()
        raise _Place(lab.path / "lab.yaml").fail(*missing[0])
    return lab


def import_code(lab: Lab) -> None:
    """Import the lab's Python files into lab.modules (their names not yet checked)."""
    for name in CODE_FILES:
        path = lab.path / f"{name}.py"
        if not path.exists():
            if name in OPTIONAL_CODE:
                continue
            raise LabError(f"{shown(path)}: file not found", "every lab needs checks.py and solutions.py")
        try:
            lab.modules[name] = import_file(f"labrunner_lab_{lab.id.replace('-', '_')}_{name}", path)
        except LabError:
            lab.modules.clear()
            raise


def missing_functions(lab: Lab) -> list[tuple[str, str]]:
    """(where, message) for every function lab.yaml names that its module lacks; code loaded."""
    found = []

    def need(module_name: str, function: str, where: str):
        if not callable(getattr(lab.modules.get(module_name), function, None)):
            found.append((where, f"{module_name}.py has no function '{function}'"))

    for i, step in enumerate(lab.steps):
        for j, check in enumerate(step.checks):
            need("checks", check, f"steps[{i}].checks[{j}]")
        need("solutions", step.solution, f"steps[{i}].solution")
        for j, mistake in enumerate(step.mistakes):
            need("mistakes", mistake.apply, f"steps[{i}].mistakes[{j}].apply")
        for j, route in enumerate(step.routes):
            need("routes", route, f"steps[{i}].routes[{j}]")
    return found


def import_file(module_name: str, path: Path) -> ModuleType:
    """Run a lab's Python file as a module. Whatever it does at import (a syntax error, an
    exception, sys.exit) is the lab's fault: a LabError naming the file and line."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        with _no_hard_exit():
            spec.loader.exec_module(module)
    except _HardExit as exc:
        sys.modules.pop(module_name, None)
        raise LabError(f"{_where_in_lab(exc, path)} called os._exit({_brief(exc.code)}) at import",
                       "a lab's code must not exit: raise an exception, or fail a check") from None
    except LabError:                       # from a labs/_shared module it loads: already placed
        sys.modules.pop(module_name, None)
        raise
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise LabError(f"{shown(Path(exc.filename or path))}:{exc.lineno}: {exc.msg}") from None
    except SystemExit as exc:
        sys.modules.pop(module_name, None)
        what = "raised SystemExit" if exc.code is None else f"called sys.exit({_brief(exc.code)})"
        raise LabError(f"{_where_in_lab(exc, path)} {what} at import",
                       "a lab's code must not exit: raise an exception, or fail a check") from None
    except Exception as exc:  # a lab's module failing at import is the lab's fault
        sys.modules.pop(module_name, None)
        raise LabError(f"{_where_in_lab(exc, path)}: fails on import: {type(exc).__name__}: "
                       f"{str(exc)[:200]}") from None
    return module


class _HardExit(BaseException):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


@contextmanager
def _no_hard_exit():
    """While a lab's file is imported, os._exit raises instead of ending labrunner without a
    word (a crash in C code or os.kill of itself still can: that needs a separate process).
    A call from elsewhere meanwhile, or a reference kept for later, still exits."""
    import os
    import threading

    real = os._exit
    importer = threading.get_ident()

    def guarded(code):
        if threading.get_ident() == importer:
            raise _HardExit(code)
        real(code)

    os._exit = guarded
    try:
        yield
    finally:
        os._exit = real


def _where_in_lab(exc: BaseException, path: Path) -> str:
    """`labs/x/checks.py line 3`: the deepest frame of the traceback in the labs folder."""
    import traceback

    labs = path.resolve().parent.parent
    place = shown(path)
    for frame in traceback.extract_tb(exc.__traceback__):
        file = Path(frame.filename)
        if file.is_absolute() and labs in file.resolve().parents:
            place = f"{shown(file)} line {frame.lineno}"
    return place
