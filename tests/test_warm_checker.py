"""The warm checker process: answers `labrunner check`, only on loopback and with its token,
picks up a lab author's edits, and goes away with its session."""

import json
import socket
import time

import psutil
import pytest

from labrunner import sessions
from labrunner import warm_checker as checker
from labrunner.labs import catalog

LAB = "dynamodb-basics"


def wait_for(predicate, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def started(cli, lab_copy):
    lab_dir = lab_copy()
    result = cli("--labs-dir", str(lab_dir.parent), "run", LAB, "--runtime", "local", "--no-input")
    assert result.code == 0, result
    assert wait_for(lambda: checker.read_info(LAB) is not None), "the checker did not start"
    yield lab_dir, sessions.find(LAB)
    cli("down", "--all", "--wipe")


def test_check_is_answered_by_the_checker(cli, started):
    lab_dir, session = started
    catalog.add_labs_dir(lab_dir.parent)
    lab = catalog.get(LAB, with_code=False)
    results = checker.ask(lab, session, "create-table")
    assert results is not None and [r.name for r in results][0] == "music_table_exists"
    assert not results[0].passed and "no table named 'Music'" in results[0].message


def test_the_checker_listens_on_loopback_and_wants_its_token(started):
    info = checker.read_info(LAB)
    connections = psutil.Process(info["pid"]).net_connections(kind="inet")
    listening = {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
    assert listening == {"127.0.0.1"}
    with socket.create_connection(("127.0.0.1", info["port"]), timeout=5) as conn:
        conn.sendall(json.dumps({"token": "wrong", "step": "create-table"}).encode() + b"\n")
        assert conn.recv(100) == b""          # closed without an answer


def test_the_checker_picks_up_an_edited_check(cli, started):
    lab_dir, _ = started
    checks = lab_dir / "checks.py"
    checks.write_text(checks.read_text() + "\n\ndef music_table_exists(dynamodb):\n    return 'edited'\n")
    result = cli("--labs-dir", str(lab_dir.parent), "check", "--json")
    first = result.json()["checks"][0]
    assert first["passed"] and first["message"] == "edited"


def test_the_checker_picks_up_an_edited_shared_module(cli, started):
    """Code in labs/_shared (which several labs' checks load) is the lab's code too: an edit there
    reaches the next check, as an edit to the lab's own checks.py does."""
    lab_dir, _ = started
    shared = lab_dir.parent / "_shared"
    shared.mkdir(exist_ok=True)
    (shared / "verdict.py").write_text("WORD = 'first'\n")
    checks = lab_dir / "checks.py"
    checks.write_text(checks.read_text() + "\n\nfrom labrunner.labs.shared import load\n"   # at import, as export()
                      "VERDICT = load('verdict', __file__)\n\n\n"
                      "def music_table_exists(dynamodb):\n    return VERDICT.WORD\n")
    assert cli("--labs-dir", str(lab_dir.parent), "check", "--json").json()["checks"][0]["message"] == "first"
    time.sleep(0.05)                               # a later mtime on any file system
    (shared / "verdict.py").write_text("WORD = 'second'\n")
    result = cli("--labs-dir", str(lab_dir.parent), "check", "--json")
    assert result.json()["checks"][0]["message"] == "second", result


def test_the_checker_ends_with_its_session(cli, started):
    pid = checker.read_info(LAB)["pid"]
    cli("down", LAB)
    assert wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    assert checker.read_info(LAB) is None


def test_check_falls_back_when_the_checker_is_gone(cli, started):
    lab_dir, _ = started
    psutil.Process(checker.read_info(LAB)["pid"]).kill()
    result = cli("--labs-dir", str(lab_dir.parent), "check", "--json")
    assert result.code == 1 and result.json()["step"] == "create-table"
