"""The learner's progress: attempts, completions, the position per lab, hints taken and
when each step became current (for `labrunner report`).

Two files in the private data folder, both 0600:

- `progress.journal`: every change as one JSON line, appended and fsync'd under the
  database's write lock before the change commits. It is the record that survives.
- `progress.db`: SQLite (WAL) built from that journal, for queries. It remembers how
  many bytes of the journal it holds (`meta.journal_size`), so on open:
  - behind the journal (a kill between the two writes, a missing or older file): it
    catches up from the journal;
  - damaged (a garbage header, a truncated file): it is moved aside as
    `progress.db.corrupt-<time>`, rebuilt from the journal, and one line on stderr says so;
  - ahead of the journal (a journal lost or cut short): the journal is written again
    from the database.

A database from before the journal existed seeds the journal on first open.

Every change (a write, a catch-up, a restore) holds `progress.lock`, a lock on a file of
its own: SQLite's lock lives on progress.db, and while a damaged progress.db is moved
aside a writer still holding the old file's lock would no longer keep out a writer on
the new one (one could replay a line the other then takes back, and a record would be
applied twice).
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import sys
import threading
import time
from contextlib import closing, contextmanager
from pathlib import Path

from labrunner import paths
from labrunner.errors import LabrunnerError

DB_NAME = "progress.db"
JOURNAL_NAME = "progress.journal"
LOCK_NAME = "progress.lock"
LOCK_WAIT = 10                              # seconds, as SQLite's own busy timeout
SCHEMA_VERSION = 3
SOLVE_MESSAGE = "applied the reference solution"     # the attempt `solve` records

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS attempts (
    lab TEXT NOT NULL, step TEXT NOT NULL, at REAL NOT NULL,
    passed INTEGER NOT NULL, message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS completions (
    lab TEXT NOT NULL, step TEXT NOT NULL, at REAL NOT NULL, solved INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (lab, step)
);
CREATE TABLE IF NOT EXISTS position (
    lab TEXT PRIMARY KEY, step TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS visits (
    lab TEXT NOT NULL, step TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (lab, step, at)
);
CREATE TABLE IF NOT EXISTS hints (
    lab TEXT NOT NULL, step TEXT NOT NULL, at REAL NOT NULL, shown INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_lab ON attempts (lab, step);
PRAGMA user_version = {SCHEMA_VERSION};
"""


# ---- the public functions ---------------------------------------------------------------

def record_attempt(lab: str, step: str, passed: bool, message: str = "", solved: bool = False) -> None:
    _write({"op": "attempt", "lab": lab, "step": step, "at": time.time(), "passed": bool(passed),
            "message": message[:500], "solved": bool(solved), "complete": bool(passed)})


def set_position(lab: str, step: str) -> None:
    _write({"op": "position", "lab": lab, "step": step, "at": time.time()})


def record_hint(lab: str, step: str, shown: int) -> None:
    """`shown`: how many hint tiers of the step the learner has now seen."""
    _write({"op": "hint", "lab": lab, "step": step, "at": time.time(), "shown": int(shown)})


def position(lab: str) -> str | None:
    row = _read(lambda db: db.execute("SELECT step FROM position WHERE lab = ?", (lab,)).fetchone())
    return row[0] if row else None


def completed(lab: str) -> dict[str, dict]:
    """step id -> {"at": time, "solved": whether `solve` did it}."""
    rows = _read(lambda db: db.execute("SELECT step, at, solved FROM completions WHERE lab = ?",
                                       (lab,)).fetchall())
    return {step: {"at": at, "solved": bool(solved)} for step, at, solved in rows}


def attempts(lab: str) -> dict[str, int]:
    rows = _read(lambda db: db.execute("SELECT step, COUNT(*) FROM attempts WHERE lab = ? GROUP BY step",
                                       (lab,)).fetchall())
    return dict(rows)


