"""Find the Docker daemon the way testcontainers does, and name what it is.

Order (testcontainers'): its own override, DOCKER_HOST, the current docker context, then the
usual sockets of Docker Engine, Docker Desktop, Colima, Rancher Desktop and Podman (rootful and
rootless, $XDG_RUNTIME_DIR/podman/podman.sock included).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path


MIN_API_VERSION = "1.24"      # the docker SDK's oldest; only for the first ping


@dataclass(frozen=True)
class DockerHost:
    url: str          # e.g. unix:///var/run/docker.sock
    kind: str         # Docker Engine, Docker Desktop, Colima, Podman, Rancher Desktop
    source: str       # DOCKER_HOST, docker context 'x', default socket


def _kind(url: str) -> str:
    lowered = url.lower()
    for needle, kind in ((".colima", "Colima"), ("podman", "Podman"), (".rd/", "Rancher Desktop"),
                         (".docker/run", "Docker Desktop"), ("docker_engine", "Docker Desktop"),
                         ("docker.raw.sock", "Docker Desktop")):
        if needle in lowered:
            return kind
    return "Docker Engine"


def _context_host() -> tuple[str, str] | None:
    config_dir = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker"))
    try:
        current = json.loads((config_dir / "config.json").read_text()).get("currentContext")
    except (OSError, ValueError):
        return None
    if not current or current == "default":
        return None
    meta_root = config_dir / "contexts" / "meta"
    try:
        for meta in meta_root.glob("*/meta.json"):
            data = json.loads(meta.read_text())
            if data.get("Name") == current:
                host = data.get("Endpoints", {}).get("docker", {}).get("Host")
                if host:
                    return host, f"docker context '{current}'"
    except (OSError, ValueError):
        return None
    return None


def _testcontainers_host() -> tuple[str, str] | None:
    """testcontainers' own daemon setting, which it reads before DOCKER_HOST: a daemon URL in
    TESTCONTAINERS_HOST_OVERRIDE (a bare host name there only says where ports are reached,
    which is 127.0.0.1 for labrunner), else tc.host in ~/.testcontainers.properties."""
    override = os.environ.get("TESTCONTAINERS_HOST_OVERRIDE", "")
    if "://" in override:
        return override, "TESTCONTAINERS_HOST_OVERRIDE"
    try:
        lines = (Path.home() / ".testcontainers.properties").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "tc.host" and value.strip():
            return value.strip(), "tc.host in ~/.testcontainers.properties"
    return None


def _sockets() -> list[Path]:
    """The usual sockets, system-wide first, then this user's (rootless) ones."""
    home = Path.home()
    uid = os.getuid()
    runtime_dirs = [Path(d) for d in (os.environ.get("XDG_RUNTIME_DIR"), f"/run/user/{uid}") if d]
    sockets = [
        Path("/var/run/docker.sock"),
        home / ".docker/run/docker.sock",
        home / ".docker/desktop/docker.sock",
        home / ".colima/default/docker.sock",
        home / ".colima/docker.sock",
        home / ".rd/docker.sock",
        *(d / "docker.sock" for d in runtime_dirs),                 # rootless Docker
        *(d / "podman/podman.sock" for d in runtime_dirs),          # rootless Podman
        Path("/run/podman/podman.sock"),                            # rootful Podman
        home / ".local/share/containers/podman/machine/podman.sock",  # podman machine (macOS)
    ]
    unique = []
    for sock in sockets:
        if sock not in unique:
            unique.append(sock)
    return unique


def candidates() -> list[DockerHost]:
    """Where to look, in testcontainers' order: its own override, DOCKER_HOST (alone: a daemon
    the learner named is never swapped for another), the current docker context, then the
    default and rootless sockets that exist."""
    for found in (_testcontainers_host(),
                  (os.environ["DOCKER_HOST"], "DOCKER_HOST") if os.environ.get("DOCKER_HOST") else None):
        if found:
            return [DockerHost(found[0], _kind(found[0]), found[1])]
    hosts: list[DockerHost] = []
    context = _context_host()
    if context:
        hosts.append(DockerHost(context[0], _kind(context[0]), context[1]))
    if sys.platform == "win32":
        hosts.append(DockerHost("npipe:////./pipe/docker_engine", "Docker Desktop", "default pipe"))
        return hosts
    for sock in _sockets():
        if sock.exists():
            url = f"unix://{sock}"
            hosts.append(DockerHost(url, _kind(url), "default socket"))
    return hosts


def open_client(url: str, timeout: int = 60):
    """A docker SDK client on a daemon that answered its ping, and the ping's headers.

    The SDK would first ask /version to learn the API version, which Podman 4.3 takes a third
    of a second to answer: the ping's Api-Version header says the same in a millisecond.
    Raises what the SDK or requests raise when nothing answers."""
    import docker

    probe = docker.DockerClient(base_url=url, version=MIN_API_VERSION, timeout=timeout)
    response = probe.api.get(f"{probe.api.base_url}/_ping", timeout=timeout)
    response.raise_for_status()
    probe.close()
    version = response.headers.get("Api-Version") or "auto"
    return docker.DockerClient(base_url=url, version=version, timeout=timeout), response.headers


def is_podman(headers) -> bool:
    """Podman's Docker API says so in its ping's headers (Libpod-Api-Version, Server: Libpod/...)."""
    return "Libpod-Api-Version" in headers or "libpod" in headers.get("Server", "").lower()


def describe(host: DockerHost) -> str:
    return f"{host.kind} at {host.url} (from {host.source})"
