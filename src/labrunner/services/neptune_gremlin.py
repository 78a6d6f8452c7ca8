"""Amazon Neptune (property graph, Gremlin): Apache TinkerPop's Gremlin Server 3.7.3 with
TinkerGraph, string ids as Neptune uses, the traversal source `g`.

Docker: the Gremlin Server image. Local: the same server from its Maven Central jars on the
learner's Java (services/gremlin_server.py). The fixture `g` is a gremlinpython traversal source
over WebSocket that refuses lambdas before they leave, as Neptune refuses them.
"""

from __future__ import annotations

from labrunner.services import gremlin_server
from labrunner.services.base import Endpoint, Service

IMAGE = "tinkerpop/gremlin-server:3.7.3"
PATH = "/gremlin"
LAMBDA_REFUSED = ("Neptune does not support lambda steps: a Python lambda (or a Groovy closure) in a "
                  "traversal is refused. Write it with Gremlin steps instead (where(), by(), choose(), "
                  "math(), project())")


def url(endpoint: Endpoint) -> str:
    return f"ws://{endpoint.host}:{endpoint.port}{PATH}"


def _lambdas_in(bytecode) -> bool:
    """Does this bytecode (or a traversal nested in it) carry a lambda?"""
    from gremlin_python.process.traversal import Bytecode, Traversal

    for instruction in list(bytecode.source_instructions) + list(bytecode.step_instructions):
        for arg in instruction[1:]:
            if isinstance(arg, Traversal):
                arg = arg.bytecode
            if isinstance(arg, Bytecode):
                if _lambdas_in(arg):
                    return True
            elif callable(arg) and not isinstance(arg, type):
                return True
    return False


def _connection(endpoint: Endpoint, timeout: float):
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection

    class NeptuneLikeConnection(DriverRemoteConnection):
        def submit(self, bytecode):
            if _lambdas_in(bytecode):
                raise ValueError(LAMBDA_REFUSED)
            return super().submit(bytecode)

    return NeptuneLikeConnection(url(endpoint), gremlin_server.TRAVERSAL_SOURCE, pool_size=1,
                                 read_timeout=timeout, write_timeout=timeout)


def traversal_source(endpoint: Endpoint, timeout: float = 30):
    """The `g` fixture: `g.V()...toList()` runs on the server as bytecode. `g.close()` closes
    its connection (labrunner's fixtures and learner code runners call it)."""
    from gremlin_python.process.anonymous_traversal import traversal

    connection = _connection(endpoint, timeout)
    g = traversal().with_remote(connection)
    g.close = connection.close
    g.submit = lambda query, bindings=None: connection._client.submit(query, bindings).all().result()
    return g


def learner_client(endpoint: Endpoint):
    return traversal_source(endpoint, timeout=20)


def _upgrades(endpoint: Endpoint) -> None:
    """The WebSocket handshake alone, with the standard library: a port that is open but not yet
    Gremlin Server's (Docker's proxy answers first) fails here, before gremlinpython would leave
    a half-made connection behind."""
    import base64
    import os
    import socket

    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET {PATH} HTTP/1.1\r\nHost: {endpoint.host}:{endpoint.port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
    with socket.create_connection((endpoint.host, endpoint.port), timeout=2) as sock:
        sock.sendall(request.encode())
        reply = sock.recv(1024)
    if not reply.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"no WebSocket upgrade yet: {reply[:40]!r}")


def probe(endpoint: Endpoint) -> None:
    """Ready when a traversal answers."""
    _upgrades(endpoint)
    g = traversal_source(endpoint, timeout=5)
    try:
        g.V().limit(1).count().next()
    finally:
        g.close()


def reset(endpoint: Endpoint) -> None:
    g = traversal_source(endpoint)
    try:
        g.V().drop().iterate()
        g.E().drop().iterate()
    finally:
        g.close()


def exports(endpoint: Endpoint) -> dict[str, str]:
    return {"NEPTUNE_GREMLIN_ENDPOINT": url(endpoint), "GREMLIN_HOST": endpoint.host,
            "GREMLIN_PORT": str(endpoint.port), "GREMLIN_TRAVERSAL_SOURCE": gremlin_server.TRAVERSAL_SOURCE}


def doctor_notes() -> list[tuple[str, bool, str]]:
    java = gremlin_server.find_java()
    if java is None:
        java_line = ("java", False, f"not found: {gremlin_server.JAVA_INSTALL}")
    else:
        major, line = gremlin_server.java_version(java)
        ok = major >= 11
        java_line = ("java", ok, f"{line} ({java})" + ("" if ok else " — Gremlin Server needs Java 11 or later"))
    return [("gremlin server (local)", True, gremlin_server.describe()), java_line]


SERVICE = Service(
    name="neptune-gremlin",
    aws_name="Amazon Neptune (Gremlin)",
    image=IMAGE,
    docker_standin="Gremlin Server 3.7.3 with TinkerGraph (Apache TinkerPop, the reference Gremlin server); "
                   + gremlin_server.COST.replace("3 s", "4 s"),
    container_port=8182,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"g": traversal_source},
    environment={"JAVA_OPTIONS": gremlin_server.CONTAINER_JAVA_OPTIONS},
    # labrunner's configuration written in the container, then the server started on it: the
    # official image's own configuration takes numeric ids only
    entrypoint=("/bin/bash", "-c"),
    command=(gremlin_server.container_script(),),   # the image's default heap is 4 GB
    scheme="ws",
    local=gremlin_server.GremlinServerRecipe(),
    start_timeout=90.0,
    keeps_data=True,        # TinkerGraph's graphLocation: written on a clean stop, read on start
    learner_client="labrunner.services.neptune_gremlin:learner_client",
    prompt="labrunner.services.gremlin_prompt:open_prompt",
    doctor_notes="labrunner.services.neptune_gremlin:doctor_notes",
)