def labs() -> list[str]:
    """Every lab with something recorded (a check, a position or a hint)."""
    rows = _read(lambda db: db.execute("SELECT lab FROM attempts UNION SELECT lab FROM position"
                                       " UNION SELECT lab FROM hints").fetchall())
    return sorted(lab for (lab,) in rows)


def history(lab: str) -> dict[str, dict]:
    """step id -> what `labrunner report` shows: {"checks", "solves", "first_pass" (time),
    "first_current" (the first time the step became current, at or
    before its first pass when it passed), "hints" (tiers seen)}. Only steps with a record."""

    def look(db):
        out: dict[str, dict] = {}

        def row(step):
            return out.setdefault(step, {"checks": 0, "solves": 0, "first_pass": None, "first_current": None,
                                         "hints": 0})

        for step, at, passed, message in db.execute(
                "SELECT step, at, passed, message FROM attempts WHERE lab = ? ORDER BY at", (lab,)):
            item = row(step)
            item["solves" if message == SOLVE_MESSAGE else "checks"] += 1
            if passed and item["first_pass"] is None:
                item["first_pass"] = at
        for step, shown in db.execute("SELECT step, MAX(shown) FROM hints WHERE lab = ? GROUP BY step", (lab,)):
            row(step)["hints"] = shown
        for step, at in db.execute("SELECT step, at FROM visits WHERE lab = ? ORDER BY at", (lab,)):
            item = row(step)
            if item["first_current"] is None and (item["first_pass"] is None or at <= item["first_pass"]):
                item["first_current"] = at
        return out

    return _read(look)


def forget(lab: str, steps: list[str]) -> None:
    """Used by `reset --step`: later steps are no longer complete (attempts stay as history)."""
    _write({"op": "forget", "lab": lab, "steps": list(steps), "at": time.time()})


def health() -> dict:
    """For `doctor`: {"state": "ok" | "restored" | "damaged", "detail": one line}.
    A damaged database found here is restored on the spot (and said so)."""
    folder = paths.data_dir()

    def look(db):
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {check}")
        count = db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
        note = db.execute("SELECT value FROM meta WHERE key = 'recovered'").fetchone()
        return count, json.loads(note[0]) if note else None

    count, note = _use(folder, look)
    if note and Path(note.get("kept", "")).exists():
        when = _when(note["at"])
        if note.get("records"):
            return {"state": "restored",
                    "detail": f"restored from its journal on {when} ({note['records']} records); "
                              f"the damaged file is kept as {note['kept']} (delete it once read)"}
        return {"state": "damaged",
                "detail": f"was damaged on {when} with no journal to rebuild it from: earlier progress "
                          f"is lost; the damaged file is kept as {note['kept']} (delete it once read)"}
    return {"state": "ok", "detail": f"{folder / DB_NAME}: {count} checks recorded, journal in step"}


# ---- reading and writing through the journal ----------------------------------------------

def _read(work):
    return _use(paths.data_dir(), work)


def _write(entry: dict) -> None:
    line = (json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8")

    def work(db):
        db.execute("BEGIN IMMEDIATE")
        journal = None
        try:
            applied = _applied(db)
            if applied is not None and applied < _journal_size(db.folder):
                _replay(db, applied)            # lines another labrunner wrote to a file since moved aside
            journal, size = _append(db.folder, line)
            _apply(db, entry)
            _set_applied(db, size)
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            if journal is not None:
                _truncate(db.folder, journal)
            raise

    folder = paths.data_dir()
    with _exclusive(folder):
        _use(folder, work)


_guard = threading.RLock()
_depth = 0                                  # how deep this process already holds the lock


@contextmanager
def _exclusive(folder: Path):
    """Hold `progress.lock` (re-entrant within this process) while progress is changed."""
    global _depth
    with _guard:
        if _depth:
            _depth += 1
            try:
                yield
            finally:
                _depth -= 1
            return
        try:
            fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, paths.PRIVATE_FILE)
        except OSError as exc:
            raise paths.cannot_write(exc, folder) from None
        try:
            _take(fd, folder)
            _depth = 1
            try:
                yield
            finally:
                _depth = 0
        finally:
            os.close(fd)                # closing the file releases the lock


