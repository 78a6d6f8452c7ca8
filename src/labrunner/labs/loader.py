"""Read lab.yaml into the model, validating every field; a fault is one line with its place.

    labs/x/lab.yaml: steps[2].checks[0]: checks.py has no function 'foo'
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from labrunner.errors import LabError
from labrunner.labs.model import LEVELS, SUPPORTED_FORMAT, Lab, Mistake, Step

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LAB_KEYS = {
    "format_version", "id", "title", "summary", "aws_services", "level", "minutes",
    "objectives", "services", "steps", "intro", "differences", "outro",
}
STEP_KEYS = {"id", "title", "text", "checks", "hints", "solution", "mistakes", "routes", "timeout"}
CODE_FILES = ("checks", "solutions", "mistakes", "routes")
OPTIONAL_CODE = ("mistakes", "routes")


class _Place:
    """Builds `labs/x/lab.yaml: steps[2].checks[0]: message` errors."""

    def __init__(self, file: Path):
        self.file = file

    def fail(self, where: str, message: str) -> LabError:
        prefix = f"{_shown(self.file)}: {where}: " if where else f"{_shown(self.file)}: "
        return LabError(prefix + message)


def _shown(path: Path) -> str:
    """A lab path as a person would write it: relative to the labs folder's parent."""
    parts = path.parts
    if "labs" in parts:
        return str(Path(*parts[len(parts) - parts[::-1].index("labs") - 1:]))
    if "bundled_labs" in parts:
        return "labs/" + str(Path(*parts[len(parts) - parts[::-1].index("bundled_labs"):]))
    return str(path)


