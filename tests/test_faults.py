"""Faults, bad input and a second local user, on the local runtime: nothing of anyone else's
is touched, nothing is left behind, and each ends in one line. Figures are printed (run with
-s, or read them in CI's log): cycles run and what each left."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from labrunner import sessions

pytestmark = pytest.mark.local

BIN = str(Path(sys.executable).parent / "labrunner")
TEMP = Path(tempfile.gettempdir())


@pytest.fixture(autouse=True)
def private_temp(monkeypatch):
    """A temp folder of this test's own (TMPDIR, inherited by the labrunner it starts): other test
    workers make and remove engine folders in the shared one meanwhile. World-writable and sticky
    like /tmp, so an engine run as the unprivileged user can use it."""
    folder = Path(tempfile.mkdtemp(prefix="labrunner-faults-tmp-", dir=TEMP))
    folder.chmod(0o1777)
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)      # gettempdir() reads TMPDIR again
    monkeypatch.setattr(sys.modules[__name__], "TEMP", folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def engine_temp_folders() -> set[Path]:
    return set(TEMP.glob("labrunner-engine-*"))


def processes_of(home: Path) -> list[psutil.Process]:
    """Processes that belong to this LABRUNNER_HOME: by command line, working folder or open files."""
    found = []
    needle = str(home)
    for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            if process.pid == os.getpid():
                continue
            text = " ".join(process.info["cmdline"] or []) + " " + (process.info["cwd"] or "")
            if needle in text:
                found.append(process)
        except (psutil.Error, TypeError):
            pass
    return found


def leftovers(home: Path, temp_before: set[Path], engine_pids: set[int] = frozenset(),
              session_ids: set[str] | None = None) -> dict:
    """What this test's labrunner left. With session_ids, only temp folders of those sessions
    count (another labrunner on the machine may be making its own meanwhile)."""
    engines = home / "state" / "engines"
    new_temp = engine_temp_folders() - temp_before
    if session_ids is not None:
        new_temp = {p for p in new_temp if any(f"-{sid}-" in p.name for sid in session_ids)}
    return {
        "processes": [p.pid for p in processes_of(home)] + [pid for pid in engine_pids if psutil.pid_exists(pid)
                                                            and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE],
        "engine folders": sorted(str(p) for p in engines.iterdir()) if engines.exists() else [],
        "temp folders": sorted(str(p) for p in new_temp),
    }


def report(capsys, line: str) -> None:
    with capsys.disabled():
        print(f"\n[faults] {line}")


@pytest.fixture
def sleeper():
    """A process that is not labrunner's: nothing may signal it."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    yield process
    process.kill()
    process.wait()


# ---- issue 9, item 1: ids are ids, pids are checked --------------------------------------

def test_down_with_a_path_for_a_lab_id_touches_nothing(cli, tmp_path, labrunner_home, sleeper):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("mine")
    fake = {"lab": "x", "runtime": "local", "workspace": str(victim), "id": "abc",
            "services": {"dynamodb": {"service": "dynamodb", "runtime": "local", "host": "127.0.0.1", "port": 1,
                                      "pid": sleeper.pid, "run_dir": str(victim), "data_dir": str(victim)}}}
    (tmp_path / "x.json").write_text(json.dumps(fake))
    state_sessions = labrunner_home / "state" / "sessions"
    state_sessions.mkdir(parents=True)
    relative = os.path.relpath(tmp_path / "x", state_sessions)
    for command in (("down", relative), ("down", relative, "--wipe"), ("check", relative), ("status", relative)):
        result = cli(*command)
        assert result.code == 4, (command, result)
        assert "is not a lab id" in result.err and result.err.count("\n") == 1, result
    assert sleeper.poll() is None, "down signalled a process labrunner did not start"
    assert (victim / "precious.txt").read_text() == "mine"