def _take(fd: int, folder: Path) -> None:
    if sys.platform == "win32":
        import msvcrt

        def attempt():
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        def attempt():
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            attempt()
            return
        except OSError:                 # held by another labrunner (BlockingIOError, or EACCES on Windows)
            if time.monotonic() > deadline:
                raise LabrunnerError(f"{folder / LOCK_NAME} stayed locked for {LOCK_WAIT} s",
                                     "let the other labrunner command finish, then try again") from None
            time.sleep(0.01)


class _Connection(sqlite3.Connection):
    folder: Path


def _open(folder: Path) -> _Connection:
    path = folder / DB_NAME
    if not path.exists():
        paths.private_file(path)        # 0600 from creation; -wal and -shm follow its mode
    db = sqlite3.connect(path, timeout=10, isolation_level=None, factory=_Connection)
    db.folder = folder
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")     # the journal's fsync is the durable write
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            db.executescript(SCHEMA)
            if version == 2:
                _backfill_visits(db)
        _catch_up(db)
    except BaseException:
        db.close()
        raise
    return db


def _use(folder: Path, work):
    """Run `work(db)`; a damaged database is restored and the work done again."""
    for tries in range(3):
        try:
            return _attempt(folder, work)
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc) or tries == 2:
                raise _failure(exc, folder) from None
        try:
            _restore(folder)
        except OSError as exc:
            raise paths.cannot_write(exc, folder) from None
        except sqlite3.DatabaseError:
            continue                    # damaged again while being restored: once more


def _attempt(folder: Path, work):
    try:
        with closing(_open(folder)) as db:
            return work(db)
    except OSError as exc:
        raise paths.cannot_write(exc, folder) from None


def _append(folder: Path, line: bytes) -> tuple[int, int]:
    """Append one line and fsync it; returns (size before, size after)."""
    fd = os.open(folder / JOURNAL_NAME, os.O_RDWR | os.O_APPEND | os.O_CREAT, paths.PRIVATE_FILE)
    try:
        before = os.fstat(fd).st_size
        if before and _last_byte(fd, before) != b"\n":
            line = b"\n" + line            # after a torn line (a kill mid-append): its own line
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError:
            _cut(fd, before)
            raise
        return before, before + len(line)
    finally:
        os.close(fd)


def _last_byte(fd: int, size: int) -> bytes:
    os.lseek(fd, size - 1, os.SEEK_SET)     # (O_APPEND: the write still goes to the end)
    return os.read(fd, 1)


def _cut(fd: int, size: int) -> None:
    try:
        os.ftruncate(fd, size)
    except OSError:
        pass                            # a torn last line is dropped on the next open


def _truncate(folder: Path, size: int) -> None:
    try:
        fd = os.open(folder / JOURNAL_NAME, os.O_WRONLY)
    except OSError:
        return
    try:
        _cut(fd, size)
    finally:
        os.close(fd)


def _rollback(db) -> None:
    try:
        db.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _apply(db, entry: dict) -> None:
    op = entry.get("op")
    lab, step, at = entry.get("lab"), entry.get("step"), entry.get("at")
    if op == "attempt":
        db.execute("INSERT INTO attempts VALUES (?, ?, ?, ?, ?)",
                   (lab, step, at, int(entry["passed"]), entry.get("message", "")))
        if entry.get("complete"):
            db.execute("INSERT OR IGNORE INTO completions VALUES (?, ?, ?, ?)",
                       (lab, step, at, int(entry.get("solved", False))))
    elif op == "done":
        db.execute("INSERT OR IGNORE INTO completions VALUES (?, ?, ?, ?)",
                   (lab, step, at, int(entry.get("solved", False))))
    elif op == "position":
        db.execute("INSERT OR REPLACE INTO position VALUES (?, ?, ?)", (lab, step, at))
        db.execute("INSERT OR IGNORE INTO visits VALUES (?, ?, ?)", (lab, step, at))
    elif op == "hint":
        db.execute("INSERT INTO hints VALUES (?, ?, ?, ?)", (lab, step, at, int(entry["shown"])))
    elif op == "forget":
        db.executemany("DELETE FROM completions WHERE lab = ? AND step = ?",
                       [(lab, s) for s in entry["steps"]])
    # an op from a newer labrunner is skipped


