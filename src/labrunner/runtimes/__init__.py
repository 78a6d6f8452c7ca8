"""Runtimes: `docker` (containers) and `local` (processes); `auto` picks Docker when it answers."""

from __future__ import annotations

from labrunner.errors import UsageError

NAMES = ("auto", "docker", "local")


def get(name: str):
    if name == "docker":
        from labrunner.runtimes.docker import DockerRuntime

        return DockerRuntime()
    if name == "local":
        from labrunner.runtimes.local import LocalRuntime

        return LocalRuntime()
    if name == "auto":
        from labrunner.runtimes import docker

        return get("docker") if docker.available() else get("local")
    raise UsageError(f"no runtime named '{name}'", f"choose one of: {', '.join(NAMES)}")
