"""The Docker runtime: each service a container with labels, ports on 127.0.0.1 only.

Containers outlive the command (no reaper); the labels org.labrunner.lab,
org.labrunner.session and org.labrunner.service let `labrunner down` find them.
Images come from services/ (pinned), or an override / registry mirror (config.py).
"""

from __future__ import annotations

import dataclasses
import functools
import os

from labrunner import config
from labrunner.errors import RuntimeUnavailable, ServiceError
from labrunner.runtimes.base import LOOPBACK, credentials, endpoint_of, free_port
from labrunner.runtimes.docker_host import DockerHost, candidates, describe, is_podman, open_client
from labrunner.services.base import Service

LABEL = "org.labrunner"


@functools.lru_cache(maxsize=1)
def connect() -> tuple[object, DockerHost]:
    """A docker client on the first daemon that answers, or RuntimeUnavailable."""
    try:
        import docker  # noqa: F401  (is the SDK installed?)
    except ModuleNotFoundError:
        raise RuntimeUnavailable("the Docker SDK for Python is not installed", "pip install docker") from None
    tried = []
    for host in candidates():
        try:
            client, headers = open_client(host.url)
            if is_podman(headers) and host.kind != "Podman":    # its socket path need not say so
                host = dataclasses.replace(host, kind="Podman")
            return client, host
        except Exception as exc:  # refused, permission denied, not a socket
            tried.append(f"{host.url} ({reason_of(exc)})")
    where = "; ".join(tried) if tried else "no Docker socket found"
    raise RuntimeUnavailable(
        f"Docker is not reachable: {where}",
        "start Docker Desktop, Colima or Podman (or `sudo systemctl start docker`), "
        "or use the local runtime: --runtime local",
    )


def reason_of(exc: BaseException) -> str:
    """Why a daemon did not answer, in a few words: the operating system's reason where there is
    one ("No such file or directory", "Connection refused", "Permission denied"), found however
    deep requests and urllib3 wrapped it; else the error's own first line."""
    seen, todo = set(), [exc]
    while todo:
        err = todo.pop(0)
        if id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, OSError) and err.strerror:
            return err.strerror
        todo += [a for a in getattr(err, "args", ()) if isinstance(a, BaseException)]
        todo += [e for e in (err.__cause__, err.__context__, getattr(err, "reason", None))
                 if isinstance(e, BaseException)]
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


def override_source(service: Service) -> str:
    """Which setting replaced a service's image (the same order as config.image_override)."""
    image_name = service.image.rsplit(":", 1)[0].rsplit("/", 1)[-1]
    for key in (service.name, image_name):
        var = "LABRUNNER_IMAGE_" + key.upper().replace("-", "_").replace(".", "_")
        if os.environ.get(var):
            return var
    return "the config file's [images]"


def standin_for(client, service: Service, image: str) -> str:
    """What runs, in words. The service's own description only for its own image (or the same
    image from a registry mirror); an overridden image is named as such, with the engine and
    version its labels give (org.labrunner.engine, else org.opencontainers.image.description)."""
    mirror = config.registry_mirror()
    if image in (service.image, f"{mirror}/{service.image}"):
        return service.docker_standin
    try:
        labels = client.images.get(image).labels or {}
    except Exception:  # noqa: BLE001 — the words matter less than the launch
        labels = {}
    engine = labels.get(f"{LABEL}.engine") or labels.get("org.opencontainers.image.description")
    source = override_source(service)
    if engine:
        return f"{engine}, image {image} from {source}, in place of {service.docker_standin}"
    return f"image {image} (overridden by {source}), in place of {service.docker_standin}"


def available() -> bool:
    try:
        connect()
        return True
    except RuntimeUnavailable:
        return False


def home_label() -> str:
    """Which labrunner state folder a container belongs to (a short hash of its path)."""
    import hashlib

    from labrunner import paths

    return hashlib.sha256(str(paths.state_dir().resolve()).encode()).hexdigest()[:12]


