"""Creating an Aurora stand-in cluster: the first writer (initdb and the settings every node
shares), the base backup that point-in-time restore starts from, the master credentials."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

from labrunner.services.aurora_node import ADMIN_USER, Node, _run, bin_dir, conf_quote, hand_over


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} aurora: {message}", file=sys.stderr, flush=True)


def now() -> str:
    """UTC, to the millisecond: 2026-11-30T19:10:35.118Z."""
    at = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


def create_writer(node: Node, data: Path, creds: dict[str, str]) -> None:
    """initdb the first writer with the master user, the supervisor's role, the database and
    the settings every node shares (pg_basebackup and pg_rewind copy them), then start it."""
    log(f"creating writer {node.name} (initdb)")
    user, database = creds["user"], creds["database"]
    pwfile = data / "pwfile"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(fd, "w") as fh:
            fh.write(creds["password"] + "\n")
        hand_over(pwfile)
        _run([os.path.join(bin_dir(), "initdb"), "-D", str(node.pgdata), "-U", user, f"--pwfile={pwfile}",
              "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8",
              "--no-sync"], os.environ.copy(), node.log)
    finally:
        pwfile.unlink(missing_ok=True)
    archive = str(data / "archive")
    target = shlex.quote(archive) + "/%f"
    archive_command = f"test ! -f {target} && cp %p {target}"
    restore_command = f"cp {target} %p"
    with open(node.pgdata / "pg_hba.conf", "a") as fh:
        # Clients from anywhere the server listens (loopback only, except inside a container,
        # where Docker's published ports arrive from its bridge), with a password.
        fh.write("host all all all scram-sha-256\n")
    with open(node.pgdata / "postgresql.conf", "a") as fh:
        fh.write("\n# aurora stand-in\n"
                 "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                 "wal_level = replica\nhot_standby = on\nhot_standby_feedback = on\nwal_log_hints = on\n"
                 "max_wal_senders = 10\nmax_replication_slots = 10\nmax_slot_wal_keep_size = '1GB'\n"
                 "wal_sender_timeout = '5s'\nwal_receiver_timeout = '5s'\n"
                 "wal_receiver_status_interval = '1s'\nwal_retrieve_retry_interval = '1s'\n"
                 f"archive_mode = on\narchive_command = {conf_quote(archive_command)}\n"
                 f"restore_command = {conf_quote(restore_command)}\nwal_keep_size = '128MB'\n"
                 "shared_buffers = '32MB'\nmax_connections = 60\nfsync = on\nsynchronous_commit = on\n")
    ident = lambda name: '"' + name.replace('"', '""') + '"'   # noqa: E731
    script = (f"CREATE ROLE {ADMIN_USER} WITH SUPERUSER REPLICATION LOGIN PASSWORD "
              f"{conf_quote(node.admin_password)};\n\n"
              f"CREATE DATABASE {ident(database)} OWNER {ident(user)};\n\n")
    _run([os.path.join(bin_dir(), "postgres"), "--single", "-D", str(node.pgdata), "-j", "postgres"],
         os.environ.copy(), node.log, input=script)
    node.start()


def base_backup(writer: Node, data: Path) -> dict:
    """The starting point of point-in-time restore: a base backup of the new cluster in
    DIR/backups/<time> (plain format, with the WAL it needs). The archive in DIR/archive
    holds every WAL segment after it; restore copies the backup and replays the archive
    up to recovery_target_time."""
    stamp = now()
    folder = data / "backups" / stamp.replace(":", "").replace("-", "").replace(".", "")
    folder.parent.mkdir(mode=0o700, exist_ok=True)
    hand_over(folder.parent)
    _run([os.path.join(bin_dir(), "pg_basebackup"), "-d", writer.conninfo(), "-D", str(folder),
          "-X", "fetch", "-c", "fast", "--no-sync"], writer.env(), writer.log)
    lsn = writer.execute("SELECT pg_current_wal_lsn()::text")[0][0]
    log(f"base backup for point-in-time restore: {folder.relative_to(data)}")
    # Point-in-time restore can reach any time from the backup's end on (recovery must pass it).
    return {"time": stamp, "finished": now(), "path": str(folder.relative_to(data)), "wal_lsn_after": lsn}


def read_credentials(data: Path) -> dict[str, str] | None:
    """The master user, password and database, needed to create the cluster (and to repair the
    supervisor's role); None for an existing cluster started without them."""
    path = data / "credentials.json"
    if path.exists():
        try:
            creds = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"aurora: {path.name} is not readable JSON ({exc}); rewrite it as "
                             '{"user": ..., "password": ..., "database": ...}')
    else:
        creds = {"user": os.environ.get("LABRUNNER_MASTER_USER"),
                 "password": os.environ.get("LABRUNNER_MASTER_PASSWORD"),
                 "database": os.environ.get("LABRUNNER_MASTER_DATABASE")}
    missing = [key for key in ("user", "password", "database") if not creds.get(key)]
    if len(missing) == 3 and (data / "cluster.json").exists():
        return None
    if missing:
        raise SystemExit(f"aurora: no master {', '.join(missing)}; write DIR/credentials.json or set "
                         "LABRUNNER_MASTER_USER, LABRUNNER_MASTER_PASSWORD and LABRUNNER_MASTER_DATABASE")
    if creds["user"] == ADMIN_USER:
        raise SystemExit(f"aurora: the master user cannot be named {ADMIN_USER} (the supervisor's own role)")
    return {key: str(creds[key]) for key in ("user", "password", "database")}
