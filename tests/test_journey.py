"""The learner's journey, walked as a learner walks it: the run loop in a pseudo-terminal
(pexpect) in one "terminal", labrunner commands and the engine's own clients in another.
Local runtime, real engines (moto's server, PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

from labrunner import progress, sessions

pytestmark = pytest.mark.local

BIN = str(Path(sys.executable).parent / "labrunner")
LAB = "dynamodb-basics"


def spawn(*args: str, timeout: float = 60) -> pexpect.spawn:
    env = dict(os.environ, COLUMNS="100", LINES="50", TERM="dumb", NO_COLOR="1")
    return pexpect.spawn(BIN, list(args), env=env, encoding="utf-8", timeout=timeout, dimensions=(50, 100))


def menu(child) -> None:
    child.expect(r"\[c\]heck")
    child.expect("labrunner")


@pytest.fixture
def loop(cli):
    """The run loop of dynamodb-basics in a pty, past the intro, at its first prompt."""
    child = spawn("run", LAB, "--runtime", "local")
    while child.expect(["Press any key for step 1", "more of the introduction"]) == 1:
        child.send(" ")
    child.send(" ")
    child.expect("step 1 of 7")
    menu(child)
    yield child
    if child.isalive():
        child.sendline("q")
        child.expect(pexpect.EOF)
    cli("down", "--all", "--wipe")


def test_the_first_screen_fits_the_terminal(cli):
    """The introduction comes a screenful at a time (it was 132 lines before step 1 showed)."""
    child = spawn("run", LAB, "--runtime", "local")        # a 50-line terminal
    try:
        index = child.expect(["more of the introduction", "Press any key for step 1"])
        first_screen = child.before.replace("\r\n", "\n").split("\n")
        assert len(first_screen) <= 50, len(first_screen)
        assert "What you will do" in child.before
        while index == 0:
            child.send(" ")
            index = child.expect(["more of the introduction", "Press any key for step 1"])
        child.send(" ")
        child.expect("step 1 of 7")
        menu(child)
        child.sendline("q")
        child.expect(pexpect.EOF)
    finally:
        cli("down", "--all", "--wipe")


def test_a_pass_in_another_terminal_is_noticed_by_the_loop(cli, loop):
    assert cli("solve", "--yes").code == 0                 # the work terminal
    loop.sendline("c")                                     # the learner comes back to the loop
    loop.expect("passed in another terminal")
    loop.expect("step 2 of 7")                             # the loop shows where the learner is now
    menu(loop)
    assert progress.position(LAB) == "load-items"


def test_solve_in_the_loop_names_the_step_and_asks(cli, loop):
    loop.sendline("s")
    loop.expect(r"Apply the reference solution of step 1, 'Create the Music table'\?")
    loop.sendline("n")
    menu(loop)
    assert "create-table" not in progress.completed(LAB)   # nothing was applied
    loop.sendline("s")
    loop.expect("Apply the reference solution of step 1")
    loop.sendline("y")
    loop.expect("step 2 of 7")
    assert "create-table" in progress.completed(LAB)


def test_next_on_an_unchecked_step_says_so(loop):
    loop.sendline("n")
    loop.expect("Step 1 is not complete yet")
    loop.expect("step 2 of 7")
    assert progress.position(LAB) == "load-items"


def test_the_loop_tells_the_truth_after_down_in_another_terminal(cli, loop):
    assert cli("down", "--all").code == 0
    loop.sendline("c")
    loop.expect("were stopped in another terminal")
    loop.expect(r"\[u\]p")
    loop.sendline("q")
    loop.expect(f"Nothing of {LAB} is running")
    loop.expect(pexpect.EOF)
    assert "Services keep running" not in loop.before


def test_solve_from_the_command_line_asks_or_wants_yes(cli):
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        result = cli("solve")                               # no terminal to ask in
        assert result.code == 4 and "add --yes" in result.err, result
        assert "create-table" not in progress.completed(LAB)
        result = cli("solve", "--yes")
        assert result.code == 0, result
        assert "Applied the reference solution of step 1, 'Create the Music table'" in result.out
        assert ".labrunner-backup" not in result.out        # no learner file was replaced
    finally:
        cli("down", "--all", "--wipe")


def test_solve_names_the_backup_it_really_made(cli):
    assert cli("run", LAB, "--runtime", "local", "--no-input", "--step", "3").code == 0
    try:
        workspace = Path(sessions.find(LAB).workspace)
        (workspace / "query_songs.py").write_text("# my own attempt\n")
        result = cli("solve", "--yes")
        assert result.code == 0, result
        backups = list((workspace / ".labrunner-backup").glob("query_songs.py.*"))
        assert len(backups) == 1 and backups[0].read_text() == "# my own attempt\n"
        assert str(backups[0]) in result.out.replace("\n", "")
    finally:
        cli("down", "--all", "--wipe")


def test_status_counts_check_runs_in_words(cli):
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        assert cli("check").code == 1
        assert cli("check").code == 1
        out = " ".join(cli("status").out.split())
        assert "checked 2 times" in out and "2 checks" not in out, out
        assert cli("status", "--json").json()["labs"][0]["steps"][0]["check_runs"] == 2
    finally:
        cli("down", "--all", "--wipe")


def test_reset_keeps_the_record_of_later_steps(cli):
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        for _ in range(5):
            assert cli("solve", "--yes").code == 0
        assert len(progress.completed(LAB)) == 5
        result = cli("reset", "--step", "3", "--yes")
        assert result.code == 0, result
        assert len(progress.completed(LAB)) == 5            # a reset is about data, not the record
        assert progress.position(LAB) == "query-by-key"
        listed = {row["id"]: row for row in cli("list", "--json").json()["labs"]}
        assert listed[LAB]["completed"] == 5
    finally:
        cli("down", "--all", "--wipe")


def test_down_then_run_rebuilds_an_emulator_and_says_so(cli):
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        for _ in range(3):
            assert cli("solve", "--yes").code == 0
        assert cli("down").code == 0
        assert sessions.find(LAB).stopped
        assert cli("check").code == 4                       # stopped: says how to resume
        result = cli("run", LAB, "--no-input")
        assert result.code == 0, result
        assert "rebuilt it as at the start of step 4" in result.out.replace("\n", " ")
        check = cli("check", "--json").json()
        assert check["step"] == "update-plays"
        assert all("no table named 'Music'" not in c["message"] for c in check["checks"]), check
    finally:
        cli("down", "--all", "--wipe")


def test_down_then_run_keeps_the_learners_own_postgres_work(cli):
    import psycopg

    lab = "rds-postgres-basics"
    assert cli("run", lab, "--runtime", "local", "--no-input", "--step", "3").code == 0
    try:
        endpoint = sessions.find(lab).endpoint("postgres")
        with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.username,
                             password=endpoint.password, dbname=endpoint.database, autocommit=True) as conn:
            conn.execute("CREATE TABLE my_own_work (note text)")
            conn.execute("INSERT INTO my_own_work VALUES ('written by the learner')")
        assert cli("down", lab).code == 0
        result = cli("run", lab, "--no-input")
        assert result.code == 0, result
        assert "back on its data" in result.out
        assert "step 3 of" in result.out
        endpoint = sessions.find(lab).endpoint("postgres")
        with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.username,
                             password=endpoint.password, dbname=endpoint.database) as conn:
            assert conn.execute("SELECT note FROM my_own_work").fetchone() == ("written by the learner",)
    finally:
        cli("down", "--all", "--wipe")


def test_two_labs_running_and_none_named_is_asked_not_guessed(cli):
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    assert cli("run", "elasticache-sessions-leaderboards", "--runtime", "local", "--no-input").code == 0
    try:
        for command in ("check", "env", "solve", "hint"):
            result = cli(command)
            assert result.code == 4, (command, result)
            assert "2 labs are running" in result.err and LAB in result.err, (command, result)
        assert "AWS_ENDPOINT_URL_DYNAMODB" in cli("env", LAB).out
        assert cli("check", LAB, "--json").json()["lab"] == LAB
        # a command about a service means the one running lab that runs it
        result = cli("fault", "pause", "dynamodb")
        assert result.code == 0 and f"fault resume dynamodb {LAB}" in " ".join(result.out.split()), result
        assert cli("fault", "resume", "dynamodb").code == 0
    finally:
        cli("down", "--all", "--wipe")


def test_shell_of_a_service_the_lab_does_not_run_is_one_line(cli):
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        for service in ("mysql", "postgres"):
            result = cli("shell", service)
            assert result.code == 4, result
            assert result.err.count("\n") == 1 and "runs no service" in result.err and "dynamodb" in result.err
        result = cli("shell", "nosuch")
        assert result.code == 4 and "no service named 'nosuch'" in result.err
    finally:
        cli("down", "--all", "--wipe")


@pytest.mark.skipif(shutil.which("psql") is None, reason="needs a psql on PATH or in the PostgreSQL wheel")
def test_ctrl_c_inside_psql_stays_in_psql(cli):
    lab = "rds-postgres-basics"
    assert cli("run", lab, "--runtime", "local", "--no-input").code == 0
    try:
        child = spawn("shell", "postgres", lab)
        child.expect(r"=[#>] ")
        child.send("SELECT 'half a line")
        child.sendintr()                                   # Ctrl-C: psql clears the line
        child.expect(r"=[#>] ")
        child.sendline("SELECT 40 + 2 AS answer;")
        child.expect("42")
        child.sendline("\\q")
        child.expect(pexpect.EOF)
        child.close()
        assert "interrupted" not in child.before
        assert child.exitstatus == 0
    finally:
        cli("down", "--all", "--wipe")


def test_show_fills_or_explains_every_placeholder(cli):
    from labrunner.labs import catalog

    for lab in catalog.all_labs():
        result = cli("show", lab.id)
        assert result.code == 0, result
        assert "{{" not in result.out and "}}" not in result.out, (lab.id, result.out)


def test_down_with_nothing_running_is_not_an_error(cli):
    result = cli("down")
    assert result.code == 0 and "Nothing is running" in result.out


@pytest.mark.docker
def test_down_then_run_on_docker_keeps_postgres_data_and_rebuilds_dynamodb(cli, docker_runtime):
    import boto3
    import psycopg

    lab = "rds-postgres-basics"
    assert cli("run", lab, "--runtime", "docker", "--no-input", "--step", "3").code == 0
    assert cli("run", LAB, "--runtime", "docker", "--no-input").code == 0
    try:
        endpoint = sessions.find(lab).endpoint("postgres")
        with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.username,
                             password=endpoint.password, dbname=endpoint.database, autocommit=True) as conn:
            conn.execute("CREATE TABLE my_own_work (note text)")
            conn.execute("INSERT INTO my_own_work VALUES ('kept in the stopped container')")
        assert cli("solve", LAB, "--yes").code == 0                   # step 1 done: the Music table
        assert cli("down", "--all").code == 0
        containers = docker_runtime.labelled()
        assert containers and all(c.status == "exited" for c in containers), [c.status for c in containers]
        result = cli("run", lab, "--no-input")
        assert result.code == 0 and "back on its data" in result.out, result
        endpoint = sessions.find(lab).endpoint("postgres")
        with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.username,
                             password=endpoint.password, dbname=endpoint.database) as conn:
            assert conn.execute("SELECT note FROM my_own_work").fetchone() == ("kept in the stopped container",)
        result = cli("run", LAB, "--no-input")
        assert result.code == 0, result
        assert "rebuilt it as at the start of step 2" in result.out.replace("\n", " "), result
        ddb = sessions.find(LAB).endpoint("dynamodb")
        client = boto3.client("dynamodb", endpoint_url=ddb.url, region_name="us-east-1",
                              aws_access_key_id="x", aws_secret_access_key="x")
        assert "Music" in client.list_tables()["TableNames"]
    finally:
        cli("down", "--all", "--wipe")
    assert docker_runtime.labelled() == []


def test_show_prints_a_labs_words_as_text_and_an_override_as_such(cli, lab_copy, monkeypatch):
    lab = lab_copy("dynamodb-basics")
    text = (lab / "lab.yaml").read_text()
    (lab / "lab.yaml").write_text(text.replace("summary: ", "summary: '[/] [bold]not markup[/]' #", 1))
    monkeypatch.setenv("LABRUNNER_IMAGE_DYNAMODB", "labrunner-local/dynamodb:moto-5.2.5")
    result = cli("--labs-dir", str(lab.parent), "show", "dynamodb-basics")
    assert result.code == 0, result
    assert "[/] [bold]not markup[/]" in result.out
    assert "in place of DynamoDB Local" in " ".join(result.out.split())


# ---- a learner's data is never wiped to get going again (found walking the labs) ------------

def _pg(session):
    import psycopg

    endpoint = session.endpoint("postgres")
    return psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.username,
                           password=endpoint.password, dbname=endpoint.database, autocommit=True, connect_timeout=5)


def test_run_thaws_a_paused_engine_and_keeps_its_data(cli):
    lab = "rds-postgres-basics"
    assert cli("run", lab, "--runtime", "local", "--no-input").code == 0
    try:
        with _pg(sessions.find(lab)) as conn:
            conn.execute("CREATE TABLE mine (x int); INSERT INTO mine VALUES (7)")
        assert cli("fault", "pause", "postgres").code == 0
        result = cli("run", lab, "--no-input")
        assert result.code == 0, result
        assert "was paused" in result.out and "starting it again" not in result.out, result
        with _pg(sessions.find(lab)) as conn:
            assert conn.execute("SELECT x FROM mine").fetchone() == (7,)
    finally:
        cli("down", "--all", "--wipe")


def test_an_engine_that_will_not_start_again_keeps_its_data(cli):
    lab = "rds-postgres-basics"
    assert cli("run", lab, "--runtime", "local", "--no-input").code == 0
    try:
        session = sessions.find(lab)
        with _pg(session) as conn:
            conn.execute("CREATE TABLE mine (x int)")
        assert cli("down", lab).code == 0
        data = Path(session.services["postgres"]["data_dir"])
        with open(data / "pgdata" / "postgresql.conf", "a") as conf:
            conf.write("\nthis is not a setting\n")               # the server refuses to start
        result = cli("run", lab, "--no-input")
        assert result.code == 5, result
        assert "could not be brought back" in result.err and "its data is kept" in result.err, result
        assert (data / "pgdata" / "PG_VERSION").is_file()             # nothing was wiped
        assert sessions.find(lab) is not None
    finally:
        cli("down", "--all", "--wipe")


def test_another_runtime_is_refused_while_the_lab_has_data_on_one(cli):
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        result = cli("run", LAB, "--runtime", "docker", "--no-input")
        assert result.code == 4, result
        assert "on the local runtime" in result.err and "--wipe" in result.err, result
        assert sessions.find(LAB).runtime == "local"
    finally:
        cli("down", "--all", "--wipe")


def test_down_all_with_a_lab_and_reset_without_a_terminal_are_refused(cli):
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        result = cli("down", "--all", LAB)
        assert result.code == 4 and "takes no lab name" in result.err, result
        assert not sessions.find(LAB).stopped
        result = cli("reset", "--step", "1")
        assert result.code == 4 and "add --yes" in result.err, result
    finally:
        cli("down", "--all", "--wipe")


@pytest.mark.docker
def test_down_all_sweeps_orphan_containers_and_keeps_stopped_labs(cli, docker_runtime):
    from labrunner import services

    assert cli("run", LAB, "--runtime", "docker", "--no-input").code == 0
    assert cli("down", LAB).code == 0                                 # stopped, kept
    orphan = docker_runtime.launch(services.get("dynamodb"), lab_id=LAB, session_id="orphan0000",
                                   port=None, workspace=None)          # what a kill mid-start leaves
    try:
        result = cli("down", "--all")
        assert result.code == 0, result
        assert "Stopped leftover container" in result.out, result
        left = docker_runtime.labelled()
        assert [c.labels["org.labrunner.session"] for c in left] == [sessions.find(LAB).id]
    finally:
        docker_runtime.remove(orphan)
        cli("down", "--all", "--wipe")
    assert docker_runtime.labelled() == []
