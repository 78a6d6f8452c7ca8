"""The learner's folder for a lab: starter files copied in once, never overwritten.

Solutions that write workspace files first keep the learner's version in
.labrunner-backup/, so nothing a learner wrote is ever lost.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from labrunner import paths
from labrunner.errors import LabError, UsageError

BACKUP_DIR = ".labrunner-backup"
# Folders that are the system's, never a learner's: starter files are not written there.
SYSTEM_FOLDERS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
                  "/sbin", "/sys", "/usr", "/var/lib", "/var/log", "/var/cache", "/var/spool", "/System",
                  "/Library", "/private/etc", "/private/var/db")


class Workspace:
    def __init__(self, path: Path, lab, *, replay: bool = False):
        self.path = Path(path)
        self.lab = lab
        self.replay = replay     # replaying earlier steps (reset): leave the learner's own files alone
        self.backups: list[Path] = []   # copies of learner files made by this workspace's solutions

    @classmethod
    def for_lab(cls, lab, path: str | Path | None = None) -> "Workspace":
        return cls(Path(path) if path else paths.workspaces_dir() / lab.id, lab)

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def file(self, name: str) -> Path:
        return self.path / name

    def read_text(self, name: str) -> str:
        return self.file(name).read_text(encoding="utf-8")

    def check_location(self) -> None:
        """Refuse a folder that cannot be a learner's: the root, a system folder, a file."""
        path = self.path.expanduser().absolute()
        resolved = path.resolve()
        shown = str(path)
        windows_dir = os.environ.get("SystemRoot", "")
        system = [Path(p) for p in SYSTEM_FOLDERS] + ([Path(windows_dir)] if windows_dir else [])
        if resolved == Path(resolved.anchor) or any(
                resolved == folder or folder in resolved.parents for folder in system if sys.platform != "win32"
                or folder == Path(windows_dir)):
            raise UsageError(f"--workspace {shown} is a system folder, not a place for your lab files",
                             "choose a folder of your own, e.g. --workspace ~/labrunner-labs/" + self.lab.id)
        if resolved.exists() and not resolved.is_dir():
            raise UsageError(f"--workspace {shown} is a file, not a folder", "name a folder (it is created if missing)")
        if resolved == self.lab.path.resolve() or self.lab.path.resolve() in resolved.parents:
            raise UsageError(f"--workspace {shown} is inside the lab's own folder",
                             "choose a folder of your own; the lab's files are its starter copies")

    def prepare(self) -> list[str]:
        """Copy starter files that are not there yet; return the names copied."""
        source = self.lab.path / "workspace"
        self.path.mkdir(parents=True, exist_ok=True)
        copied = []
        if source.is_dir():
            for item in sorted(source.rglob("*")):
                if item.is_file() and "__pycache__" not in item.parts:
                    target = self.path / item.relative_to(source)
                    if not target.exists():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(item, target)
                        copied.append(str(item.relative_to(source)))
        return copied

    def install_solution(self, name: str, source: str | None = None) -> None:
        """Put the lab's reference version of a workspace file in place (a step's solution).

        `source` names another file in the lab's solutions/ folder, for a file that grows
        over several steps (cache.py after step 2, after step 3, ...)."""
        solutions = self.lab.path / "solutions"
        solution = solutions / (source or name)
        if not solution.is_file():
            raise LabError(f"labs/{self.lab.id}/solutions/{source or name}: file not found")
        target = self.file(name)
        new = solution.read_bytes()
        if target.exists():
            current = target.read_bytes()
            if current == new:
                return
            starter = self.lab.path / "workspace" / name
            ours = [starter] + sorted(p for p in solutions.rglob("*") if p.is_file())
            untouched = any(p.is_file() and p.read_bytes() == current for p in ours)
            if self.replay and not untouched:
                return                      # the learner's own answer stays
            if not untouched:
                self.backup(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(new)

    def install_variant(self, name: str, source: str, changes: dict[str, str]) -> None:
        """A reference version of a workspace file with a few changes, {old: new}, each made in
        exactly one place: how mistakes.py writes a typical wrong answer (`labrunner test`
        applies it in its own throwaway workspace)."""
        path = self.lab.path / "solutions" / source
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        for old, new in changes.items():
            if text.count(old) != 1:
                raise LabError(f"labs/{self.lab.id}/solutions/{source}: {old.strip()[:60]!r} appears "
                               f"{text.count(old)} times; a change must name one place")
            text = text.replace(old, new)
        self.file(name).write_text(text, encoding="utf-8")

    def backup(self, name: str) -> Path:
        target = self.file(name)
        backup = self.path / BACKUP_DIR / f"{name}.{time.strftime('%Y%m%d-%H%M%S')}"
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, backup)
        self.backups.append(backup)
        return backup