def _get(data: dict, key: str, kind, place: _Place, where: str, default=...):
    if key not in data:
        if default is ...:
            return place.fail(where, f"missing required field '{key}'")
        return default
    value = data[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        return place.fail(
            f"{where}.{key}" if where else key,
            f"expected {_kind_word(names)}, found {_kind_word(type(value).__name__)} {value!r:.60}",
        )
    return value


def _kind_word(name: str) -> str:
    return {"str": "text", "list": "a list", "dict": "a mapping", "int": "a whole number",
            "float": "a number", "int/float": "a number", "NoneType": "nothing"}.get(name, name)


def _check(value):
    if isinstance(value, LabError):
        raise value
    return value


def _str_list(data: dict, key: str, place: _Place, where: str, *, min_items: int = 1) -> tuple:
    items = _check(_get(data, key, list, place, where))
    label = f"{where}.{key}" if where else key
    if len(items) < min_items:
        raise place.fail(label, f"needs at least {min_items} item(s)")
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise place.fail(f"{label}[{i}]", f"expected non-empty text, found {item!r:.60}")
    return tuple(items)


def parse_lab(lab_dir: Path, source: str = "built-in") -> Lab:
    """Parse and validate lab.yaml (not yet the Python files: see `load_code`)."""
    import yaml

    file = lab_dir / "lab.yaml"
    place = _Place(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise place.fail("", f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when present
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise place.fail(where, f"not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise place.fail("", "expected a mapping of fields (format_version, id, title, ...)")

    version = _check(_get(data, "format_version", int, place, ""))
    if version > SUPPORTED_FORMAT:
        raise LabError(
            f"{_shown(file)}: format_version {version} is newer than this labrunner reads "
            f"(up to {SUPPORTED_FORMAT})",
            "update labrunner: pip install --upgrade labrunner",
        )
    if version < 1:
        raise place.fail("format_version", f"must be 1 or more, found {version}")
    unknown = sorted(set(data) - LAB_KEYS)
    if unknown:
        raise place.fail(unknown[0], f"unknown field (known: {', '.join(sorted(LAB_KEYS))})")

    lab_id = _check(_get(data, "id", str, place, ""))
    if not ID_PATTERN.match(lab_id):
        raise place.fail("id", f"'{lab_id}' must be lower-case letters, digits and dashes")
    if lab_id != lab_dir.name:
        raise place.fail("id", f"'{lab_id}' differs from its folder name '{lab_dir.name}'")
    level = _check(_get(data, "level", str, place, ""))
    if level not in LEVELS:
        raise place.fail("level", f"'{level}' is not one of {', '.join(LEVELS)}")
    minutes = _check(_get(data, "minutes", int, place, ""))
    if not 1 <= minutes <= 600:
        raise place.fail("minutes", f"{minutes} is outside 1..600")

    from labrunner import services

    service_names = _str_list(data, "services", place, "")
    for i, name in enumerate(service_names):
        if name not in services.names():
            raise place.fail(f"services[{i}]", f"unknown service '{name}' (known: {', '.join(services.names())})")

    files = {}
    for key in ("intro", "differences", "outro"):
        files[key] = _check(_get(data, key, str, place, "", default=f"{key}.md"))
        if not (lab_dir / files[key]).is_file():
            raise place.fail(key, f"file '{files[key]}' not found in {_shown(lab_dir)}")

    raw_steps = _check(_get(data, "steps", list, place, ""))
    if not raw_steps:
        raise place.fail("steps", "a lab needs at least one step")
    steps, seen = [], set()
    for i, raw in enumerate(raw_steps):
        where = f"steps[{i}]"
        if not isinstance(raw, dict):
            raise place.fail(where, "expected a mapping (id, title, text, checks, hints, solution)")
        unknown = sorted(set(raw) - STEP_KEYS)
        if unknown:
            raise place.fail(f"{where}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(STEP_KEYS))})")
        step_id = _check(_get(raw, "id", str, place, where))
        if not ID_PATTERN.match(step_id):
            raise place.fail(f"{where}.id", f"'{step_id}' must be lower-case letters, digits and dashes")
        if step_id in seen:
            raise place.fail(f"{where}.id", f"'{step_id}' is used by an earlier step")
        seen.add(step_id)
        text = _check(_get(raw, "text", str, place, where))
        if not (lab_dir / text).is_file():
            raise place.fail(f"{where}.text", f"file '{text}' not found in {_shown(lab_dir)}")
        mistakes = []
        for j, m in enumerate(_check(_get(raw, "mistakes", list, place, where, default=[]))):
            mwhere = f"{where}.mistakes[{j}]"
            if not isinstance(m, dict) or set(m) != {"apply", "expect"}:
                raise place.fail(mwhere, "expected a mapping with 'apply' and 'expect'")
            mistakes.append(Mistake(apply=_check(_get(m, "apply", str, place, mwhere)),
                                    expect=_check(_get(m, "expect", str, place, mwhere))))
        timeout = _check(_get(raw, "timeout", (int, float), place, where, default=20.0))
        steps.append(Step(
            id=step_id,
            title=_check(_get(raw, "title", str, place, where)),
            text=text,
            checks=_str_list(raw, "checks", place, where),
            hints=_str_list(raw, "hints", place, where),
            solution=_check(_get(raw, "solution", str, place, where)),
            mistakes=tuple(mistakes),
            routes=_str_list(raw, "routes", place, where) if "routes" in raw else (),
            timeout=float(timeout),
        ))

    return Lab(
        id=lab_id,
        title=_check(_get(data, "title", str, place, "")),
        summary=_check(_get(data, "summary", str, place, "")),
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


def load_code(lab: Lab) -> Lab:
    """Import checks.py, solutions.py (and mistakes.py) and check every name lab.yaml uses."""
    if lab.modules:
        return lab
    place = _Place(lab.path / "lab.yaml")
    for name in CODE_FILES:
        path = lab.path / f"{name}.py"
        if not path.exists():
            if name in OPTIONAL_CODE:
                continue
            raise LabError(f"{_shown(path)}: file not found", "every lab needs checks.py and solutions.py")
        lab.modules[name] = _import(lab, name, path)
    for i, step in enumerate(lab.steps):
        for j, check in enumerate(step.checks):
            if not callable(getattr(lab.modules["checks"], check, None)):
                raise place.fail(f"steps[{i}].checks[{j}]", f"checks.py has no function '{check}'")
        if not callable(getattr(lab.modules["solutions"], step.solution, None)):
            raise place.fail(f"steps[{i}].solution", f"solutions.py has no function '{step.solution}'")
        for j, mistake in enumerate(step.mistakes):
            module = lab.modules.get("mistakes")
            if not callable(getattr(module, mistake.apply, None)):
                raise place.fail(f"steps[{i}].mistakes[{j}].apply", f"mistakes.py has no function '{mistake.apply}'")
        for j, route in enumerate(step.routes):
            if not callable(getattr(lab.modules.get("routes"), route, None)):
                raise place.fail(f"steps[{i}].routes[{j}]", f"routes.py has no function '{route}'")
    return lab


def _import(lab: Lab, name: str, path: Path) -> ModuleType:
    module_name = f"labrunner_lab_{lab.id.replace('-', '_')}_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise LabError(f"{_shown(path)}:{exc.lineno}: {exc.msg}") from None
    except Exception as exc:  # a lab's module failing at import is the lab's fault
        sys.modules.pop(module_name, None)
        raise LabError(f"{_shown(path)}: fails on import: {type(exc).__name__}: {exc}") from None
    return module
