"""The learner's progress: attempts and completions per step, in SQLite.

WAL journal with synchronous=FULL: a write is durable once committed and a
kill -9 mid-write loses at most that write, never earlier progress.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

from labrunner import paths

SCHEMA = """
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
CREATE INDEX IF NOT EXISTS attempts_lab ON attempts (lab, step);
"""


def _connect() -> sqlite3.Connection:
    db = sqlite3.connect(paths.data_dir() / "progress.db", timeout=10, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    return db


def record_attempt(lab: str, step: str, passed: bool, message: str = "", solved: bool = False) -> None:
    now = time.time()
    with closing(_connect()) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO attempts VALUES (?, ?, ?, ?, ?)", (lab, step, now, int(passed), message[:500]))
        if passed:
            db.execute("INSERT OR IGNORE INTO completions VALUES (?, ?, ?, ?)", (lab, step, now, int(solved)))
        db.execute("COMMIT")


def set_position(lab: str, step: str) -> None:
    with closing(_connect()) as db:
        db.execute("INSERT OR REPLACE INTO position VALUES (?, ?, ?)", (lab, step, time.time()))


def position(lab: str) -> str | None:
    with closing(_connect()) as db:
        row = db.execute("SELECT step FROM position WHERE lab = ?", (lab,)).fetchone()
    return row[0] if row else None


def completed(lab: str) -> dict[str, dict]:
    """step id -> {"at": time, "solved": whether `solve` did it}."""
    with closing(_connect()) as db:
        rows = db.execute("SELECT step, at, solved FROM completions WHERE lab = ?", (lab,)).fetchall()
    return {step: {"at": at, "solved": bool(solved)} for step, at, solved in rows}


def attempts(lab: str) -> dict[str, int]:
    with closing(_connect()) as db:
        rows = db.execute("SELECT step, COUNT(*) FROM attempts WHERE lab = ? GROUP BY step", (lab,)).fetchall()
    return dict(rows)


def forget(lab: str, steps: list[str]) -> None:
    """Used by `reset --step`: later steps are no longer complete (attempts stay as history)."""
    with closing(_connect()) as db:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("DELETE FROM completions WHERE lab = ? AND step = ?", [(lab, s) for s in steps])
        db.execute("COMMIT")
