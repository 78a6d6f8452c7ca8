"""Progress survives a kill -9 in the middle of writing."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

from labrunner import progress

WRITER = """
from labrunner import progress
import sys
print("ready", flush=True)
i = 0
while True:
    progress.record_attempt("lab", f"step-{i % 7}", i % 2 == 0, "x" * 400)
    i += 1
"""


def test_progress_survives_kill_9_mid_write(labrunner_home):
    progress.record_attempt("lab", "first", True, "done before the crash")
    writer = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE, env=dict(os.environ))
    assert writer.stdout.readline().strip() == b"ready"
    time.sleep(1.0)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    db = sqlite3.connect(labrunner_home / "data" / "progress.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    written = db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    assert written > 2, "the writer wrote almost nothing before the kill"
    assert "first" in progress.completed("lab")
    progress.record_attempt("lab", "after", True)            # still writable
    assert "after" in progress.completed("lab")
    # the journal holds every attempt the database holds (a kill between the two is caught up)
    journal = (labrunner_home / "data" / "progress.journal").read_text(encoding="utf-8").splitlines()
    in_db = sum(progress.attempts("lab").values())
    assert in_db >= written + 1 and len(journal) == in_db
    os.unlink(labrunner_home / "data" / "progress.db")          # rebuilt from the journal alone
    assert sum(progress.attempts("lab").values()) == in_db


def test_position_and_forget():
    progress.set_position("lab", "b")
    progress.record_attempt("lab", "a", True)
    progress.record_attempt("lab", "b", True)
    progress.forget("lab", ["b"])
    assert progress.position("lab") == "b" and set(progress.completed("lab")) == {"a"}
