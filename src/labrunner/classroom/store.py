"""The dashboard's SQLite file: the class (code, server secret), the learners (a SHA-256 of
each token, never the token), and every result received. A restarted server keeps all of
it, so learners' tokens and queued results stay good across a restart."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from pathlib import Path

from labrunner import paths
from labrunner.classroom import wire

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS learners (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, token_hash TEXT UNIQUE,
    last_seq INTEGER NOT NULL DEFAULT 0, joined_at REAL NOT NULL, left_at REAL
);
CREATE TABLE IF NOT EXISTS results (
    learner TEXT NOT NULL, id TEXT NOT NULL, lab TEXT NOT NULL, step TEXT NOT NULL,
    passed INTEGER NOT NULL, status TEXT NOT NULL, check_runs INTEGER NOT NULL,
    failed_runs INTEGER NOT NULL, hints INTEGER NOT NULL, time_on_step REAL NOT NULL,
    at REAL NOT NULL, received_at REAL NOT NULL, PRIMARY KEY (learner, id)
);
"""
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"     # no 0/O, 1/I/L: read aloud in a room


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


class Rejected(Exception):
    def __init__(self, status: int, error: str, **extra):
        super().__init__(error)
        self.status, self.error, self.extra = status, error, extra


class Store:
    def __init__(self, path: Path):
        self.path = path
        if not path.exists():
            paths.private_file(path)
        self._local = threading.local()
        with self._db() as db:
            db.executescript(SCHEMA)
        if self._meta("secret") is None:
            self._set_meta("secret", secrets.token_hex(32))
        self.secret = bytes.fromhex(self._meta("secret"))

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def _meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db().execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def class_code(self, wanted: str | None) -> str:
        """The code given, else the one this file already has, else a new one."""
        code = (wanted or self._meta("code") or new_code()).strip()
        self._set_meta("code", code)
        return code

    def teacher_key(self) -> str:
        key = self._meta("teacher_key")
        if key is None:
            key = secrets.token_urlsafe(24)
            self._set_meta("teacher_key", key)
        return key

    # ---- learners ------------------------------------------------------------------------

    def join(self, name: str) -> dict:
        """A new learner (or one who left, under the same name, back): id, token, key."""
        token = secrets.token_urlsafe(32)
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT id, token_hash FROM learners WHERE name = ?", (name,)).fetchone()
            if row and row[1] is not None:
                raise Rejected(409, f"the name '{name}' is already in this class; join with another --name")
            if row:
                learner = row[0]
                db.execute("UPDATE learners SET token_hash = ?, left_at = NULL WHERE id = ?",
                           (wire.token_hash(token), learner))
            else:
                learner = secrets.token_hex(8)
                db.execute("INSERT INTO learners (id, name, token_hash, joined_at) VALUES (?, ?, ?, ?)",
                           (learner, name, wire.token_hash(token), time.time()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return {"learner": learner, "token": token, "key": wire.learner_key(self.secret, learner).hex()}

    def authenticate(self, token: str, body: bytes, signature: str, data: dict) -> str:
        """The learner a signed submission comes from; Rejected when forged, replayed or another's."""
        row = self._db().execute("SELECT id FROM learners WHERE token_hash = ?",
                                 (wire.token_hash(token or ""),)).fetchone()
        if row is None:
            raise Rejected(401, "unknown or revoked token; join the class again")
        learner = row[0]
        if data.get("learner") != learner:
            raise Rejected(403, "this token belongs to another learner")
        if not wire.signature_ok(wire.learner_key(self.secret, learner), body, signature):
            raise Rejected(401, "bad signature")
        if isinstance(data.get("seq"), bool) or not isinstance(data.get("seq"), int):
            raise Rejected(400, "seq is an integer")
        return learner

    def _advance(self, db, learner: str, seq: int) -> None:
        """Inside a write transaction: take `seq`, or refuse it as a replay."""
        last = db.execute("SELECT last_seq FROM learners WHERE id = ?", (learner,)).fetchone()[0]
        if seq <= last:
            raise Rejected(409, f"sequence {seq} already used (replayed?)", last_seq=last)
        db.execute("UPDATE learners SET last_seq = ? WHERE id = ?", (seq, learner))

    def add_results(self, learner: str, seq: int, results: list[dict]) -> int:
        db = self._db()
        now = time.time()
        db.execute("BEGIN IMMEDIATE")
        try:
            self._advance(db, learner, seq)
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(learner, r["id"], r["lab"], r["step"], int(r["passed"]), r["status"], int(r["check_runs"]),
                  int(r["failed_runs"]), int(r["hints"]), float(r["time_on_step"]), float(r["at"]), now)
                 for r in results])
            stored = db.total_changes - before
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return stored

    def leave(self, learner: str, seq: int) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            self._advance(db, learner, seq)
            db.execute("UPDATE learners SET token_hash = NULL, left_at = ? WHERE id = ?", (time.time(), learner))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # ---- reading -------------------------------------------------------------------------

    def learners(self) -> list[tuple]:
        return self._db().execute("SELECT id, name, joined_at, left_at FROM learners ORDER BY name").fetchall()

    def results(self) -> list[tuple]:
        return self._db().execute(
            "SELECT learner, lab, step, passed, status, check_runs, failed_runs, hints, time_on_step, received_at"
            " FROM results ORDER BY received_at, rowid").fetchall()

    def count(self) -> int:
        return self._db().execute("SELECT COUNT(*) FROM results").fetchone()[0]