def _host_port(container, container_port: int) -> int | None:
    """The port on 127.0.0.1 that Docker published for the container's port."""
    container.reload()
    bindings = container.attrs["NetworkSettings"]["Ports"].get(f"{container_port}/tcp") or []
    return next((int(b["HostPort"]) for b in bindings if b.get("HostIp") in (LOOPBACK, "")), None)


class DockerRuntime:
    name = "docker"

    def __init__(self):
        self.client, self.host = connect()

    def describe(self) -> str:
        return describe(self.host)

    def image_for(self, service: Service) -> str:
        return config.resolve_image(service.name, service.image)

    def ensure_image(self, image: str, service_name: str, progress=None, has_local: bool = True) -> None:
        import docker.errors

        try:
            self.client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as exc:
            raise ServiceError(f"Docker could not look up image {image}: {exc.explanation}") from None
        repository, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "latest")
        def failed(reason: str) -> RuntimeUnavailable:
            return RuntimeUnavailable(
                f"could not pull {image}: {' '.join(str(reason).split())}",
                "check the network, or point labrunner at an image you have: "
                f"LABRUNNER_IMAGE_{service_name.upper()}=IMAGE or LABRUNNER_REGISTRY_MIRROR=HOST (see README)"
                + (", or use --runtime local" if has_local else ""),
            )

        try:
            for event in self.client.api.pull(repository, tag=tag, stream=True, decode=True):
                # Docker refuses a pull up front; Podman (and Docker, for a failure after the
                # pull began) reports it inside the stream, as an event with an error.
                if isinstance(event, dict) and (event.get("error") or event.get("errorDetail")):
                    raise failed(event.get("errorDetail", {}).get("message") or event.get("error"))
                if progress:
                    progress(event)
        except docker.errors.APIError as exc:
            raise failed(exc.explanation or exc) from None
        try:
            self.client.images.get(image)
        except docker.errors.ImageNotFound:
            raise RuntimeUnavailable(f"pulling {image} gave no image", "check the image name and tag") from None

    def launch(self, service: Service, *, lab_id: str, session_id: str, port: int | None,
               workspace: str | None = None, progress=None, attempts: int = 3) -> dict:
        import docker.errors

        image = self.image_for(service)
        if service.docker_architectures:
            arch = self.client.info().get("Architecture", "")
            if arch not in service.docker_architectures:
                raise RuntimeUnavailable(
                    f"{service.aws_name} has no container image for {arch} (only {', '.join(service.docker_architectures)})",
                    "use an x86-64 machine (or a class machine) for this lab",
                )
        self.ensure_image(image, service.name, progress, has_local=service.local is not None)
        labels = {f"{LABEL}.lab": lab_id, f"{LABEL}.session": session_id, f"{LABEL}.service": service.name,
                  f"{LABEL}.home": home_label()}
        creds = credentials(service)
        environment = dict(service.environment)
        inside = endpoint_of({"service": service.name, "host": LOOPBACK, "port": service.container_port, **creds})
        if service.docker_environment:
            environment.update(service.docker_environment(inside))
        command = list(service.docker_command(inside) if service.docker_command else service.command) or None
        volumes = {}
        if service.workspace_in_container and workspace:
            os.makedirs(workspace, exist_ok=True)
            volumes[os.path.abspath(workspace)] = {"bind": service.workspace_in_container, "mode": "rw"}
        container = None
        try:
            # A port chosen here, not by Docker, is kept when the container starts again
            # (`labrunner fault restart`, `run` after a crash): the learner's env stays right.
            bound = port or free_port()
            container = self.client.containers.create(
                image,
                command=command,
                entrypoint=list(service.entrypoint) or None,
                environment=environment,
                labels=labels,
                name=f"labrunner-{lab_id}-{service.name}-{session_id[:8]}",
                ports={f"{service.container_port}/tcp": (LOOPBACK, bound),
                       **{f"{inner}/tcp": (LOOPBACK, free_port()) for inner in service.extra_ports.values()}},
                volumes=volumes or None,
            )
            container.start()
        except docker.errors.APIError as exc:
            if container is not None:          # created but could not start: leave nothing behind
                container.remove(force=True)
            text = str(exc.explanation or exc)
            if "port is already allocated" in text or "address already in use" in text:
                if port is None and attempts > 1:      # another program took our free port first
                    return self.launch(service, lab_id=lab_id, session_id=session_id, port=None,
                                       workspace=workspace, progress=progress, attempts=attempts - 1)
                raise ServiceError(
                    f"port {bound} on {LOOPBACK} is taken by another program, so {service.name} cannot use it",
                    f"choose another with --port {service.name}=PORT, or leave --port out for a free one",
                ) from None
            raise ServiceError(f"Docker could not start {image}: {text}") from None
        host_port = _host_port(container, service.container_port)
        extra = {name: _host_port(container, inner) for name, inner in service.extra_ports.items()}
        if host_port is None or None in extra.values():
            container.remove(force=True)
            raise ServiceError(f"Docker did not publish {service.name}'s ports on {LOOPBACK}")
        return {
            "service": service.name, "runtime": self.name, "host": LOOPBACK, "port": host_port,
            "container": container.id, "image": image, "standin": standin_for(self.client, service, image),
            "docker_host": self.host.url,
            "lab": lab_id, "session": session_id, "workspace": workspace or "", "ports": extra, **creds,
        }

    def _container(self, state: dict):
        import docker.errors

        try:
            return self.client.containers.get(state["container"])
        except docker.errors.NotFound:
            return None

    def alive(self, state: dict) -> bool:
        container = self._container(state)
        if container is None:
            return False
        return container.status in ("running", "created", "restarting")

    def paused(self, state) -> bool:
        container = self._container(state)
        return container is not None and container.status == "paused"

    def logs(self, state: dict, lines: int = 30) -> str:
        container = self._container(state)
        if container is None:
            return ""
        return container.logs(tail=lines).decode("utf-8", "replace")

    def remove(self, state: dict) -> None:
        import docker.errors

        container = self._container(state)
        if container is not None:
            try:
                container.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass

    def signal(self, state: dict, action: str) -> dict:
        container = self._container(state)
        if container is None:
            raise ServiceError(f"the {state['service']} container is gone", "start the lab again with `labrunner run`")
        if action == "kill":
            container.kill()
        elif action == "stop":
            container.stop(timeout=10)
        elif action == "pause":
            container.pause()
        elif action == "resume":
            container.unpause()
        elif action == "restart":
            container.reload()
            if container.status == "paused":
                container.unpause()
            container.restart(timeout=10)
            from labrunner import services

            # Where it answers now (the port it was bound to at launch).
            service = services.get(state["service"])
            state["port"] = _host_port(container, service.container_port) or state["port"]
            state["ports"] = {name: _host_port(container, inner) or (state["ports"] or {}).get(name)
                              for name, inner in service.extra_ports.items()}
        return state

    def labelled(self, session_id: str | None = None) -> list:
        """This user's labrunner containers (of one session, or all of them): another user's, or
        another LABRUNNER_HOME's, on the same Docker daemon are never touched."""
        labels = [f"{LABEL}.home={home_label()}"]
        if session_id:
            labels.append(f"{LABEL}.session={session_id}")
        return self.client.containers.list(all=True, filters={"label": labels})

    def sweep(self, keep_sessions: set[str]) -> list[str]:
        """Remove this user's labrunner containers whose session is not kept; return them."""
        removed = []
        for container in self.labelled():
            if container.labels.get(f"{LABEL}.session") in keep_sessions:
                continue
            removed.append(f"container {container.name}")
            container.remove(force=True, v=True)
        return removed

