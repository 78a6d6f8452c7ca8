"""What labrunner records about one running service: the typed record a runtime's `launch`
makes, the session file keeps, and fixtures, `env` and `status` read.

Both runtimes fill the common part (where it answers, with which credentials, what runs);
each has a few fields of its own. Mapping access (`state["port"]`, `state.get("pid")`) is
kept for the runtimes' code, and refuses a name that is not a field, so a typo is an error
rather than a silent empty value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from labrunner.services.base import Endpoint


@dataclass
class ServiceState:
    service: str
    runtime: str                 # "docker" or "local"
    host: str
    port: int
    scheme: str = "http"
    username: str = ""           # RDS-like engines: the master user, the session's password, a database
    password: str = ""
    database: str = ""
    standin: str = ""            # what runs, in the learner's words
    lab: str = ""
    session: str = ""
    workspace: str = ""
    ports: dict = field(default_factory=dict)   # a cluster's other endpoints: {"reader": 41234, ...}
    # the local runtime: the process and its folders
    pid: int | None = None
    started: float | None = None   # the process's start time: a pid is signalled only when it matches
    run_dir: str = ""
    data_dir: str = ""
    log: str = ""
    # the Docker runtime: the container and the daemon that runs it
    container: str = ""
    image: str = ""
    docker_host: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> "ServiceState":
        """A record from a runtime or a session file; an unknown field is a TypeError."""
        if isinstance(data, ServiceState):
            return data
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TypeError(f"unknown service state field(s): {', '.join(unknown)}")
        return cls(**data)

    def as_dict(self) -> dict:
        return asdict(self)

    def endpoint(self) -> Endpoint:
        return Endpoint(service=self.service, host=self.host, port=int(self.port), scheme=self.scheme,
                        username=self.username, password=self.password, database=self.database,
                        ports=tuple(sorted((name, int(port)) for name, port in (self.ports or {}).items())))

    # -- mapping access for the runtimes' code ------------------------------------------
    def _field(self, key: str) -> str:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return key

    def __getitem__(self, key: str):
        return getattr(self, self._field(key))

    def __setitem__(self, key: str, value) -> None:
        setattr(self, self._field(key), value)

    def get(self, key: str, default=None):
        value = getattr(self, self._field(key))
        return default if value in (None, "") else value

    def items(self):
        return self.as_dict().items()
