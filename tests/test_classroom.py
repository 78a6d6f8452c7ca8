"""The class dashboard's server and the learner's client, against a real `labrunner class serve`
process on loopback: joining, the outbox and its detached sender, and every rejection."""

from __future__ import annotations

import json
import os
import stat
import time
import urllib.error
import urllib.request
import uuid

import pytest

from class_helpers import Dashboard, simulate
from labrunner.classroom import client, hook, outbox, wire


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    server = Dashboard(tmp_path_factory.mktemp("dashboard")).start()
    yield server
    server.stop()


def member_of(server, name=None) -> dict:
    status, reply = client.join(server.url, name or f"learner-{uuid.uuid4().hex[:6]}", server.code)
    assert status == 200, reply
    return {"url": server.url, **reply}


def a_result(**change) -> dict:
    item = {"id": uuid.uuid4().hex, "lab": "dynamodb-basics", "step": "create-table", "passed": True,
            "status": "passed", "check_runs": 2, "failed_runs": 1, "hints": 1, "time_on_step": 42.0, "at": time.time()}
    item.update(change)
    return item


def post(server, body: bytes, headers: dict) -> tuple[int, dict]:
    return client.call(server.url, "/api/results", body, headers)


def grid(server) -> dict:
    with urllib.request.urlopen(f"{server.url}/api/grid?key={server.key}", timeout=10) as response:
        return json.load(response)


# ---- joining -------------------------------------------------------------------------------

def test_join_keeps_the_token_private_and_the_server_only_its_hash(dashboard, cli, labrunner_home):
    result = cli("class", "join", dashboard.url, "--name", "Grace", "--code", dashboard.code)
    assert result.code == 0, result
    assert "Joined the class" in result.out and "never your code" in result.out
    path = labrunner_home / "data" / "class" / "membership.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = json.loads(path.read_text())["token"]
    stored = b"".join(p.read_bytes() for p in dashboard.db.parent.glob("dashboard.db*"))
    assert token.encode() not in stored
    assert wire.token_hash(token).encode() in stored
    status = cli("class", "status", "--json")
    assert status.json()["joined"] and status.json()["queued"] == 0
    again = cli("class", "join", dashboard.url, "--name", "Grace2", "--code", dashboard.code)
    assert again.code == 4 and "already in the class" in again.err and "class leave" in again.err


def test_wrong_code_and_unreachable_server_are_one_line_each(dashboard, cli):
    wrong = cli("class", "join", dashboard.url, "--name", "Eve", "--code", "NOTTHIS")
    assert wrong.code == 4 and wrong.err.strip() == "labrunner: wrong class code — check the code with your teacher"
    nobody = cli("class", "join", "127.0.0.1:1", "--name", "Eve", "--code", dashboard.code)
    assert nobody.code == 5 and len(nobody.err.strip().splitlines()) == 1
    assert "no class dashboard answered at http://127.0.0.1:1" in nobody.err
    taken = cli("class", "join", dashboard.url, "--name", "Taken", "--code", dashboard.code)
    assert taken.code == 0
    other_home = cli("class", "leave")
    assert other_home.code == 0
    member_of(dashboard, "Someone")
    clash = client.join(dashboard.url, "Someone", dashboard.code)
    assert clash[0] == 409 and "already in this class" in clash[1]["error"]


def test_wrong_codes_are_rate_limited_per_address(tmp_path):
    server = Dashboard(tmp_path, code="RATE77").start()
    try:
        for _ in range(5):
            assert client.join(server.url, "Mallory", "GUESS1")[0] == 401
        status, reply = client.join(server.url, "Mallory", "RATE77")    # even the right code, for a minute
        assert status == 429 and "wait a minute" in reply["error"]
    finally:
        server.stop()


# ---- submissions ---------------------------------------------------------------------------

def test_a_signed_submission_is_stored_once(dashboard):
    member = member_of(dashboard)
    item = a_result()
    status, reply = client.submit(member, 1, [item])
    assert (status, reply["stored"]) == (200, 1)
    assert item["id"] in dashboard.received()


def test_a_forged_submission_is_rejected(dashboard):
    member = member_of(dashboard)
    forged = dict(member, key=os.urandom(32).hex())          # right token, a key the attacker made up
    item = a_result()
    assert client.submit(forged, 1, [item]) == (401, {"error": "bad signature"})
    body, headers = client.signed(member, 2, {"results": [a_result(passed=False, status="attempted")]})
    tampered = body.replace(b'"passed":false', b'"passed":true').replace(b'"attempted"', b'"passed"')
    assert tampered != body
    assert post(dashboard, tampered, headers)[0] == 401
    assert item["id"] not in dashboard.received()
    assert client.submit(member, 3, [a_result()])[0] == 200   # the learner's own still gets through