def _applied(db) -> int | None:
    row = db.execute("SELECT value FROM meta WHERE key = 'journal_size'").fetchone()
    return int(row[0]) if row else None


def _set_applied(db, size: int) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES ('journal_size', ?)", (str(size),))


def _journal_size(folder: Path) -> int:
    try:
        return (folder / JOURNAL_NAME).stat().st_size
    except FileNotFoundError:
        return 0


def _backfill_visits(db) -> None:
    """A database from before `visits` existed: the journal still holds every position."""
    try:
        with open(db.folder / JOURNAL_NAME, "rb") as fh:
            data = fh.read()
    except OSError:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for raw in data.splitlines():
            try:
                entry = json.loads(raw)
                if entry.get("op") == "position":
                    db.execute("INSERT OR IGNORE INTO visits VALUES (?, ?, ?)",
                               (entry["lab"], entry["step"], entry["at"]))
            except (ValueError, KeyError, TypeError, AttributeError, sqlite3.IntegrityError):
                continue
        db.execute("COMMIT")
    except BaseException:
        _rollback(db)
        raise


def _has_rows(db) -> bool:
    return any(db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
               for table in ("attempts", "completions", "position"))


def _catch_up(db) -> None:
    """Bring the database and the journal into step (cheap when they are: a stat and a query)."""
    applied, size = _applied(db), _journal_size(db.folder)
    if applied == size or (applied is None and size == 0 and not _has_rows(db)):
        return
    with _exclusive(db.folder):
        db.execute("BEGIN IMMEDIATE")
        try:
            applied, size = _applied(db), _journal_size(db.folder)
            if applied is None and _has_rows(db):
                _rewrite_journal(db)            # a database from before the journal
            elif (applied or 0) < size:
                _replay(db, applied or 0)
            elif (applied or 0) > size:
                _rewrite_journal(db)            # the journal was lost or cut short
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise


def _replay(db, start: int) -> int:
    """Apply the journal's whole lines from byte `start` (a torn last line, from a kill
    mid-append, waits: the next append starts a new line after it). Returns how many
    records were applied."""
    path = db.folder / JOURNAL_NAME
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read()
    whole = data[: data.rfind(b"\n") + 1]
    applied = 0
    for raw in whole.splitlines():
        try:
            entry = json.loads(raw)
            _apply(db, entry)
            applied += 1
        except (ValueError, KeyError, TypeError, AttributeError, sqlite3.IntegrityError):
            continue                    # an unreadable line is skipped, the rest still counts
    _set_applied(db, start + len(whole))
    return applied


