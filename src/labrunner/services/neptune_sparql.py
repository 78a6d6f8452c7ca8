"""Amazon Neptune (RDF, SPARQL 1.1): Oxigraph's SPARQL server on both runtimes.

Local: `oxigraph serve` from the PyPI package `oxigraph`, its store on disk in the session's data
folder, on 127.0.0.1. Docker: the Oxigraph image. Both query the union of all graphs when a query
names none (`--union-default-graph`), as Neptune does. The fixture `sparql` is labrunner's small
HTTP client (services/sparql_client.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from labrunner.errors import RuntimeUnavailable
from labrunner.services.base import Endpoint, Service
from labrunner.services.sparql_client import SparqlClient

IMAGE = "ghcr.io/oxigraph/oxigraph:0.5.13"
OXIGRAPH_VERSION = "0.5.13"
SERVE_OPTIONS = ("--union-default-graph", "--timeout-s", "30")


def client(endpoint: Endpoint) -> SparqlClient:
    return SparqlClient(endpoint.url)


def learner_client(endpoint: Endpoint) -> SparqlClient:
    return SparqlClient(endpoint.url, timeout=20)


def probe(endpoint: Endpoint) -> None:
    SparqlClient(endpoint.url, timeout=3).ask("ASK { }")


def reset(endpoint: Endpoint) -> None:
    SparqlClient(endpoint.url).update("DROP ALL")


def exports(endpoint: Endpoint) -> dict[str, str]:
    return {"NEPTUNE_SPARQL_ENDPOINT": f"{endpoint.url}/query", "NEPTUNE_SPARQL_UPDATE": f"{endpoint.url}/update",
            "SPARQL_URL": endpoint.url}


def prompt(endpoint: Endpoint, label: str) -> int:
    from labrunner.services.sparql_client import prompt_loop

    return prompt_loop(client(endpoint), label)


def docker_command(endpoint: Endpoint) -> tuple[str, ...]:
    return ("serve", "--location", "/data", "--bind", "0.0.0.0:7878") + SERVE_OPTIONS


class OxigraphServer:
    """`oxigraph` from the PyPI package of that name (beside this Python), else on PATH."""

    refuses_root = False

    @property
    def standin(self) -> str:
        return f"Oxigraph {OXIGRAPH_VERSION} (a SPARQL 1.1 server, not AWS's engine)"

    def program(self) -> str | None:
        beside = Path(sys.executable).parent / ("oxigraph.exe" if os.name == "nt" else "oxigraph")
        return str(beside) if beside.is_file() else shutil.which("oxigraph")

    def find(self) -> str:
        if self.program() is None:
            raise RuntimeUnavailable(
                "the local SPARQL server (Oxigraph) is not installed",
                f'install it: pip install "oxigraph=={OXIGRAPH_VERSION}" — or use --runtime docker')
        return "oxigraph"

    def version(self) -> str:
        done = subprocess.run([self.program(), "--version"], capture_output=True, text=True, timeout=20)
        return done.stdout.strip() or done.stderr.strip()

    def argv(self, port: int, data_dir: str) -> list[str]:
        return [self.program(), "serve", "--location", os.path.join(data_dir, "store"),
                "--bind", f"127.0.0.1:{port}", *SERVE_OPTIONS]


def doctor_notes() -> list[tuple[str, bool, str]]:
    server = OxigraphServer()
    found = server.program()
    if found is None:
        return [("sparql server (local)", False,
                 f'Oxigraph not found: pip install "oxigraph=={OXIGRAPH_VERSION}" (or use --runtime docker)')]
    return [("sparql server (local)", True, f"{server.version()} ({found})")]


SERVICE = Service(
    name="neptune-sparql",
    aws_name="Amazon Neptune (SPARQL)",
    image=IMAGE,
    docker_standin=f"Oxigraph {OXIGRAPH_VERSION} (a SPARQL 1.1 server, not AWS's engine)",
    container_port=7878,
    docker_command=docker_command,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"sparql": client},
    shared_fixtures=("sparql",),
    local=OxigraphServer(),
    start_timeout=30.0,
    keeps_data=True,            # the store is on disk (RocksDB) in the data folder
    learner_client="labrunner.services.neptune_sparql:learner_client",
    prompt="labrunner.services.neptune_sparql:prompt",
    doctor_notes="labrunner.services.neptune_sparql:doctor_notes",
)