def test_a_session_file_naming_another_process_and_folder_is_not_obeyed(cli, tmp_path, labrunner_home, sleeper):
    """A session file (edited, or left from an old run whose pid was reused) names a live
    process and a folder that are not labrunner's: down stops neither."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("mine")
    started = psutil.Process(sleeper.pid).create_time()
    for record in ({"pid": sleeper.pid}, {"pid": sleeper.pid, "started": started - 100}):
        session = sessions.Session(lab="dynamodb-basics", runtime="local", workspace=str(victim))
        session.services["dynamodb"] = {"service": "dynamodb", "runtime": "local", "host": "127.0.0.1",
                                        "port": 1, "run_dir": str(victim), "data_dir": str(victim), **record}
        session.save()
        result = cli("down", "dynamodb-basics", "--wipe")
        assert result.code == 0, result
        assert sleeper.poll() is None, f"down signalled pid {sleeper.pid} from {record}"
        assert (victim / "precious.txt").read_text() == "mine"


# ---- issue 9, items 3 and 12; issue 8, items 7 and 9: where engine data lives, and starts cut short --

def test_engine_data_is_private_and_gone_after_down_wipe(cli, labrunner_home):
    before = engine_temp_folders()
    old_fixed_folder = (TEMP / "labrunner-engines").exists()     # what labrunner used to make
    assert cli("run", "rds-postgres-basics", "--runtime", "local", "--no-input").code == 0
    try:
        state = sessions.find("rds-postgres-basics").services["postgres"]
        data = Path(state["data_dir"])
        assert data.stat().st_mode & 0o077 == 0, oct(data.stat().st_mode)
        assert not (data / "pwfile").exists(), "the password file outlived initdb"
        if os.geteuid() == 0:      # run as the unprivileged user: a folder of its own, random name
            assert data.parent == TEMP and data.name.startswith("labrunner-engine-postgres-")
            assert data.owner() == "labrunner"
        else:
            assert labrunner_home in data.parents
        assert old_fixed_folder or not (TEMP / "labrunner-engines").exists()
    finally:
        assert cli("down", "--all", "--wipe").code == 0
    left = leftovers(labrunner_home, before)
    assert left == {"processes": [], "engine folders": [], "temp folders": []}, left


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5, 3.0])
def test_killed_while_postgres_starts_then_down_leaves_nothing(cli, labrunner_home, delay, capsys):
    before = engine_temp_folders()
    process = subprocess.Popen([BIN, "run", "rds-postgres-basics", "--runtime", "local", "--no-input"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.kill()
    process.wait()
    recorded = sessions.find("rds-postgres-basics")
    pids = {s.get("pid") for s in recorded.services.values()} - {None} if recorded else set()
    result = cli("down", "rds-postgres-basics", "--wipe")
    assert result.code == 0, result
    time.sleep(0.5)                   # a stopped engine's children end a moment later
    left = leftovers(labrunner_home, before, pids, {recorded.id} if recorded else set())
    report(capsys, f"killed {delay:.1f} s into PostgreSQL's start, then down --wipe: "
                   f"{'session recorded' if recorded else 'no session yet'}; left {left}")
    assert left == {"processes": [], "engine folders": [], "temp folders": []}, left


def test_ctrl_c_while_starting_stops_what_started_and_says_so(labrunner_home, capsys):
    before = engine_temp_folders()
    process = subprocess.Popen([BIN, "run", "rds-postgres-basics", "--runtime", "local", "--no-input"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.6)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip("PostgreSQL was up within 0.6 s: nothing to interrupt on this machine")
    assert process.returncode == 2, (out, err)
    assert "nothing was left running" in err and "services keep running" not in err, err
    assert sessions.find("rds-postgres-basics") is None
    log = (labrunner_home / "state" / "logs" / "rds-postgres-basics.log").read_text()
    assert "start interrupted: KeyboardInterrupt" in log and "start failed: \n" not in log
    time.sleep(0.5)
    left = leftovers(labrunner_home, before)
    assert left == {"processes": [], "engine folders": [], "temp folders": []}, left


# ---- issue 9, item 5: the workspace flag ---------------------------------------------

@pytest.mark.parametrize("folder", ["/proc/sys", "/etc/labrunner-ws", "/", "/usr/local/share/labs"])
def test_a_system_folder_is_refused_as_a_workspace_and_nothing_runs(cli, labrunner_home, folder):
    result = cli("run", "dynamodb-basics", "--runtime", "local", "--no-input", "--workspace", folder)
    assert result.code == 4, result
    assert "system folder" in result.err and result.err.count("\n") == 1, result
    assert not Path("/etc/labrunner-ws").exists()
    assert sessions.find("dynamodb-basics") is None
    assert processes_of(labrunner_home) == []


def test_a_workspace_that_cannot_be_written_stops_what_started(cli, labrunner_home, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = cli("run", "dynamodb-basics", "--runtime", "local", "--no-input", "--workspace", str(blocker / "ws"))
    assert result.code == 4, result
    assert "cannot write your lab files" in result.err and result.err.count("\n") == 1, result
    assert sessions.find("dynamodb-basics") is None
    assert processes_of(labrunner_home) == []


def test_workspace_flag_on_a_running_lab_is_said_to_be_ignored(cli, tmp_path):
    assert cli("run", "dynamodb-basics", "--runtime", "local", "--no-input").code == 0
    try:
        result = cli("run", "dynamodb-basics", "--no-input", "--workspace", str(tmp_path / "elsewhere"))
        assert result.code == 0, result
        assert "--workspace is ignored" in result.out.replace("\n", " ")
        assert not (tmp_path / "elsewhere").exists()
    finally:
        cli("down", "--all", "--wipe")


# ---- issue 9, item 8: labrunner test stops what it started on every way out -----------

def test_labrunner_test_killed_by_an_outer_timeout_stops_its_engine(lab_copy, labrunner_home, capsys):
    lab = lab_copy("dynamodb-basics")
    checks = lab / "checks.py"
    checks.write_text(checks.read_text() + "\n\ndef _hang_forever():\n    import time\n    time.sleep(3600)\n")
    text = checks.read_text()
    first = "def music_table_exists("
    assert first in text
    checks.write_text(text.replace(first, "def music_table_exists(dynamodb):\n    _hang_forever()\n\n\n"
                                          "def _original_music_table_exists(", 1))
    process = subprocess.Popen([BIN, "--labs-dir", str(lab.parent), "test", "dynamodb-basics", "--runtime", "local"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = None
    deadline = time.monotonic() + 60
    while engine is None and time.monotonic() < deadline:
        for child in psutil.Process(process.pid).children(recursive=True):
            try:
                if "moto" in " ".join(child.cmdline()):
                    engine = child
            except psutil.Error:
                pass
        time.sleep(0.2)
    assert engine is not None, "labrunner test never started its engine"
    time.sleep(2)                                    # inside the hanging check by now
    process.send_signal(signal.SIGTERM)              # what `timeout` sends
    process.wait(timeout=30)
    gone = not engine.is_running() or engine.status() == psutil.STATUS_ZOMBIE
    report(capsys, f"labrunner test stopped by SIGTERM inside a hanging check: engine "
                   f"{'stopped' if gone else 'LEFT RUNNING'} (exit {process.returncode})")
    assert gone, f"engine {engine.pid} outlived labrunner test"


# ---- cycles: nothing accumulates -------------------------------------------------------

def test_run_check_down_cycles_leave_nothing(labrunner_home, capsys):
    before = engine_temp_folders()
    env = dict(os.environ)
    cycles = {"dynamodb-basics": 5, "rds-postgres-basics": 3}
    session_ids = set()         # only this test's engines' temp folders count: the other test
    started = time.perf_counter()   # workers make their own meanwhile
    for lab, count in cycles.items():
        for i in range(count):
            wipe = ["--wipe"] if i % 2 else []            # both kinds of down
            assert subprocess.run([BIN, "run", lab, "--runtime", "local", "--no-input"], env=env,
                                  capture_output=True).returncode == 0
            session_ids.add(sessions.find(lab).id)
            assert subprocess.run([BIN, "check"], env=env, capture_output=True).returncode == 1
            assert subprocess.run([BIN, "down", lab, *wipe], env=env, capture_output=True).returncode == 0
        subprocess.run([BIN, "down", lab, "--wipe"], env=env, capture_output=True)
    time.sleep(0.5)
    left = leftovers(labrunner_home, before, session_ids=session_ids)
    report(capsys, f"{sum(cycles.values())} run→check→down cycles ({cycles}) in "
                   f"{time.perf_counter() - started:.1f} s; left {left}")
    assert left == {"processes": [], "engine folders": [], "temp folders": []}, left


# ---- a second local user --------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to act as another user")
def test_a_second_local_user_reads_nothing_of_a_learners(cli, labrunner_home, capsys):
    import pwd

    other = pwd.getpwnam("nobody")
    assert cli("run", "rds-postgres-basics", "--runtime", "local", "--no-input").code == 0
    try:
        assert cli("check").code == 1                      # writes progress
        # nobody must be able to reach labrunner's home for the test to mean anything: only
        # labrunner's own modes on its folders and files may stop it
        for folder in [labrunner_home, *labrunner_home.parents]:
            folder.chmod(folder.stat().st_mode | 0o001)
        session = sessions.find("rds-postgres-basics")
        state = session.services["postgres"]
        targets = [labrunner_home / "state" / "sessions" / "rds-postgres-basics.json",
                   Path(state["data_dir"]) / "pgdata" / "PG_VERSION", Path(state["log"]),
                   labrunner_home / "data" / "progress.db"]
        readable = []
        for target in targets:
            assert target.exists(), target
            probe = subprocess.run(["cat", str(target)], user=other.pw_uid, group=other.pw_gid, extra_groups=[],
                                   capture_output=True)
            if probe.returncode == 0:
                readable.append(str(target))
        report(capsys, f"a second user (nobody) tried {len(targets)} files (session, engine data, engine log, "
                       f"progress store): {len(readable)} readable")
        assert readable == []
    finally:
        cli("down", "--all", "--wipe")


# ---- issue 8, item 11: advice that fits this machine -----------------------------------

def test_a_missing_local_engine_proposes_docker_only_where_a_daemon_answers(monkeypatch, tmp_path):
    from labrunner.errors import RuntimeUnavailable
    from labrunner.runtimes import docker
    from labrunner.runtimes.local import _without_docker

    missing = RuntimeUnavailable("no MySQL or MariaDB server on this machine",
                                 "install one (apt-get install mariadb-server), or use --runtime docker")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")   # a daemon that is not there
    monkeypatch.delenv("TESTCONTAINERS_HOST_OVERRIDE", raising=False)
    docker.connect.cache_clear()
    assert not docker.available()
    assert _without_docker(missing).one_line() == ("no MySQL or MariaDB server on this machine — "
                                                   "install one (apt-get install mariadb-server)")
