"""Amazon RDS for SQL Server: Microsoft's SQL Server 2025 Linux image (Developer edition).

Docker only, and x86-64 only: there is no SQL Server image for arm64 (Azure SQL Edge, which
had one, was retired in 2025-09), and no pip, npm or Debian package of the server.
The driver is python-tds (pytds): pure Python, so nothing to install beside it — no ODBC
driver manager and no FreeTDS, which pymssql and Microsoft's ODBC-based drivers need or bundle
per platform.
"""

from __future__ import annotations

from labrunner.services.base import Endpoint, Service

# Microsoft publishes 2025 images as CU tags and `2025-latest`; pin a CU tag in your class
# config (LABRUNNER_IMAGE_SQLSERVER) when you need the exact build every time.
IMAGE = "mcr.microsoft.com/mssql/server:2025-latest"
MASTER_USER = "admin"
DATABASE = "appdb"
TOOLS = "/opt/mssql-tools18/bin"          # sqlcmd and bcp inside the image (not on its PATH)


def connect(endpoint: Endpoint, *, user: str | None = None, password: str | None = None,
            database: str | None = None, autocommit: bool = True):
    import pytds

    return pytds.connect(server=endpoint.host, port=endpoint.port, user=user or endpoint.username,
                         password=endpoint.password if password is None else password,
                         database=database or endpoint.database, autocommit=autocommit, login_timeout=5)


def connection(endpoint: Endpoint):
    return connect(endpoint)


def connector(endpoint: Endpoint):
    return lambda **kwargs: connect(endpoint, **kwargs)


def learner_client(endpoint: Endpoint):
    """What learner code run by a check gets: a python-tds connection, not autocommit."""
    return connect(endpoint, autocommit=False)


def _as_sa(endpoint: Endpoint):
    return connect(endpoint, user="sa", database="master")


def probe(endpoint: Endpoint) -> None:
    with _as_sa(endpoint) as conn:
        conn.cursor().execute("SELECT 1")


def initialize(endpoint: Endpoint) -> None:
    """The RDS-like master login: creates databases and logins, owns appdb, is not sysadmin."""
    user, db = endpoint.username, endpoint.database
    with _as_sa(endpoint) as conn:
        cur = conn.cursor()
        cur.execute(f"IF SUSER_ID('{user}') IS NULL CREATE LOGIN [{user}] WITH PASSWORD = '{endpoint.password}', "
                    "CHECK_POLICY = OFF")
        cur.execute(f"ALTER SERVER ROLE dbcreator ADD MEMBER [{user}]")
        cur.execute(f"ALTER SERVER ROLE securityadmin ADD MEMBER [{user}]")
        cur.execute(f"IF DB_ID('{db}') IS NULL CREATE DATABASE [{db}]")
        cur.execute(f"USE [{db}]; IF USER_ID('{user}') IS NULL CREATE USER [{user}] FOR LOGIN [{user}]; "
                    f"ALTER ROLE db_owner ADD MEMBER [{user}]")


def reset(endpoint: Endpoint) -> None:
    with _as_sa(endpoint) as conn:
        cur = conn.cursor()
        cur.execute(f"IF DB_ID('{endpoint.database}') IS NOT NULL BEGIN "
                    f"ALTER DATABASE [{endpoint.database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; "
                    f"DROP DATABASE [{endpoint.database}] END")
        cur.execute("SELECT name FROM sys.server_principals WHERE type = 'S' AND name NOT LIKE '##%' "
                    f"AND name NOT IN ('sa', '{endpoint.username}')")
        for (login,) in cur.fetchall():
            cur.execute(f"DROP LOGIN [{login}]")
    initialize(endpoint)


def exports(endpoint: Endpoint) -> dict[str, str]:
    """Also sqlcmd's own variables, so `sqlcmd -C` alone connects."""
    return {"MSSQL_HOST": endpoint.host, "MSSQL_PORT": str(endpoint.port), "MSSQL_USER": endpoint.username,
            "MSSQL_PASSWORD": endpoint.password, "MSSQL_DATABASE": endpoint.database,
            "SQLCMDSERVER": f"{endpoint.host},{endpoint.port}", "SQLCMDUSER": endpoint.username,
            "SQLCMDPASSWORD": endpoint.password, "SQLCMDDBNAME": endpoint.database}


def docker_environment(endpoint: Endpoint) -> dict[str, str]:
    # No MSSQL_PID: the image's default is the free Developer edition (2025 renamed its PID values).
    return {"ACCEPT_EULA": "Y", "MSSQL_SA_PASSWORD": endpoint.password}


SERVICE = Service(
    learner_client="labrunner.services.sqlserver:learner_client",
    name="sqlserver",
    aws_name="Amazon RDS for SQL Server",
    image=IMAGE,
    docker_standin="SQL Server 2025 Developer edition (Microsoft's Linux image)",
    container_port=1433,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"sqlserver": connection, "sqlserver_connect": connector},
    scheme="mssql",
    username=MASTER_USER,
    database=DATABASE,
    needs_password=True,
    docker_environment=docker_environment,
    workspace_in_container="/workspace",
    clients=("sqlcmd", "bcp"),
    shell="sqlcmd",
    shell_args=lambda endpoint: ["-C"],
    container_programs={"sqlcmd": f"{TOOLS}/sqlcmd", "bcp": f"{TOOLS}/bcp"},
    docker_architectures=("x86_64", "amd64"),
    initialize=initialize,
    local=None,
    local_unavailable_reason="SQL Server is published only as an x86-64 container image, not as a pip, npm or "
                             "Debian package",
    start_timeout=300.0,
)
