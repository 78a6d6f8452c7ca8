"""The CLI end to end on the local runtime (moto's server as a real process), in-process,
with every state directory in a temp folder."""

import socket
import sqlite3

import psutil
import pytest

from labrunner import sessions

LAB = "dynamodb-basics"


@pytest.fixture
def running(start_lab):
    """dynamodb-basics started on the local runtime; stopped after the test."""
    return start_lab(LAB)


def listening_addresses(pid):
    process = psutil.Process(pid)
    procs = [process] + process.children(recursive=True)
    return {(c.laddr.ip, c.laddr.port) for p in procs for c in p.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN}


def test_run_no_input_shows_step_one_with_a_live_endpoint(cli, running):
    state = running.services["dynamodb"]
    result = cli("run", LAB, "--no-input")          # a second run reuses the services
    assert result.code == 0
    assert "already running" in result.out
    assert f"http://127.0.0.1:{state['port']}" in result.out
    assert "step 1 of 7" in result.out and "Create the Music table" in result.out
    assert "moto server" in result.out              # the emulator is named as one


def test_every_port_is_bound_to_loopback_only(running):
    state = running.services["dynamodb"]
    addresses = listening_addresses(state["pid"])
    assert addresses, "the engine listens on nothing"
    assert {ip for ip, _ in addresses} == {"127.0.0.1"}
    assert state["port"] in {port for _, port in addresses}


def test_check_fails_then_solve_passes_and_progress_is_recorded(cli, running):
    first = cli("check", "--json")
    assert first.code == 1
    report = first.json()
    assert report["step"] == "create-table" and not report["passed"]
    assert "no table named 'Music'" in report["checks"][0]["message"]
    assert cli("solve", "--yes").code == 0
    status = cli("status", "--json").json()["labs"][0]
    assert status["steps"][0]["done"] and status["steps"][0]["solved_by_solution"]
    assert status["current_step"] == "load-items"


def test_a_learner_answer_by_the_aws_api_passes(cli, running):
    import boto3

    endpoint = running.endpoint("dynamodb")
    client = boto3.client("dynamodb", endpoint_url=endpoint.url, region_name="us-east-1",
                          aws_access_key_id="anything", aws_secret_access_key="anything")
    client.create_table(TableName="Music", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                                              {"AttributeName": "SongTitle", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                                   {"AttributeName": "SongTitle", "KeyType": "RANGE"}])
    result = cli("check", "--json")
    assert result.code == 0, result
    assert all(c["passed"] for c in result.json()["checks"])


def test_env_exports_the_endpoint_and_fake_credentials(cli, running):
    out = cli("env").out
    assert f"export AWS_ENDPOINT_URL_DYNAMODB='{running.endpoint('dynamodb').url}'" in out
    assert "export AWS_ACCESS_KEY_ID='labrunner'" in out
    assert "$env:AWS_DEFAULT_REGION = 'us-east-1'" in cli("env", "--shell", "powershell").out


def test_hint_shows_one_more_tier_each_time(cli, running):
    first, second = cli("hint").out, cli("hint").out
    assert "Hint 1 of 3" in first and "Hint 2 of 3" not in first
    assert "Hint 2 of 3" in second
    third = cli("hint").out
    assert running.endpoint("dynamodb").url in third     # placeholders are filled in hints too


def test_reset_returns_the_engine_to_a_steps_start(cli, running):
    import boto3

    cli("solve", "--yes")
    cli("solve", "--yes")      # step 2: the songs are loaded
    endpoint = running.endpoint("dynamodb")
    table = boto3.resource("dynamodb", endpoint_url=endpoint.url, region_name="us-east-1",
                           aws_access_key_id="a", aws_secret_access_key="b").Table("Music")
    table.put_item(Item={"Artist": "Stray", "SongTitle": "Learner Junk"})
    assert cli("reset", "--step", "load-items", "--yes").code == 0
    assert table.scan()["Count"] == 0                      # the table as step 2 starts: empty
    assert cli("check", "--json").json()["step"] == "load-items"
    assert cli("reset", "--step", "query-by-key", "--yes").code == 0
    assert table.scan()["Count"] == 25                     # 24 songs + Harbour Lights


def test_a_stopped_engine_gives_one_line_and_keeps_progress(cli, running, labrunner_home):
    cli("solve", "--yes")
    psutil.Process(running.services["dynamodb"]["pid"]).kill()
    result = cli("check")
    assert result.code == 5
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "not answering" in result.err and f"labrunner run {LAB}" in result.err
    db = sqlite3.connect(labrunner_home / "data" / "progress.db")
    assert db.execute("SELECT COUNT(*) FROM completions").fetchone()[0] == 1