def test_a_replayed_submission_is_rejected(dashboard):
    member = member_of(dashboard)
    body, headers = client.signed(member, 7, {"results": [a_result()]})
    assert post(dashboard, body, headers)[0] == 200
    status, reply = post(dashboard, body, headers)             # the same bytes again
    assert status == 409 and reply["last_seq"] == 7
    older = a_result()
    status, _ = client.submit(member, 6, [older])               # a fresh result under an old number
    assert status == 409 and older["id"] not in dashboard.received()


def test_another_learners_submission_is_rejected(dashboard):
    alice, bob = member_of(dashboard), member_of(dashboard)
    item = a_result()
    as_bob = dict(alice, learner=bob["learner"])                # Alice's token, Bob's record
    assert client.submit(as_bob, 1, [item]) == (403, {"error": "this token belongs to another learner"})
    as_bob_signed = dict(as_bob, key=bob["key"])                # even signed with Bob's key
    assert client.submit(as_bob_signed, 2, [item])[0] == 403
    assert client.submit(dict(alice, token="not-a-token"), 3, [item])[0] == 401
    assert item["id"] not in dashboard.received()


def test_only_result_fields_are_accepted(dashboard):
    member = member_of(dashboard)
    leaky = a_result()
    leaky["code"] = "table = dynamodb.create_table(...)"
    status, reply = client.submit(member, 1, [leaky])
    assert status == 400 and "exactly the fields" in reply["error"]
    status, reply = client.submit(member, 2, [a_result(step="../../etc")])
    assert status == 400 and "step is not an id" in reply["error"]


def test_a_body_over_the_limit_is_refused(dashboard):
    member = member_of(dashboard)
    item = a_result()
    body, headers = client.signed(member, 1, {"results": [item], "pad": "x" * (wire.MAX_BODY + 10)})
    assert post(dashboard, body, headers)[0] == 413            # waitress refuses it before Flask reads it
    assert item["id"] not in dashboard.received()


def test_leave_revokes_the_token(dashboard, cli, labrunner_home):
    assert cli("class", "join", dashboard.url, "--name", "Leaver", "--code", dashboard.code).code == 0
    member = outbox.load_membership(labrunner_home / "data" / "class")
    result = cli("class", "leave")
    assert result.code == 0 and "Left the class" in result.out
    assert not (labrunner_home / "data" / "class" / "membership.json").exists()
    assert client.submit(member, 99, [a_result()])[0] == 401
    assert "Not in a class" in cli("class", "status").out
    assert client.join(dashboard.url, "Leaver", dashboard.code)[0] == 200     # the name is free again


def test_the_dashboard_needs_the_teacher_key_and_exports_csv(dashboard):
    member = member_of(dashboard, "=HYPERLINK(1)")
    assert client.submit(member, 1, [a_result()])[0] == 200
    for path in ("/", "/api/grid", "/export.csv"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(dashboard.url + path, timeout=10)
        assert refused.value.code == 403
    with urllib.request.urlopen(f"{dashboard.url}/export.csv?key={dashboard.key}", timeout=10) as response:
        text = response.read().decode()
    lines = text.splitlines()
    assert lines[0] == ("learner,lab,step_number,step,status,check_runs,failed_runs,hints_taken,"
                        "time_on_step_seconds,stuck")
    assert "'=HYPERLINK(1),dynamodb-basics,1,create-table,passed,2,1,1,42.0,no" in lines


def test_serve_with_host_says_what_it_exposes(tmp_path):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "labrunner", "class", "serve", "--host", "127.0.0.2",
                             "--port", "0", "--db", str(tmp_path / "d.db")], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "LABRUNNER_HOME": str(tmp_path / "h")})
    try:
        lines = [proc.stdout.readline() for _ in range(5)]
    finally:
        proc.terminate()
        proc.wait(10)
    text = "".join(lines)
    assert "class join http://127.0.0.2:" in text
    assert "Listening on 127.0.0.2:" in text and "anyone who can reach this machine" in text
    assert "plain HTTP" in text and "never sent" in text


# ---- the learner's side: outbox and sender ---------------------------------------------------