def _rewrite_journal(db) -> None:
    """Write the journal afresh from the database's rows (same records, fewer lines)."""
    lines = []
    for lab, step, at, passed, message in db.execute("SELECT * FROM attempts ORDER BY rowid"):
        lines.append({"op": "attempt", "lab": lab, "step": step, "at": at, "passed": bool(passed),
                      "message": message, "complete": False})
    for lab, step, at, solved in db.execute("SELECT * FROM completions ORDER BY at"):
        lines.append({"op": "done", "lab": lab, "step": step, "at": at, "solved": bool(solved)})
    for lab, step, at, shown in db.execute("SELECT * FROM hints ORDER BY at"):
        lines.append({"op": "hint", "lab": lab, "step": step, "at": at, "shown": shown})
    for lab, step, at in db.execute("SELECT * FROM visits ORDER BY at"):       # earlier positions
        lines.append({"op": "position", "lab": lab, "step": step, "at": at})
    for lab, step, at in db.execute("SELECT * FROM position ORDER BY at"):     # then the current ones
        lines.append({"op": "position", "lab": lab, "step": step, "at": at})
    data = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in lines).encode("utf-8")
    path = db.folder / JOURNAL_NAME
    tmp = path.with_name(f".{JOURNAL_NAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, paths.PRIVATE_FILE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _set_applied(db, len(data))


# ---- a damaged database -------------------------------------------------------------------

def _damaged(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_IOERR_SHORT_READ")):   # (a cut file)
        return True
    text = str(exc)
    return "malformed" in text or "not a database" in text


def _healthy(folder: Path) -> bool:
    try:
        with closing(_open(folder)) as db:
            return db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:
        return False


def _restore(folder: Path) -> None:
    """Move the damaged file aside and rebuild from the journal, with one line on stderr."""
    with _exclusive(folder):
        _restore_held(folder)


def _restore_held(folder: Path) -> None:
    if _healthy(folder):
        return                          # another labrunner restored it a moment ago
    path = folder / DB_NAME
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = folder / f"{DB_NAME}.corrupt-{stamp}"
    n = 1
    while kept.exists():
        kept, n = folder / f"{DB_NAME}.corrupt-{stamp}-{n}", n + 1
    for suffix in ("-wal", "-shm"):     # first: a new file must not start from the old -wal
        try:
            os.replace(f"{path}{suffix}", f"{kept}{suffix}")
        except FileNotFoundError:
            pass
    try:
        os.replace(path, kept)
    except FileNotFoundError:
        return
    try:
        os.chmod(kept, paths.PRIVATE_FILE)
    except OSError:
        pass
    with closing(_open(folder)) as db:          # a new file: catches up from the whole journal
        records = db.execute("SELECT (SELECT COUNT(*) FROM attempts) + (SELECT COUNT(*) FROM completions)"
                             " + (SELECT COUNT(*) FROM position)").fetchone()[0]
        last = _last_time(db)
        note = {"at": time.time(), "kept": str(kept), "records": records}
        db.execute("INSERT OR REPLACE INTO meta VALUES ('recovered', ?)", (json.dumps(note),))
    if records:
        said = f"rebuilt it from its journal, up to {_when(last)}"
    else:
        said = "there was no journal to rebuild it from, so it starts empty"
    sys.stderr.write(f"labrunner: {DB_NAME} was damaged; {said}; the damaged file is kept as {kept}\n")
    sys.stderr.flush()


def _last_time(db) -> float:
    row = db.execute("SELECT MAX(at) FROM (SELECT at FROM attempts UNION ALL SELECT at FROM completions"
                     " UNION ALL SELECT at FROM position)").fetchone()
    return row[0] or time.time()


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def _failure(exc: sqlite3.DatabaseError, folder: Path) -> LabrunnerError:
    """A database error that restoring did not cure: a folder that takes no write, a lock held
    too long, or damage that keeps coming back."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if _damaged(exc):
        return LabrunnerError(f"{folder / DB_NAME} was damaged again as soon as it was restored",
                              "check the disk (its files in that folder are kept), then try again")
    if name.startswith("SQLITE_BUSY") or "locked" in str(exc):
        return LabrunnerError(f"{folder / DB_NAME} stayed locked for 10 s",
                              "let the other labrunner command finish, then try again")
    probe = paths.write_problem(folder)
    if probe is None and name.startswith("SQLITE_FULL"):
        probe = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if probe is not None:
        return paths.cannot_write(probe, folder)
    return paths.FolderNotWritable(f"cannot use {folder / DB_NAME} ({exc})",
                                   "make it and its folder yours and writable, "
                                   "or set LABRUNNER_HOME to a writable folder")