def test_a_taken_port_gives_one_line(cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = cli("run", LAB, "--runtime", "local", "--no-input", "--port", str(port))
    assert result.code == 5
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert f"port {port} on 127.0.0.1 is taken" in result.err
    assert sessions.find(LAB) is None


def test_down_all_leaves_no_process_and_no_port(cli, running, labrunner_home):
    """`down --all` stops every engine (its data kept for `run`); `--wipe` also deletes sessions and data."""
    state = running.services["dynamodb"]
    assert cli("down", "--all").code == 0
    assert not psutil.pid_exists(state["pid"]) or psutil.Process(state["pid"]).status() == psutil.STATUS_ZOMBIE
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", state["port"]))   # free again
    assert [s.stopped for s in sessions.all_sessions()] == [True]
    assert cli("down", "--all", "--wipe").code == 0
    assert sessions.all_sessions() == []
    assert not list((labrunner_home / "state" / "engines").glob("*/*"))


def test_status_and_list_report_json(cli, running):
    from labrunner.labs import catalog

    assert cli("solve", "--yes").code == 0                      # create-table done, by the solution
    listing = cli("list", "--json")
    assert listing.code == 0
    labs = {lab["id"]: lab for lab in listing.json()["labs"]}
    assert set(labs) == set(catalog.lab_dirs()) and listing.json()["broken"] == []
    lab = catalog.get(LAB, with_code=False)
    assert labs[LAB] == {"id": LAB, "title": lab.title, "level": lab.level, "minutes": lab.minutes,
                         "services": ["dynamodb"], "steps": len(lab.steps), "completed": 1, "source": "built-in"}
    status = cli("status", "--json")
    assert status.code == 0
    (report,) = status.json()["labs"]
    assert report["lab"] == LAB and report["running"] and not report["stopped"] and report["runtime"] == "local"
    assert report["workspace"] == running.workspace
    assert report["services"] == [{"service": "dynamodb", "endpoint": running.endpoint("dynamodb").url,
                                   "standin": running.services["dynamodb"]["standin"], "answering": True,
                                   "nodes": [], "notes": []}]
    assert report["current_step"] == "load-items"
    first, second = report["steps"][:2]
    assert first["id"] == "create-table" and first["done"] and first["solved_by_solution"]
    assert second["id"] == "load-items" and not second["done"] and second["check_runs"] == 0
    assert [s["done"] for s in report["steps"]] == [True] + [False] * (len(lab.steps) - 1)


def _read_until(process, lines, until, timeout):
    """Collect the watcher's output lines into process.seen until one contains `until`, the process
    ends, or `timeout` seconds pass; True when `until` was seen."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        while not lines.empty():
            line = lines.get()
            process.seen.append(line)
            if until and until in line:
                return True
        if process.poll() is not None and lines.empty():
            time.sleep(0.2)                       # the reader thread may still hold the last lines
            if lines.empty():
                return False
        time.sleep(0.05)
    return False


WATCHING = "watching your workspace"


def test_check_watch_rechecks_when_a_file_changes(cli, running):
    """`labrunner check --watch` in its own process: a failing first check, then an edit of a workspace
    file, a second check on its own, and exit 0 once the step passes."""
    import os
    import queue
    import subprocess
    import sys
    import threading
    from pathlib import Path

    from labrunner.labs import catalog

    assert cli("solve", "--yes").code == 0
    assert cli("solve", "--yes").code == 0           # now at query-by-key: write songs_by_artist in query_songs.py
    title = catalog.get(LAB).steps[2].title
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "labrunner", "check", LAB, "--step", "query-by-key", "--watch"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    process.seen = []
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        assert _read_until(process, lines, WATCHING, 60), "".join(process.seen)
        first = "".join(process.seen)
        assert first.count(title) == 1, first                 # one check so far, and it did not pass
        assert "songs_by_artist" in first, first
        assert not _read_until(process, lines, title, 2), "".join(process.seen)     # no file changed: no check
        solution = catalog.get(LAB).path / "solutions" / "query_songs.py"
        (Path(running.workspace) / "query_songs.py").write_text(solution.read_text())
        process.wait(timeout=60)
        _read_until(process, lines, None, 2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(process.seen)
    assert process.returncode == 0, output
    second = output[len(first):]
    assert second.count(title) == 1 and WATCHING not in second, output     # a second check, and it passed


@pytest.mark.parametrize("args, message", [
    (("run", "dynamodb-basic", "--no-input"), "no lab named 'dynamodb-basic' — did you mean 'dynamodb-basics'?"),
    (("check",), "no lab is running"),
    (("show", "nope"), "no lab named 'nope'"),
    (("lsit",), "did you mean 'list'?"),
])
def test_bad_input_is_one_line_and_no_traceback(cli, args, message):
    result = cli(*args)
    assert result.code == 4
    assert message in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def _with_minutes_lots(lab_dir):
    """The lab copy with `minutes: lots` in its lab.yaml."""
    import re

    text, count = re.subn(r"(?m)^minutes: \d+$", "minutes: lots", (lab_dir / "lab.yaml").read_text())
    assert count == 1
    (lab_dir / "lab.yaml").write_text(text)
    return lab_dir


def test_a_malformed_lab_file_is_one_line_and_keeps_progress(cli, lab_copy, labrunner_home):
    from labrunner import progress

    progress.record_attempt(LAB, "create-table", True)
    lab_dir = _with_minutes_lots(lab_copy())
    result = cli("--labs-dir", str(lab_dir.parent), "run", LAB, "--no-input")
    assert result.code == 4
    assert result.err.strip() == ("labrunner: labs/dynamodb-basics/lab.yaml: minutes: "
                                  "expected a whole number, found text 'lots'")
    assert progress.completed(LAB).keys() == {"create-table"}


def test_doctor_names_the_local_engine(cli):
    from labrunner import services
    from labrunner.labs import catalog

    result = cli("doctor", "--json")
    report = result.json()
    items = {i["item"]: i for i in report["items"]}
    assert "moto 5." in items["dynamodb local"]["detail"] and items["dynamodb local"]["ok"]
    assert {f"{name} local" for name in services.names()} <= set(items)
    assert items["labs"] == {"item": "labs", "ok": True, "detail": f"{len(catalog.lab_dirs())} found"}
    assert report["healthy"] == all(i["ok"] for i in report["items"])
    assert result.code == (0 if report["healthy"] else 1), [i for i in report["items"] if not i["ok"]]


def test_doctor_exits_1_and_names_a_broken_lab(cli, lab_copy):
    lab_dir = _with_minutes_lots(lab_copy())
    result = cli("--labs-dir", str(lab_dir.parent), "doctor", "--json")
    report = result.json()
    labs = next(i for i in report["items"] if i["item"] == "labs")
    assert result.code == 1 and report["healthy"] is False
    assert labs["ok"] is False and "labs/dynamodb-basics/lab.yaml: minutes" in labs["detail"]


def test_fault_kill_then_restart_brings_the_engine_back(cli, running):
    pid = running.services["dynamodb"]["pid"]
    assert cli("fault", "kill", "dynamodb").code == 0
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert cli("check").code == 5
    result = cli("fault", "restart", "dynamodb")
    assert result.code == 0, result
    assert sessions.find(LAB).services["dynamodb"]["port"] == running.services["dynamodb"]["port"]
    assert cli("check", "--json").json()["step"] == "create-table"


def test_fault_pause_freezes_and_resume_thaws(cli, running):
    assert cli("fault", "pause", "dynamodb").code == 0
    assert psutil.Process(running.services["dynamodb"]["pid"]).status() == psutil.STATUS_STOPPED
    assert cli("fault", "resume", "dynamodb").code == 0
    assert cli("check", "--json").code == 1      # answering again: the learner's check fails normally


def test_fault_on_an_unknown_service_is_one_line(cli, running):
    result = cli("fault", "kill", "postgres")
    assert result.code == 4 and "runs no service 'postgres'" in result.err


def test_a_node_fault_or_failover_on_a_one_engine_service_is_one_line(cli, running):
    for args in (("fault", "kill", "dynamodb/writer"), ("failover", "dynamodb")):
        result = cli(*args)
        assert result.code == 4 and "dynamodb is one engine, not a cluster of nodes" in result.err, result
        assert "Traceback" not in result.err and len(result.err.strip().splitlines()) <= 2


def test_run_brings_a_stopped_engine_back_on_its_data(cli, running):
    """After a crash (or a reboot) `labrunner run` restarts the engine rather than a fresh one."""
    assert cli("solve", "--yes").code == 0                       # the Music table exists
    state = running.services["dynamodb"]
    psutil.Process(state["pid"]).kill()
    result = cli("run", LAB, "--no-input")
    assert result.code == 0, result
    assert "was not answering; starting it again" in result.out
    assert sessions.find(LAB).id == running.id          # the same session, not a new one
