"""Where labrunner keeps things. LABRUNNER_HOME moves all of it (tests use it).

The state folder (sessions, engine data, logs) and the data folder (progress) are
private: created 0700, and tightened to 0700 when an older labrunner left them open.
A folder labrunner cannot write to (read-only, full, not ours) is one clear line
(`FolderNotWritable`), never a traceback.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from labrunner.errors import ExitCode, LabrunnerError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

# errno values that mean "this folder cannot take a write", whatever wrote
WRITE_ERRNOS = {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM}
_checked: set[str] = set()


class FolderNotWritable(LabrunnerError):
    """labrunner's own folder is read-only, full or not ours."""

    exit_code = ExitCode.SERVICE_ERROR


def _home() -> Path | None:
    value = os.environ.get("LABRUNNER_HOME")
    return Path(value).expanduser() if value else None


def _user_dir(kind: str, platform_dir: str) -> Path:
    home = _home()
    if home:
        path = home / kind
    else:
        import platformdirs

        path = Path(getattr(platformdirs, platform_dir)("labrunner"))
    return private_dir(path)


def private_dir(path: Path) -> Path:
    """Make `path` (and missing parents) and keep it 0700; checked once per process."""
    key = str(path)
    if key in _checked and path.is_dir():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass
        mode = path.stat().st_mode & 0o777
        if mode & 0o077 and path.stat().st_uid == _uid():
            path.chmod(mode & ~0o077)
    except OSError as exc:
        raise cannot_write(exc, path) from None
    _checked.add(key)
    return path


def _uid() -> int:
    return os.getuid() if hasattr(os, "getuid") else -1


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it is not there (SQLite gives its -wal and -shm
    the mode of the database file, so they are private too)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise cannot_write(exc, path) from None
    return path


def state_dir() -> Path:
    """Sessions, pid files, engine data and logs."""
    return _user_dir("state", "user_state_dir")


def data_dir() -> Path:
    """The progress database."""
    return _user_dir("data", "user_data_dir")


def cache_dir() -> Path:
    """Downloaded engines (public packages: not private, may be shared or deleted)."""
    home = _home()
    if home:
        path = home / "cache"
    else:
        import platformdirs

        path = Path(platformdirs.user_cache_dir("labrunner"))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(exc, path) from None
    return path


def config_file() -> Path:
    home = _home()
    if home:
        return home / "config.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir("labrunner")) / "config.toml"


def workspaces_dir() -> Path:
    """The learner's own files, one folder per lab: easy to find, never in a hidden dir."""
    value = os.environ.get("LABRUNNER_WORKSPACES")
    if value:
        return Path(value).expanduser()
    home = _home()
    if home:
        return home / "workspaces"
    return Path.home() / "labrunner-labs"


# ---- a write that failed ---------------------------------------------------------------

def _own_roots() -> list[Path]:
    """labrunner's own folders, without creating them."""
    home = _home()
    if home:
        return [home]
    import platformdirs

    return [Path(platformdirs.user_state_dir("labrunner")), Path(platformdirs.user_data_dir("labrunner")),
            Path(platformdirs.user_cache_dir("labrunner"))]


def is_write_failure(exc: BaseException) -> bool:
    """An OSError that means a folder cannot be written (not a bug in labrunner)."""
    if not isinstance(exc, OSError) or exc.errno not in WRITE_ERRNOS:
        return False
    if exc.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT):
        return True
    # permission errors count when they are about labrunner's own folders
    return exc.filename is not None and _own_folder(Path(os.fsdecode(exc.filename))) is not None


def _own_folder(path: Path) -> Path | None:
    for root in _own_roots():
        try:
            path.resolve().relative_to(root.resolve())
            return root
        except (ValueError, OSError):
            continue
    return None


def _folder_of(path: Path) -> Path:
    """The deepest folder of `path` that exists (the one a learner can look at)."""
    folder = path if path.is_dir() else path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def cannot_write(exc: OSError, path: Path | None = None) -> FolderNotWritable:
    """One line for a write that failed: which folder, why, and what to do."""
    if path is None and exc.filename is not None:
        path = Path(os.fsdecode(exc.filename))
    if path is None:
        roots = _own_roots()
        path = roots[0] if roots else Path.cwd()
    folder = _folder_of(path)
    reason = {errno.EROFS: "read-only file system", errno.ENOSPC: "no space left on the disk",
              errno.EDQUOT: "disk quota exceeded"}.get(exc.errno) or (exc.strerror or str(exc)).lower()
    ours = _own_folder(path) is not None
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some space there, or set LABRUNNER_HOME to a folder on another disk"
    elif ours:
        fix = "make it writable, or set LABRUNNER_HOME to a writable folder"
    else:
        fix = "make it writable, or choose another folder"
    return FolderNotWritable(f"cannot write to {folder} ({reason})", fix)


def write_problem(folder: Path) -> OSError | None:
    """Why `folder` takes no write (read-only, full, not ours), or None when it does."""
    tmp = folder / f".probe.{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        try:
            os.write(fd, b"x" * 4096)       # a full disk may still take an empty file
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(tmp)
    except OSError as exc:
        return exc
    return None
