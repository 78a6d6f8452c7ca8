"""The local DocumentDB stand-in: a MongoDB-protocol server run as its own process.

First choice: a real `mongod` on PATH (a learner who has MongoDB installed). Otherwise
SecantusDB from PyPI (the `SecantusDB` package: a MongoDB-protocol server on WiredTiger),
chosen over nx-27017 by running the lab's checks on both (see the lab's differences.md).
SecantusDB is GPL-2.0: labrunner never imports it; it runs as a separate program, started with
this Python (`python -c` calling its console entry point), and only ever spoken to over the wire.

Both take the session's master user the same way: `prepare` starts the server once without
authentication, creates the user in `admin` with the root role over the wire, and stops it; the
real start then requires SCRAM authentication (`--auth`).

`python -m labrunner.services.mongo_server provision PORT USER -- SERVER-ARGV...` does that
provisioning in a child (the password on stdin), so the local runtime records its pid.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from labrunner.errors import RuntimeUnavailable
from labrunner.services.base import Endpoint

SECANTUS_PACKAGE = "SecantusDB"
SECANTUS_VERSION = "0.7.0b3"
SECANTUS_CACHE = "64M"          # WiredTiger cache (its default is 1G): a lab's catalogue is tiny
# --sync-on-commit: its log fsynced on every commit. Without it a write acknowledged seconds before
# a SIGKILL (`labrunner fault kill`) was gone after the restart (measured); DocumentDB acknowledges
# a write once it is durable on its storage quorum.
# secantus.cli's main, run in a child with this Python (never imported here: GPL-2.0)
SECANTUS_MAIN = ("import sys; from secantus.cli import main; sys.argv[0] = 'secantusd-py'; "
                 "sys.exit(main())")
OVERRIDE = "LABRUNNER_MONGO_SERVER"     # "secantus" or "mongod": force one (tests, comparisons)


def _mongod() -> str | None:
    if os.environ.get(OVERRIDE, "") == "secantus":
        return None
    return shutil.which("mongod")


def _secantus_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("secantus") is not None and find_spec("wiredtiger") is not None


def _secantus_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(SECANTUS_PACKAGE)
    except PackageNotFoundError:
        return ""


def which() -> str:
    """"mongod" or "secantus": the server the local runtime would run (or raise)."""
    if _mongod():
        return "mongod"
    if os.environ.get(OVERRIDE, "") == "mongod":
        raise RuntimeUnavailable(f"{OVERRIDE}=mongod but no mongod is on PATH",
                                 f"install MongoDB, or unset {OVERRIDE}")
    if _secantus_installed():
        return "secantus"
    raise RuntimeUnavailable(
        "no local MongoDB-protocol server is installed (neither mongod on PATH nor SecantusDB from PyPI)",
        f'install one: pip install "labrunner[local]" (SecantusDB {SECANTUS_VERSION} from PyPI) — or use '
        "Docker: --runtime docker")


def secantus_argv(port: int, data_dir: str, *, auth: bool = True) -> list[str]:
    config = Path(data_dir, "secantusd.toml")
    if not config.exists():
        config.write_text("# labrunner: settings are on the command line; this file stops the search for "
                          "a secantusd.toml elsewhere\n", encoding="utf-8")
    argv = [sys.executable, "-c", SECANTUS_MAIN, "--config", str(config), "--host", "127.0.0.1",
            "--port", str(port), "--storage-path", os.path.join(data_dir, "db"), "--standalone",
            "--cache-size", SECANTUS_CACHE, "--sync-on-commit", "--log-level", "WARNING"]
    return argv + (["--auth"] if auth else [])


def mongod_argv(port: int, data_dir: str, *, auth: bool = True) -> list[str]:
    db = os.path.join(data_dir, "db")
    os.makedirs(db, exist_ok=True)
    argv = [_mongod() or "mongod", "--bind_ip", "127.0.0.1", "--port", str(port), "--dbpath", db, "--quiet"]
    return argv + (["--auth"] if auth else [])


class MongoServer:
    """LocalRecipe: mongod when a user has one, else SecantusDB from PyPI."""

    refuses_root = False

    @property
    def standin(self) -> str:
        try:
            kind = which()
        except RuntimeUnavailable:
            return "a MongoDB-protocol server (none installed)"
        if kind == "mongod":
            return "MongoDB (this machine's mongod)"
        return (f"SecantusDB {_secantus_version()} (a MongoDB-protocol server from PyPI, not MongoDB; "
                "GPL-2.0, beta, run as its own program)")

    def find(self) -> str:
        kind = which()
        if kind == "secantus" and _secantus_version() != SECANTUS_VERSION:
            raise RuntimeUnavailable(
                f"SecantusDB {_secantus_version()} is installed; the local DocumentDB stand-in is proven "
                f"on SecantusDB {SECANTUS_VERSION}",
                f'install it: pip install "SecantusDB=={SECANTUS_VERSION}" — or use Docker: --runtime docker')
        return "mongod" if kind == "mongod" else "secantusd-py"

    def version(self) -> str:
        if which() == "mongod":
            out = subprocess.run([_mongod(), "--version"], capture_output=True, text=True, timeout=20).stdout
            return (out.strip().splitlines() or ["mongod"])[0] + f" ({_mongod()})"
        return f"version {_secantus_version()}, run by {sys.executable} (no mongod on PATH, which would come first)"

    def _argv(self, port: int, data_dir: str, *, auth: bool) -> list[str]:
        if which() == "mongod":
            return mongod_argv(port, data_dir, auth=auth)
        return secantus_argv(port, data_dir, auth=auth)

    def prepare(self, endpoint: Endpoint, data_dir: str, run) -> None:
        """Create the master user: start once without --auth, createUser over the wire, stop."""
        server = self._argv(endpoint.port, data_dir, auth=False)
        run([sys.executable, "-m", "labrunner.services.mongo_server", "provision", str(endpoint.port),
             endpoint.username, "--", *server], input=endpoint.password + "\n")

    def argv(self, port: int, data_dir: str) -> list[str]:
        return self._argv(port, data_dir, auth=True)


def provision(port: int, user: str, password: str, server: list[str], timeout: float = 60.0) -> None:
    """Start `server` (no auth), create `user` in admin with the root role, stop it cleanly."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    log = open(os.devnull, "wb")
    process = subprocess.Popen(server, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        client = MongoClient("127.0.0.1", port, directConnection=True, serverSelectionTimeoutMS=250)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server ended while being set up (exit code {process.returncode})")
            try:
                client.admin.command("ping")
                break
            except PyMongoError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the server did not answer within {timeout:g} s while being set up")
        client.admin.command("createUser", user, pwd=password, roles=["root"])
        client.close()
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[0] != "provision" or "--" not in argv:
        print("usage: python -m labrunner.services.mongo_server provision PORT USER -- SERVER-ARGV...",
              file=sys.stderr)
        return 2
    split = argv.index("--")
    port, user = int(argv[1]), argv[2]
    password = sys.stdin.readline().rstrip("\n")
    provision(port, user, password, argv[split + 1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
