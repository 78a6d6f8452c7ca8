"""labrunner's own files under faults: a damaged progress.db, a read-only or full disk,
and a second local user who must read none of a learner's files (issue 9, items 10 and 11).

Read-only and full folders are real: a read-only bind mount and a small tmpfs when
running as root (CI), `chmod a-w` otherwise; never the real disk filled.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from labrunner import progress
from labrunner.labs import catalog

LAB = "dynamodb-basics"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def steps():
    return [s.id for s in catalog.get(LAB, with_code=False).steps]


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert "Traceback" not in err and "Logging error" not in err
    return lines[0]


def completed_in_list(result) -> int:
    return next(row["completed"] for row in result.json()["labs"] if row["id"] == LAB)


# ---- a damaged progress.db --------------------------------------------------------------

def record_two_steps_and_many_checks():
    first, second = steps()[:2]
    for i in range(200):                          # enough pages that a cut file loses some
        progress.record_attempt(LAB, first, False, f"attempt {i} " + "x" * 300)
    progress.record_attempt(LAB, first, True)
    progress.record_attempt(LAB, second, True, solved=True)
    progress.set_position(LAB, steps()[2])


def test_a_garbage_header_is_restored_with_one_line_and_doctor_says_so(cli, labrunner_home):
    record_two_steps_and_many_checks()
    db = labrunner_home / "data" / "progress.db"
    with open(db, "r+b") as fh:
        fh.write(b"this is not SQLite, it is garbage!")
    damaged = db.read_bytes()

    result = cli("list", "--json")
    assert result.code == 0, result
    assert completed_in_list(result) == 2
    line = one_line(result.err)
    assert line.startswith("labrunner: progress.db was damaged; rebuilt it from its journal, up to ")
    kept = Path(line.rsplit("the damaged file is kept as ", 1)[1])
    assert kept.parent == db.parent and kept.name.startswith("progress.db.corrupt-")
    assert kept.read_bytes() == damaged                       # kept for a report, untouched
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    status = cli("status", LAB, "--json")                     # restored once, not on every open
    assert status.code == 0 and status.err == ""
    report = status.json()["labs"][0]
    assert report["current_step"] == steps()[2]
    assert progress.attempts(LAB)[steps()[0]] == 201
    assert report["steps"][1]["solved_by_solution"]

    doctor = cli("doctor", "--json").json()
    item = next(i for i in doctor["items"] if i["item"] == "progress")
    assert item["ok"] and item["detail"].startswith("restored: restored from its journal")
    assert str(kept) in item["detail"]


@pytest.mark.parametrize("keep", [0.5, 0.0], ids=["cut-in-half", "emptied"])
def test_a_truncated_file_loses_nothing(cli, labrunner_home, keep):
    record_two_steps_and_many_checks()
    db = labrunner_home / "data" / "progress.db"
    size = db.stat().st_size
    assert size > 16 * 4096, "too small a database to cut"
    os.truncate(db, int(size * keep))

    result = cli("status", LAB, "--json")
    assert result.code == 0, result
    report = result.json()["labs"][0]
    assert [s["done"] for s in report["steps"][:3]] == [True, True, False]
    assert progress.attempts(LAB)[steps()[0]] == 201
    assert report["current_step"] == steps()[2]
    if keep:                                                  # damaged: said in one line
        assert "progress.db was damaged" in one_line(result.err)
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_database_from_before_the_journal_is_kept_through_damage(cli, labrunner_home):
    """An older labrunner's progress.db (no journal yet) seeds the journal on first open."""
    data = labrunner_home / "data"
    data.mkdir(parents=True)
    old = sqlite3.connect(data / "progress.db")
    old.executescript("""
        CREATE TABLE attempts (lab TEXT NOT NULL, step TEXT NOT NULL, at REAL NOT NULL,
                               passed INTEGER NOT NULL, message TEXT NOT NULL DEFAULT '');
        CREATE TABLE completions (lab TEXT NOT NULL, step TEXT NOT NULL, at REAL NOT NULL,
                                  solved INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (lab, step));
        CREATE TABLE position (lab TEXT PRIMARY KEY, step TEXT NOT NULL, at REAL NOT NULL);
    """)
    first, second, third = steps()[:3]
    old.executemany("INSERT INTO attempts VALUES (?, ?, ?, ?, '')",
                    [(LAB, first, 1.0, 1), (LAB, second, 2.0, 1), (LAB, third, 3.0, 1)])
    old.executemany("INSERT INTO completions VALUES (?, ?, ?, 0)", [(LAB, first, 1.0), (LAB, second, 2.0)])
    old.execute("INSERT INTO position VALUES (?, ?, 4.0)", (LAB, third))
    old.commit()
    old.close()

    assert completed_in_list(cli("list", "--json")) == 2     # (step 3 was passed, then reset)
    assert (data / "progress.journal").stat().st_size > 0
    with open(data / "progress.db", "r+b") as fh:
        fh.write(b"\0" * 100)

    result = cli("status", LAB, "--json")
    assert result.code == 0, result
    assert "progress.db was damaged" in one_line(result.err)
    report = result.json()["labs"][0]
    assert [s["done"] for s in report["steps"][:3]] == [True, True, False]
    assert report["current_step"] == third


