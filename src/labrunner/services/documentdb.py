"""Amazon DocumentDB: MongoDB 8.0 on Docker, a MongoDB-protocol server from PyPI without Docker.

Docker: the official `mongo:8.0.x` image (DocumentDB offers MongoDB 8.0 API compatibility), its
root user from MONGO_INITDB_ROOT_USERNAME/PASSWORD, which also turns on authentication.
Local: `mongod` on PATH when there is one, else SecantusDB from PyPI (services/mongo_server.py).
Either way: a master user with a fresh password per session, a database, SCRAM authentication,
TLS off (DocumentDB's TLS and CA bundle are explained in the lab, not faked).
"""

from __future__ import annotations

from labrunner.services import mongo_client
from labrunner.services.base import Endpoint, Service
from labrunner.services.mongo_server import MongoServer

IMAGE = "mongo:8.0.17"
MASTER_USER = "docdbadmin"
DATABASE = "catalog"
SYSTEM_DATABASES = ("admin", "config", "local")


def database(endpoint: Endpoint):
    """The `mongo` fixture: a pymongo Database on the session's database, as the master user."""
    return mongo_client.database(endpoint)


def client(endpoint: Endpoint):
    """The `mongo_client` fixture: a pymongo MongoClient logged in as the master user."""
    return mongo_client.client(endpoint)


def probe(endpoint: Endpoint) -> None:
    """Ready when an authenticated command answers (not just the handshake, which needs no login)."""
    conn = mongo_client.client(endpoint)
    try:
        conn[endpoint.database].list_collection_names()
    finally:
        conn.close()


def reset(endpoint: Endpoint) -> None:
    """Every database but the system ones dropped (the session's database comes back on first write)."""
    conn = mongo_client.client(endpoint)
    try:
        for name in conn.list_database_names():
            if name not in SYSTEM_DATABASES:
                conn.drop_database(name)
    finally:
        conn.close()


def exports(endpoint: Endpoint) -> dict[str, str]:
    """`labrunner env`: a DocumentDB-shaped connection string (TLS off here) and its parts."""
    url = mongo_client.uri(endpoint)
    return {"DOCDB_URI": url, "MONGODB_URI": url, "DOCDB_HOST": endpoint.host, "DOCDB_PORT": str(endpoint.port),
            "DOCDB_USER": endpoint.username, "DOCDB_PASSWORD": endpoint.password,
            "DOCDB_DATABASE": endpoint.database}


def docker_environment(endpoint: Endpoint) -> dict[str, str]:
    """The mongo image's own variables; labrunner's stand-in image honours the same ones."""
    return {"MONGO_INITDB_ROOT_USERNAME": endpoint.username, "MONGO_INITDB_ROOT_PASSWORD": endpoint.password}


def client_args(program: str, endpoint: Endpoint) -> list[str]:
    return [mongo_client.uri(endpoint)]


def python_prompt(endpoint: Endpoint, where: str) -> int:
    """`labrunner shell documentdb` without mongosh: a Python prompt with `db` bound."""
    import code

    db = database(endpoint)
    banner = (f"Python prompt on {where}: `db` is the {endpoint.database} database (pymongo), e.g. "
              "db.products.find_one() or list(db.products.find({'category': 'outdoor'}, {'name': 1})). "
              "Ctrl-D leaves.")
    try:
        code.interact(banner=banner, local={"db": db, "client": db.client}, exitmsg="")
    finally:
        db.close()
    return 0


def _cpu_flags() -> set[str] | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return None


def _kernel() -> tuple[int, int, int] | None:
    import platform
    import re

    if platform.system() != "Linux":
        return None
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", platform.release())
    return tuple(int(part or 0) for part in found.groups()) if found else None


def _local_choice() -> str:
    import shutil

    from labrunner.errors import RuntimeUnavailable
    from labrunner.services import mongo_server

    mongod = shutil.which("mongod")
    try:
        kind = mongo_server.which()
    except RuntimeUnavailable as exc:
        return f"--runtime local has none: {exc.message}"
    if kind == "mongod":
        return f"--runtime local runs this machine's mongod ({mongod}), chosen before SecantusDB"
    skipped = f" ({mongo_server.OVERRIDE} skips the mongod on PATH)" if mongod else " (no mongod on PATH)"
    return f"--runtime local runs SecantusDB from PyPI{skipped}"


def doctor_notes() -> list[tuple[str, bool, str]]:
    """AVX (MongoDB 5.0 and later need it), the kernels MongoDB 8.0 refuses, and which local
    server `--runtime local` would run."""
    from labrunner.errors import RuntimeUnavailable
    notes = []
    flags = _cpu_flags()
    fallback = ("use --runtime local, or an image that runs on this CPU: "
                "LABRUNNER_IMAGE_DOCUMENTDB=<image> (labrunner's stand-in image, or mongo:4.4)")
    if flags is None:
        notes.append(("documentdb CPU", True, "could not read the CPU flags here; MongoDB 5.0 and later need "
                                              "AVX (x86-64) — if mongo:8.0 will not start, " + fallback))
    elif "avx" not in flags and any(f in flags for f in ("sse2", "lm")):
        notes.append(("documentdb CPU", False, f"this CPU has no AVX: {IMAGE} (MongoDB 5.0 and later) will not "
                                               "start on Docker — " + fallback))
    else:
        notes.append(("documentdb CPU", True, "AVX present (MongoDB 5.0 and later need it)"
                      if "avx" in flags else "not x86-64: no AVX needed"))
    kernel = _kernel()
    if kernel and (6, 19, 0) <= kernel < (7, 0, 14):
        notes.append(("documentdb kernel", False, f"Linux {'.'.join(map(str, kernel))}: MongoDB 8.0 stops at "
                                                  "start on kernels 6.19 to 7.0.13 (its TCMalloc) — " + fallback))
    notes.append(("documentdb local server", True, _local_choice()))
    return notes


SERVICE = Service(
    name="documentdb",
    aws_name="Amazon DocumentDB",
    image=IMAGE,
    docker_standin="MongoDB 8.0 (the official mongo image)",
    container_port=27017,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"mongo": database, "mongo_client": client},
    shared_fixtures=("mongo", "mongo_client"),
    scheme="mongodb",
    username=MASTER_USER,
    database=DATABASE,
    needs_password=True,
    docker_environment=docker_environment,
    workspace_in_container="/workspace",
    clients=("mongosh",),
    client_args=client_args,
    shell="mongosh",
    local=MongoServer(),
    start_timeout=90.0,
    keeps_data=True,
    learner_client="labrunner.services.mongo_client:learner_client",
    prompt="labrunner.services.documentdb:python_prompt",
    doctor_notes="labrunner.services.documentdb:doctor_notes",
)
