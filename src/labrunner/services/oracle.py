"""Amazon RDS for Oracle: Oracle Database 23ai Free in gvenzl's slim, fast-start image.

Docker only: Oracle Database ships no pip, npm or Debian package, so the local runtime
cannot serve it, and says so. The session's database is the pluggable database FREEPDB1;
the master user `admin` is made there with DBA (RDS's master user has no SYSDBA).
"""

from __future__ import annotations

from labrunner.services.base import Endpoint, Service

IMAGE = "gvenzl/oracle-free:23.26.0-slim-faststart"
PDB = "FREEPDB1"
MASTER_USER = "admin"


def connect(endpoint: Endpoint, *, user: str | None = None, password: str | None = None, autocommit: bool = True):
    """python-oracledb in thin mode: pure Python, no Oracle client libraries needed."""
    import oracledb

    conn = oracledb.connect(user=user or endpoint.username,
                            password=endpoint.password if password is None else password,
                            dsn=f"{endpoint.host}:{endpoint.port}/{endpoint.database}", tcp_connect_timeout=5)
    conn.autocommit = autocommit
    return conn


def connection(endpoint: Endpoint):
    return connect(endpoint)


def connector(endpoint: Endpoint):
    return lambda **kwargs: connect(endpoint, **kwargs)


def learner_client(endpoint: Endpoint):
    """What learner code run by a check gets: a python-oracledb connection, not autocommit."""
    return connect(endpoint, autocommit=False)


def _as_system(endpoint: Endpoint):
    return connect(endpoint, user="system")          # the image sets SYSTEM's password to ORACLE_PASSWORD


def probe(endpoint: Endpoint) -> None:
    with _as_system(endpoint) as conn:
        conn.cursor().execute("SELECT 1 FROM dual")


def initialize(endpoint: Endpoint) -> None:
    """The RDS-like master user in the PDB (the image's APP_USER makes it on first start)."""
    with _as_system(endpoint) as conn:
        cur = conn.cursor()
        cur.execute("SELECT COUNT(*) FROM dba_users WHERE username = :name", name=endpoint.username.upper())
        if cur.fetchone()[0] == 0:
            cur.execute(f'CREATE USER {endpoint.username} IDENTIFIED BY "{endpoint.password}" '
                        "QUOTA UNLIMITED ON users")
        cur.execute(f"GRANT DBA, UNLIMITED TABLESPACE TO {endpoint.username}")


def reset(endpoint: Endpoint) -> None:
    """Every user the lab made dropped with its objects (the master user too, then made again)."""
    with _as_system(endpoint) as conn:
        cur = conn.cursor()
        cur.execute("SELECT username FROM dba_users WHERE oracle_maintained = 'N'")
        for (user,) in cur.fetchall():
            cur.execute(f'DROP USER "{user}" CASCADE')
    initialize(endpoint)


def exports(endpoint: Endpoint) -> dict[str, str]:
    return {"ORACLE_HOST": endpoint.host, "ORACLE_PORT": str(endpoint.port), "ORACLE_USER": endpoint.username,
            "ORACLE_PASSWORD": endpoint.password, "ORACLE_SERVICE": endpoint.database}


def docker_environment(endpoint: Endpoint) -> dict[str, str]:
    return {"ORACLE_PASSWORD": endpoint.password, "APP_USER": endpoint.username,
            "APP_USER_PASSWORD": endpoint.password}


def shell_args(endpoint: Endpoint) -> list[str]:
    """SQL*Plus logs in from its command line: user/"password"@//host:port/service."""
    return ["-L", f'{endpoint.username}/"{endpoint.password}"@//{endpoint.host}:{endpoint.port}/{endpoint.database}']


SERVICE = Service(
    learner_client="labrunner.services.oracle:learner_client",
    name="oracle",
    aws_name="Amazon RDS for Oracle",
    image=IMAGE,
    docker_standin="Oracle Database 23ai Free (gvenzl/oracle-free, slim, fast start)",
    container_port=1521,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"oracle": connection, "oracle_connect": connector},
    scheme="oracle",
    username=MASTER_USER,
    database=PDB,
    needs_password=True,
    docker_environment=docker_environment,
    workspace_in_container="/workspace",
    clients=("sqlplus",),
    shell="sqlplus",
    shell_args=shell_args,
    initialize=initialize,
    local=None,
    local_unavailable_reason="Oracle Database is published only as a container image, not as a pip, npm or "
                             "Debian package",
    start_timeout=300.0,
)