def test_damage_with_no_journal_is_said_and_doctor_calls_it_damaged(cli, labrunner_home):
    progress.record_attempt(LAB, steps()[0], True)
    data = labrunner_home / "data"
    (data / "progress.journal").unlink(missing_ok=True)
    (data / "progress.db").write_bytes(b"garbage" * 1000)

    result = cli("list", "--json")
    assert result.code == 0, result
    assert "no journal to rebuild it from" in one_line(result.err)
    doctor = cli("doctor", "--json")
    assert doctor.code == 1
    item = next(i for i in doctor.json()["items"] if i["item"] == "progress")
    assert not item["ok"] and item["detail"].startswith("damaged: ") and "progress is lost" in item["detail"]


def test_a_kill_between_journal_and_database_and_a_torn_line_are_caught_up(labrunner_home):
    progress.record_attempt(LAB, steps()[0], True)
    journal = labrunner_home / "data" / "progress.journal"
    with open(journal, "a", encoding="utf-8") as fh:          # appended, never committed
        fh.write(json.dumps({"op": "attempt", "lab": LAB, "step": steps()[1], "at": 5.0,
                             "passed": True, "complete": True}) + "\n")
        fh.write('{"op": "attempt", "lab": "' + LAB)          # a kill mid-append
    assert set(progress.completed(LAB)) == set(steps()[:2])
    progress.record_attempt(LAB, steps()[2], True)
    lines = journal.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and lines[2] == '{"op": "attempt", "lab": "' + LAB   # the torn line alone
    assert [json.loads(line)["step"] for line in lines[:2] + lines[3:]] == steps()[:3]
    assert set(progress.completed(LAB)) == set(steps()[:3])
    os.unlink(labrunner_home / "data" / "progress.db")      # and the journal still rebuilds it
    assert set(progress.completed(LAB)) == set(steps()[:3])


WRITER = """
import sys
from labrunner import progress
for i in range(100):
    progress.record_attempt("lab", f"{sys.argv[1]}-{i}", i % 3 == 0, "x" * 100)
    if i % 10 == 0:
        progress.set_position("lab", f"{sys.argv[1]}-{i}")
"""


def test_concurrent_writers_keep_journal_and_database_in_step(labrunner_home):
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, name]) for name in ("a", "b", "c")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    assert sum(progress.attempts("lab").values()) == 300
    expected = set(progress.completed("lab"))
    assert len(expected) == 3 * 34
    # the journal alone rebuilds the same record
    os.unlink(labrunner_home / "data" / "progress.db")
    assert sum(progress.attempts("lab").values()) == 300
    assert set(progress.completed("lab")) == expected


# ---- read-only and full folders -----------------------------------------------------------

