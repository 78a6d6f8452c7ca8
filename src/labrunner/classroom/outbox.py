"""The learner's side on disk, in the data folder's `class/` folder (0700):

- `membership.json` (0600): the class URL, the learner's name, id, token and signing key;
- `outbox.db` (0600, SQLite): results waiting to be sent, the next sequence number, and
  what the sender last did. A result is committed (fsync'd) before `check` returns, so a
  crash, a reboot or a dead network loses nothing; the sender removes a result only
  after the server has stored it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from labrunner import paths

MEMBERSHIP = "membership.json"
OUTBOX = "outbox.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, body TEXT NOT NULL, queued_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def folder() -> Path:
    return paths.private_dir(paths.data_dir() / "class")


# ---- membership ---------------------------------------------------------------------------

def load_membership(where: Path) -> dict | None:
    try:
        data = json.loads((where / MEMBERSHIP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    needed = ("url", "name", "learner", "token", "key")
    return data if isinstance(data, dict) and all(isinstance(data.get(k), str) for k in needed) else None


def save_membership(where: Path, data: dict) -> Path:
    path = where / MEMBERSHIP
    tmp = where / f".{MEMBERSHIP}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, paths.PRIVATE_FILE)
    with open(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, paths.PRIVATE_FILE)
    os.replace(tmp, path)
    return path


def drop_membership(where: Path) -> None:
    for name in (MEMBERSHIP, OUTBOX, OUTBOX + "-wal", OUTBOX + "-shm"):
        try:
            (where / name).unlink()
        except FileNotFoundError:
            pass


# ---- the queue ----------------------------------------------------------------------------

class Outbox:
    """One connection per call: the hook, the sender thread and `class status` each open their own."""

    def __init__(self, where: Path):
        self.path = where / OUTBOX

    def _connect(self) -> sqlite3.Connection:
        if not self.path.exists():
            paths.private_file(self.path)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")        # a queued result is on disk when add() returns
        db.executescript(SCHEMA)
        return db

    def add(self, result: dict) -> None:
        with closing(self._connect()) as db:
            db.execute("INSERT OR IGNORE INTO queue VALUES (?, ?, ?)",
                       (result["id"], json.dumps(result, separators=(",", ":")), time.time()))

    def pending(self, limit: int) -> list[dict]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT body FROM queue ORDER BY queued_at LIMIT ?", (limit,)).fetchall()
        return [json.loads(body) for (body,) in rows]

    def remove(self, ids: list[str]) -> None:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("DELETE FROM queue WHERE id = ?", [(i,) for i in ids])
            sent = int(_get(db, "sent_total") or 0) + len(ids)
            _put(db, "sent_total", str(sent))
            _put(db, "last_sent", str(time.time()))
            db.execute("DELETE FROM meta WHERE key = 'last_error'")
            db.execute("COMMIT")

    def count(self) -> int:
        with closing(self._connect()) as db:
            return db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]

    def next_seq(self) -> int:
        """A sequence number never used before by this learner (each try of a send takes one)."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            seq = int(_get(db, "seq") or 0) + 1
            _put(db, "seq", str(seq))
            db.execute("COMMIT")
            return seq

    def note(self, key: str, value: str) -> None:
        with closing(self._connect()) as db:
            _put(db, key, value)

    def info(self) -> dict:
        with closing(self._connect()) as db:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            meta["queued"] = db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
            return meta


def _get(db, key):
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _put(db, key, value):
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