def test_a_check_result_waits_in_the_outbox_while_the_server_is_down(tmp_path, cli, labrunner_home):
    from labrunner import progress
    from labrunner.labs import catalog

    server = Dashboard(tmp_path / "srv").start()
    where = labrunner_home / "data" / "class"
    try:
        assert cli("class", "join", server.url, "--name", "Offline Olga", "--code", server.code).code == 0
        server.stop()
        lab = catalog.get("dynamodb-basics", with_code=False)
        step = lab.steps[0]
        progress.record_attempt(lab.id, step.id, False, "SECRET-ANSWER in the message")
        started = time.perf_counter()
        hook.after_check(lab, step, False)                  # what `check` calls (patch-class.diff)
        assert time.perf_counter() - started < 1.0          # no network wait with the server down
        queued = outbox.Outbox(where).pending(10)
        assert len(queued) == 1 and set(queued[0]) == set(wire.FIELDS)
        assert "SECRET" not in json.dumps(queued[0])
        assert (queued[0]["failed_runs"], queued[0]["status"]) == (1, "attempted")
        time.sleep(2)                                       # the detached sender meets a dead server
        status = cli("class", "status", "--json").json()
        assert status["queued"] == 1 and status["sender_running"] and "not reachable" in status["last_error"]
        server.start()                                      # same port, same file
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and outbox.Outbox(where).count():
            time.sleep(0.5)
        assert outbox.Outbox(where).count() == 0
        assert queued[0]["id"] in server.received()
        cell = next(iter(grid(server)["labs"][0]["cells"].values()))[step.id]
        assert (cell["status"], cell["check_runs"], cell["failed_runs"]) == ("attempted", 1, 1)
        assert cli("class", "status", "--json").json()["sent"] == 1
    finally:
        outbox.drop_membership(where)                       # the detached sender stops on its next look
        server.stop()


def test_a_hint_reaches_the_dashboard_without_waiting_for_a_check(dashboard, cli, labrunner_home):
    where = labrunner_home / "data" / "class"
    name = f"Hinted Hana {uuid.uuid4().hex[:4]}"
    try:
        assert cli("class", "join", dashboard.url, "--name", name, "--code", dashboard.code).code == 0
        assert cli("hint", "dynamodb-basics").code == 0
        assert cli("hint", "dynamodb-basics").code == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and outbox.Outbox(where).count():
            time.sleep(0.3)
        board = grid(dashboard)
        me = next(p["id"] for p in board["learners"] if p["name"] == name)
        lab = next(lab for lab in board["labs"] if lab["id"] == "dynamodb-basics")
        cell = lab["cells"][me][lab["steps"][0]["id"]]
        assert (cell["status"], cell["hints"], cell["check_runs"]) == ("attempted", 2, 0), cell
    finally:
        outbox.drop_membership(where)


def test_twenty_learners_lose_nothing_across_a_server_restart(tmp_path):
    figures = simulate(tmp_path, learners=20, duration=20, interval=1, down_at=7, down_for=5)
    assert figures["sent"] >= 300
    assert figures["lost"] == 0 and figures["received"] == figures["sent"]
    assert figures["still_queued"] == 0 and figures["unexpected_on_server"] == 0
    assert figures["survived_restart_via_queue"] >= 50      # ~5 s x 20 learners queued while it was down


def test_the_figures_sent_are_the_ones_labrunner_report_shows():
    from labrunner import progress, report, steps
    from labrunner.labs import catalog

    lab = catalog.get("dynamodb-basics", with_code=False)
    first, second = lab.steps[0], lab.steps[1]
    steps.go(lab, first)
    progress.record_attempt(lab.id, first.id, False, "no table")
    progress.record_hint(lab.id, first.id, 1)
    time.sleep(0.2)
    progress.record_attempt(lab.id, first.id, True)
    steps.go(lab, second)
    progress.record_attempt(lab.id, second.id, False, "not yet")
    rows = {r["id"]: r for r in report.build([lab])["labs"][0]["steps"]}
    sent = hook.figures(lab, first, True)
    row = rows[first.id]
    assert (sent["status"], sent["check_runs"], sent["hints"]) == (row["status"], row["check_runs"], row["hints_taken"])
    assert sent["time_on_step"] == row["time_on_step_seconds"] >= 0.2 and sent["failed_runs"] == 1
    working = hook.figures(lab, second, False)
    assert (working["status"], working["check_runs"], working["failed_runs"]) == ("attempted", 1, 1)
    assert rows[second.id]["time_on_step_seconds"] is None and working["time_on_step"] >= 0   # report: n/a until passed
    assert wire.result_problem(sent) is None and wire.result_problem(working) is None
