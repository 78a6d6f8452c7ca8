"""Code that several labs share (e.g. the MySQL and MariaDB labs' checks) lives in
labs/_shared/<name>.py, beside the labs, not in labrunner: it is lab content.

    # labs/rds-mysql-basics/checks.py
    from labrunner.labs.shared import export
    export("mysql_bookshop", "CHECKS", globals(), __file__)
"""

from __future__ import annotations

from pathlib import Path

from labrunner.errors import LabError
from labrunner.labs.model import shown


def load(name: str, near: str):
    """Import labs/_shared/<name>.py from the labs folder that holds the file `near` (a lab's
    file, or another file in _shared). Its faults at import, sys.exit included, are LabErrors
    naming its file and line."""
    from labrunner.labs.loader import FUNCTION_PATTERN, import_file

    if not isinstance(name, str) or not FUNCTION_PATTERN.fullmatch(name):
        raise LabError(f"{shown(Path(near))}: shared lab code {name!r:.60} is not a plain module name")
    here = Path(near).resolve().parent
    path = (here if here.name == "_shared" else here.parent / "_shared") / f"{name}.py"
    if not path.is_file():
        raise LabError(f"{shown(Path(near))}: shared lab code '{name}' not found at labs/_shared/{name}.py")
    return import_file(f"labrunner_shared_{name}", path)


def export(name: str, kind: str, namespace: dict, near: str) -> None:
    """Put the functions a shared module lists under `kind` (CHECKS, SOLUTIONS, MISTAKES) into a
    lab's module, so lab.yaml names them as if they were written there."""
    module = load(name, near)
    for function in getattr(module, kind):
        namespace[function] = getattr(module, function)
