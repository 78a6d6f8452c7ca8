"""What a stand-in is: one Service record per AWS service, used by both runtimes.

A service module (services/<name>.py) builds one `Service`: the Docker image
with its pinned tag, the container port and arguments, how to run the engine
without Docker (`LocalRecipe`), a readiness probe shared by both runtimes, the
fixtures that checks ask for by name, the client learner code gets (`learner_client`),
and how to wipe its data for `reset`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Protocol


@dataclass(frozen=True)
class Endpoint:
    """Where a running service answers, and the credentials a client needs."""

    service: str
    host: str
    port: int
    scheme: str = "http"
    username: str = ""
    password: str = ""
    database: str = ""
    ports: tuple[tuple[str, int], ...] = ()   # a cluster's other endpoints: (("reader", 41234), ...)

    def port_of(self, name: str) -> int:
        """The port of one of the service's named endpoints (Service.extra_ports)."""
        for known, port in self.ports:
            if known == name:
                return port
        raise KeyError(f"{self.service} has no endpoint named {name!r}")

    def at(self, name: str) -> "Endpoint":
        """The same service, user and database at one of its named ports (a reader endpoint, a node)."""
        return replace(self, port=self.port_of(name))

    @property
    def url(self) -> str:
        if self.scheme == "mongodb":     # the master user is in admin, as on DocumentDB: say so in the URL
            return self.mongodb_uri()
        if self.username:
            return f"{self.scheme}://{self.username}:{self.password}@{self.host}:{self.port}/{self.database}"
        return f"{self.scheme}://{self.host}:{self.port}"

    def mongodb_uri(self, *, database: bool = True) -> str:
        """A DocumentDB-shaped connection string for the local session: the master user in admin,
        TLS off, no retryable writes (engines before 8.0.2 have none), one server."""
        from urllib.parse import quote_plus

        credentials = (f"{quote_plus(self.username)}:{quote_plus(self.password)}@"
                       if self.username and self.password else "")
        path = self.database if database else ""
        return (f"mongodb://{credentials}{self.host}:{self.port}/{path}"
                "?authSource=admin&tls=false&retryWrites=false&directConnection=true")


class LocalRecipe(Protocol):
    """How the local runtime runs an engine as a plain process."""

    standin: str          # what the learner is told runs, e.g. "moto server (an emulator)"
    refuses_root: bool    # engines like initdb/mariadbd: run as an unprivileged user
    # Optional, with refuses_root: the process labrunner starts stays root and runs the engines as
    # the unprivileged user itself (a supervisor whose Python that user may not be able to read).
    drops_root_itself: bool

    def find(self) -> str:
        """Quickly confirm the engine is installed, or raise RuntimeUnavailable naming the install command."""

    def version(self) -> str:
        """The engine's version, for `doctor` (may be slower than find)."""

    def prepare(self, endpoint: Endpoint, data_dir: str, run) -> None:
        """Optional, once before the first start (e.g. initdb); `run(argv)` runs a command as the
        engine's user. Recipes without it need nothing prepared."""

    def argv(self, port: int, data_dir: str) -> list[str]:
        """The command line that starts the engine on 127.0.0.1:port."""

    def bin_dir(self) -> str | None:
        """Optional: where the engine's client programs are (psql, pg_dump...), for `labrunner tool`."""


def hook(spec: str):
    """The function a "module:function" field of a Service names (imported on use)."""
    import importlib

    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class Service:
    name: str                           # registry key and fixture prefix, e.g. "dynamodb"
    aws_name: str                       # "Amazon DynamoDB"
    image: str                          # pinned default image, e.g. "amazon/dynamodb-local:3.0.0"
    docker_standin: str                 # what runs on Docker, for `run` and `doctor`
    container_port: int
    probe: Callable[[Endpoint], None]   # raises until the engine answers a real request
    reset: Callable[[Endpoint], None]   # wipe all data (then earlier solutions are replayed)
    exports: Callable[[Endpoint], dict[str, str]]   # `labrunner env`
    fixtures: dict[str, Callable[[Endpoint], object]] = field(default_factory=dict)
    shared_fixtures: tuple[str, ...] = ()   # stateless clients a warm checker may keep between checks
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()    # replaces the image's entrypoint (e.g. ("/bin/bash", "-c"))
    docker_command: Callable[[Endpoint], tuple[str, ...]] | None = None   # when it needs the credentials
    environment: dict[str, str] = field(default_factory=dict)
    scheme: str = "http"
    username: str = ""                  # the master user, when the engine has users
    database: str = ""                  # the database a session gets
    needs_password: bool = False        # a fresh password per session
    docker_environment: Callable[[Endpoint], dict[str, str]] | None = None   # env from credentials
    workspace_in_container: str = ""    # mount the learner's workspace here (for `labrunner tool`)
    clients: tuple[str, ...] = ()       # the engine's own client programs, `labrunner tool` runs them
    client_args: Callable[[str, Endpoint], list[str]] | None = None   # e.g. ["-u", "admin"] for mysql
    shell_args: Callable[[Endpoint], list[str]] | None = None         # what `labrunner shell` adds to log in
    container_programs: dict[str, str] = field(default_factory=dict)  # program -> path inside the image
    docker_architectures: tuple[str, ...] = ()   # when set, the only CPU architectures its image exists for
    initialize: Callable[[Endpoint], None] | None = None   # once it answers: e.g. create the master user
    shell: str = ""                     # the client `labrunner shell` opens
    local: LocalRecipe | None = None
    local_unavailable_reason: str = ""  # when local is None: why, said plainly
    start_timeout: float = 60.0
    # False: no registry publishes its image (a stand-in labrunner's images/ builds, e.g. a
    # cluster's supervisor); `--runtime auto` then runs it locally unless an image override names one.
    image_published: bool = True
    keeps_data: bool = True             # False: an in-memory engine; `run` after `down` rebuilds its data
    # The client learner code gets from `answer.call(..., connect=<name>)`: "module:function",
    # imported in the answer's child and called with the Endpoint. Keep that module light: it is
    # all the child imports for this service (the driver itself inside the function).
    learner_client: str = ""
    aliases: tuple[str, ...] = ()       # other names for it in a lab with one such service
    # What `labrunner shell` opens when the service has no client program (or none is found):
    # "module:function", called with (Endpoint, banner_prefix) and returning an exit code — e.g.
    # a Python prompt with `db` bound, or a SPARQL prompt. Default: a Python prompt with `conn`.
    prompt: str = ""
    # A cluster's other endpoints, by name -> the port inside its container (a reader endpoint, a
    # control channel, one port per node). Each gets its own port on 127.0.0.1, kept in
    # ServiceState.ports and Endpoint.ports; a local recipe's argv(port, data_dir, ports) gets them.
    extra_ports: dict[str, int] = field(default_factory=dict)
    # A cluster's nodes: "module:function", called with the Endpoint, returning one dict per node
    # ({"name", "zone", "role", "port", "alive", "lag"}) for `status`.
    nodes: str = ""
    # Acting on one node: "module:function", called as (endpoint, action, node) for `labrunner fault
    # ACTION SERVICE/NODE` (node: a name, or "writer") and `labrunner failover SERVICE` (action
    # "failover", node the target or ""); returns the line to show.
    node_action: str = ""
    # Extra `status` lines while it runs: "module:function", called with the Endpoint, returning
    # lines — e.g. a cluster's restorable window for point-in-time restore.
    status_notes: str = ""
    # Extra `doctor` lines: "module:function" returning [(item, ok, detail), ...] — e.g. a CPU
    # without AVX for MongoDB, or which Gremlin Server the local runtime would run.
    doctor_notes: str = ""
