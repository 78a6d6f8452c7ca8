"""The PostgreSQL stand-in (RDS for PostgreSQL): service definition, a real local engine run as
an unprivileged user when root, per-session passwords, `labrunner shell` and `labrunner tool`."""

import os
import subprocess

import pytest

from labrunner import sessions
from labrunner.services import postgres

LAB = "rds-postgres-basics"


def test_service_definition_matches_the_official_image():
    service = postgres.SERVICE
    assert service.image == "postgres:18.6" and service.container_port == 5432
    env = service.docker_environment(postgres.Endpoint("postgres", "127.0.0.1", 1, "postgresql",
                                                       "postgres", "pw", "appdb"))
    assert env == {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "pw", "POSTGRES_DB": "appdb"}
    assert service.needs_password and service.local.refuses_root
    assert {"psql", "pg_dump", "pg_restore"} <= set(service.clients)


@pytest.fixture
def pg_session(start_lab):
    return start_lab(LAB)


def test_each_session_gets_its_own_password_and_an_rds_like_endpoint(cli, pg_session):
    state = pg_session.services["postgres"]
    assert len(state["password"]) >= 12 and state["username"] == "postgres" and state["database"] == "appdb"
    shown = cli("run", LAB, "--no-input").out
    assert f"password {state['password']}" in shown and f"port {state['port']}" in shown
    cli("down", LAB, "--wipe")                  # a new session: a new password (down alone resumes)
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    assert sessions.find(LAB).services["postgres"]["password"] != state["password"]
    assert os.stat(sessions._file(LAB)).st_mode & 0o077 == 0        # the password file is private


def test_the_local_engine_listens_on_loopback_only(pg_session):
    import psutil

    state = pg_session.services["postgres"]
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(state["pid"]).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
    assert listening == {("127.0.0.1", state["port"])}
    if os.geteuid() == 0:          # initdb and postgres refuse root: labrunner ran them as another user
        assert psutil.Process(state["pid"]).username() != "root"


def test_env_lets_psql_connect(cli, pg_session):
    out = cli("env").out
    state = pg_session.services["postgres"]
    assert f"export PGPASSWORD='{state['password']}'" in out and "export PGDATABASE='appdb'" in out


def test_tool_runs_pg_dump_against_the_session(cli, pg_session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    endpoint = pg_session.endpoint("postgres")
    with postgres.connect(endpoint) as conn:
        conn.execute("CREATE TABLE hello (x integer)")
    result = cli("tool", "postgres", "pg_dump", "-t", "hello", "-f", "hello.sql")
    assert result.code == 0, result
    assert "CREATE TABLE public.hello" in (tmp_path / "hello.sql").read_text()


def test_shell_gives_a_working_prompt_without_psql_on_path(pg_session, tmp_path):
    """psql comes from labrunner's own copy even when the machine has none on PATH."""
    env = dict(os.environ, PATH=os.path.dirname(os.path.realpath(os.sys.executable)))
    labrunner = os.path.join(os.path.dirname(os.sys.executable), "labrunner")
    done = subprocess.run([labrunner, "shell", "postgres"], input="SELECT 40 + 2 AS answer;\n",
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "42" in done.stdout


def test_shell_falls_back_to_a_python_prompt(pg_session, monkeypatch):
    """With no psql anywhere, a Python prompt opens with `conn` bound to the session."""
    env = dict(os.environ, LABRUNNER_NO_CLIENT_COPY="1", PATH="/nonexistent")
    labrunner = os.path.join(os.path.dirname(os.sys.executable), "labrunner")
    done = subprocess.run([labrunner, "shell", "postgres"],
                          input="print(conn.execute('select 6 * 7').fetchone()[0])\n",
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Python prompt on postgres" in done.stderr and "42" in done.stdout


def test_tool_inside_the_container_when_there_is_no_local_copy(cli, docker_runtime, monkeypatch):
    """On Docker with no client installed, `labrunner tool` runs pg_dump in the container,
    in the mounted workspace."""
    result = cli("run", LAB, "--runtime", "docker", "--no-input")
    assert result.code == 0, result
    try:
        session = sessions.find(LAB)
        monkeypatch.setenv("LABRUNNER_NO_CLIENT_COPY", "1")
        monkeypatch.setenv("PATH", os.path.dirname(__import__("shutil").which("docker")))
        monkeypatch.chdir(session.workspace)
        from labrunner import clients

        command = clients.resolve(session, "postgres", "pg_dump")
        assert command.where == "the container"
        done = subprocess.run(command.argv + ["-s", "-f", "schema.sql"], env=command.env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        from pathlib import Path

        assert "PostgreSQL database dump" in Path(session.workspace, "schema.sql").read_text()
    finally:
        cli("down", "--all", "--wipe")


def test_another_route_passes_and_a_typical_wrong_one_is_named(cli, pg_session):
    """The learner's own route (psql, another index name) passes; a role that can write fails."""
    for _ in range(3):                       # connect, schema, load: the reference solutions
        assert cli("solve", "--yes").code == 0
    assert cli("tool", "postgres", "psql", "-q", "-c",
               "CREATE INDEX my_own_name ON shop.orders (customer_id)").code == 0
    report = cli("check", "--json").json()
    assert report["step"] == "index" and report["passed"], report
    assert cli("solve", "--yes").code == 0            # transaction
    grants = ("CREATE ROLE reporting LOGIN PASSWORD 'read-only-please'; GRANT USAGE ON SCHEMA shop TO reporting; "
              "GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA shop TO reporting; "
              "ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO reporting")
    assert cli("tool", "postgres", "psql", "-q", "-c", grants).code == 0
    report = cli("check", "--json").json()
    assert report["step"] == "read-only-role" and not report["passed"]
    assert any("reporting could INSERT into shop.customers" in c["message"] for c in report["checks"])
    assert cli("tool", "postgres", "psql", "-q", "-c",
               "REVOKE INSERT ON ALL TABLES IN SCHEMA shop FROM reporting").code == 0
    assert cli("check", "--json").json()["passed"]
