"""Find the Docker daemon the way testcontainers does, and name what it is.

Order: DOCKER_HOST, the current docker context, then the usual sockets of
Docker Engine, Docker Desktop, Colima, Rancher Desktop and Podman.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path


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


def candidates() -> list[DockerHost]:
    found: list[DockerHost] = []
    for var in ("TESTCONTAINERS_HOST_OVERRIDE_URL", "DOCKER_HOST"):
        if os.environ.get(var):
            found.append(DockerHost(os.environ[var], _kind(os.environ[var]), var))
            return found
    context = _context_host()
    if context:
        found.append(DockerHost(context[0], _kind(context[0]), context[1]))
    if sys.platform == "win32":
        found.append(DockerHost("npipe:////./pipe/docker_engine", "Docker Desktop", "default pipe"))
        return found
    home = Path.home()
    uid = os.getuid()
    sockets = [
        Path("/var/run/docker.sock"),
        home / ".docker/run/docker.sock",
        home / ".colima/default/docker.sock",
        home / ".colima/docker.sock",
        home / ".rd/docker.sock",
        Path(f"/run/user/{uid}/docker.sock"),
        Path(f"/run/user/{uid}/podman/podman.sock"),
        Path("/run/podman/podman.sock"),
    ]
    for sock in sockets:
        if sock.exists():
            url = f"unix://{sock}"
            found.append(DockerHost(url, _kind(url), "default socket"))
    return found


def describe(host: DockerHost) -> str:
    return f"{host.kind} at {host.url} (from {host.source})"