def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def read_only(folder: Path):
    """`folder` read-only for this process: a read-only bind mount as root, chmod otherwise."""
    if IS_ROOT:
        if not _mount("--bind", str(folder), str(folder)):
            pytest.skip("running as root without the right to mount: cannot make a folder read-only")
        try:
            assert _mount("-o", "remount,bind,ro", str(folder))
            yield
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=True)
        return
    modes = {}
    for path in [folder, *folder.rglob("*")]:
        modes[path] = path.stat().st_mode
        path.chmod(modes[path] & ~0o222)
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "1m"):
    folder.mkdir(parents=True, exist_ok=True)
    if not IS_ROOT or not _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)):
        pytest.skip("a full disk needs a small tmpfs, which needs root and the right to mount")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """Fill the disk to the last byte."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def running(cli):
    result = cli("run", LAB, "--runtime", "local", "--no-input")
    assert result.code == 0, result
    yield
    cli("down", "--all", "--wipe")


@pytest.mark.local
def test_a_read_only_home_is_one_line_naming_the_folder(cli, labrunner_home, running):
    assert cli("check").code == 1                              # writes progress and logs: fine
    with read_only(labrunner_home):
        for command in (["list"], ["status"], ["check"], ["down"]):
            result = cli(*command)
            assert result.code == 5, (command, result)
            line = one_line(result.err)
            assert line.startswith(f"labrunner: cannot write to {labrunner_home}"), (command, line)
            assert "read-only file system" in line or "permission denied" in line, line
            assert "LABRUNNER_HOME" in line
    assert cli("down", "--all", "--wipe").code == 0


@pytest.mark.local
def test_a_read_only_data_folder_stops_check_with_one_line(cli, labrunner_home, running):
    with read_only(labrunner_home / "data"):
        result = cli("check")
    assert result.code == 5, result
    assert one_line(result.err).startswith(f"labrunner: cannot write to {labrunner_home / 'data'}")


@pytest.mark.local
def test_a_full_disk_is_one_line_and_loses_nothing(cli, labrunner_home):
    data = labrunner_home / "data"
    with small_disk(data):
        assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
        try:
            assert cli("check").code == 1
            before = progress.attempts(LAB)
            filler = fill(data)
            result = cli("check")
            assert result.code == 5, result
            line = one_line(result.err)
            assert line.startswith(f"labrunner: cannot write to {data} (no space left on the disk)"), line
            filler.unlink()
            assert progress.attempts(LAB) == before               # nothing lost, nothing half-written
            for raw in (data / "progress.journal").read_text(encoding="utf-8").splitlines():
                json.loads(raw)
            assert cli("check").code == 1
            assert progress.attempts(LAB)[steps()[0]] == before[steps()[0]] + 1
        finally:
            cli("down", "--all", "--wipe")


def test_the_log_and_the_traceback_writer_never_raise(labrunner_home, capsys):
    from labrunner import log
    from labrunner.cli import _log_traceback

    (labrunner_home / "state" / "logs").mkdir(parents=True)
    with read_only(labrunner_home):
        log.for_lab(LAB).error("an engine stopped")           # dropped, not raised nor printed
        try:
            raise RuntimeError("a bug")
        except RuntimeError:
            assert _log_traceback() is None
    assert capsys.readouterr().err == ""


# ---- private files ------------------------------------------------------------------------

@pytest.fixture
def open_home(monkeypatch):
    """A LABRUNNER_HOME that any user could enter if labrunner left its folders open
    (pytest's own temp folders are private, which would hide the fault)."""
    parent = Path(tempfile.mkdtemp(prefix="labrunner-modes-"))
    parent.chmod(0o755)
    home = parent / "home"
    monkeypatch.setenv("LABRUNNER_HOME", str(home))
    yield home
    import time

    for _ in range(10):              # a warm checker that is ending may still touch its folder
        shutil.rmtree(parent, ignore_errors=True)
        time.sleep(0.3)
        if not parent.exists():
            break


@pytest.mark.local
def test_a_second_user_reads_none_of_a_learners_files(cli, open_home):
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        assert cli("check").code == 1
        state, data = open_home / "state", open_home / "data"
        files = [p for p in [*state.rglob("*"), *data.rglob("*")] if p.is_file()]
        assert data / "progress.db" in files and data / "progress.journal" in files
        assert any(p.suffix == ".log" for p in files)
        for folder in (state, data, state / "logs"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        reader = sqlite3.connect(data / "progress.db")          # -wal and -shm exist while in use
        reader.execute("SELECT COUNT(*) FROM attempts").fetchone()
        files += [data / "progress.db-wal", data / "progress.db-shm"]
        private = [p for p in files if p.parent == data or p.parent.name == "logs"]
        for path in private:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        reader.close()
        if IS_ROOT:
            for path in [data / "progress.db", data / "progress.journal", state / "logs" / "labrunner.log",
                         *(p for p in files if p.parent.name == "sessions")]:
                read = subprocess.run(["cat", str(path)], user="nobody", capture_output=True, text=True)
                assert read.returncode != 0 and "Permission denied" in read.stderr, path
            listing = subprocess.run(["ls", str(state)], user="nobody", capture_output=True, text=True)
            assert listing.returncode != 0
    finally:
        cli("down", "--all", "--wipe")


def test_open_folders_of_an_older_labrunner_are_made_private(cli, open_home):
    for name in ("state", "data"):
        (open_home / name).mkdir(parents=True)
        (open_home / name).chmod(0o755)
    assert cli("list", "--json").code == 0
    assert cli("status").code == 0
    for name in ("state", "data"):
        assert stat.S_IMODE((open_home / name).stat().st_mode) == 0o700, name


RECORDER = """
import sys
from labrunner import progress
from labrunner.errors import LabrunnerError
done = 0
print("ready", file=sys.stderr, flush=True)
for i in range(200):
    try:
        progress.record_attempt("lab", f"{sys.argv[1]}-{i}", True, "x" * 100)
        done += 1
    except LabrunnerError as exc:             # allowed: one line, and the record not acknowledged
        print("error:", exc.one_line(), file=sys.stderr)
print(done)
"""


def test_damage_during_concurrent_writes_loses_nothing_acknowledged(labrunner_home):
    """Three writers while the database is overwritten with noise (and its -wal cut) five times: every record a
    writer was told is saved is there afterwards, and each writer said at most one line per event."""
    import time

    progress.record_attempt("lab", "seed", True)
    db = labrunner_home / "data" / "progress.db"
    writers = [subprocess.Popen([sys.executable, "-c", RECORDER, name], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for name in "abc"]
    for w in writers:
        assert w.stderr.readline() == "ready\n"
    for _ in range(5):
        time.sleep(0.2)
        with contextlib.suppress(OSError), open(db, "r+b") as fh:
            fh.write(os.urandom(max(fh.seek(0, 2), 4096)))
        with contextlib.suppress(OSError):
            os.truncate(db, 1000)       # the newest version of page 1 may sit in the -wal: cut it too
            os.truncate(f"{db}-wal", 1000)
    outputs = [w.communicate(timeout=180) for w in writers]
    assert [w.returncode for w in writers] == [0, 0, 0], outputs
    acknowledged = sum(int(out.strip()) for out, _ in outputs)
    for _, err in outputs:
        assert "Traceback" not in err
        for line in err.splitlines():
            assert line.startswith(("labrunner: progress.db was damaged; rebuilt it from its journal",
                                    "error: ")), line
    restored = sum(err.count("was damaged; rebuilt") for _, err in outputs)
    recorded = sum(progress.attempts("lab").values())
    print(f"\n{acknowledged} records acknowledged by 3 writers, {recorded - 1} in the database, "
          f"{restored} restorations after 5 overwrites")
    assert restored >= 1
    assert recorded - 1 == acknowledged                  # none lost, none twice
    assert len(progress.attempts("lab")) == recorded     # one attempt per step name: no duplicate
    assert sum(1 for _ in (labrunner_home / "data" / "progress.journal").open()) == recorded


PAUSED_WRITER = """
import sqlite3, sys, time
from pathlib import Path
from labrunner import progress
go = Path(sys.argv[1])
real_apply, calls = progress._apply, []
def apply_then_fail_once(db, entry):
    calls.append(entry["step"])         # (a rebuild replays "seed" through here too)
    if calls.count("paused") == 1 and entry["step"] == "paused":                 # the first try: its line is in the journal, its commit is not
        print("appended", file=sys.stderr, flush=True)
        while not go.exists():
            time.sleep(0.01)
        raise sqlite3.DatabaseError("database disk image is malformed")
    real_apply(db, entry)
progress._apply = apply_then_fail_once
progress.record_attempt("lab", "paused", True)
print(calls.count("paused"))
"""


def test_a_restore_waits_for_a_writer_caught_between_its_journal_line_and_its_commit(labrunner_home, tmp_path):
    """The race behind a record once counted twice: a writer has appended its journal line and
    holds its transaction on progress.db when another labrunner finds the file damaged. The
    restore must wait for the writer (which takes its line back when its commit fails), or it
    rebuilds with that line and the writer's retry adds it a second time."""
    import time

    progress.record_attempt("lab", "seed", True)
    go = tmp_path / "go"
    writer = subprocess.Popen([sys.executable, "-c", PAUSED_WRITER, str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert writer.stderr.readline() == "appended\n"
    db = labrunner_home / "data" / "progress.db"
    with open(db, "r+b") as fh:
        fh.write(b"this is not SQLite, it is garbage!")
    reader = subprocess.Popen([sys.executable, "-c", "from labrunner import progress; "
                               "print(progress.attempts('lab'))"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)                     # the reader finds the damage while the writer is paused
    go.touch()
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert out.strip() == "2"           # the failed first try, then the retry
    reader.communicate(timeout=60)
    assert progress.attempts("lab") == {"seed": 1, "paused": 1}
    lines = (labrunner_home / "data" / "progress.journal").read_text().splitlines()
    assert sum('"paused"' in line for line in lines) == 1


def test_a_lock_held_too_long_is_one_line_naming_the_fix(labrunner_home, monkeypatch):
    import fcntl

    progress.record_attempt("lab", "seed", True)
    monkeypatch.setattr(progress, "LOCK_WAIT", 0.3)
    with open(labrunner_home / "data" / progress.LOCK_NAME, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(progress.LabrunnerError) as caught:
            progress.record_attempt("lab", "late", True)
    assert "stayed locked" in caught.value.one_line() and "try again" in caught.value.one_line()
    progress.record_attempt("lab", "late", True)        # free again: nothing was lost
    assert progress.attempts("lab") == {"seed": 1, "late": 1}
