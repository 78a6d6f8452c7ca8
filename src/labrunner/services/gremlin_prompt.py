"""`labrunner shell neptune-gremlin`: the Gremlin Console when one is installed (GREMLIN_CONSOLE_HOME,
or `gremlin.sh` on PATH), connected to the session's server; else a Python prompt with `g` bound."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def console() -> str | None:
    home = os.environ.get("GREMLIN_CONSOLE_HOME")
    if home:
        candidate = Path(home).expanduser() / "bin" / "gremlin.sh"
        if candidate.is_file():
            return str(candidate)
    return shutil.which("gremlin.sh")


def open_prompt(endpoint, label: str) -> int:
    found = console()
    if found:
        return _console(found, endpoint)
    return _python(endpoint, label)


def _console(program: str, endpoint) -> int:
    with tempfile.TemporaryDirectory(prefix="labrunner-gremlin-") as folder:
        remote = Path(folder, "remote.yaml")
        serializer = "org.apache.tinkerpop.gremlin.util.ser.GraphBinaryMessageSerializerV1"
        remote.write_text(f"hosts: [{endpoint.host}]\nport: {endpoint.port}\n"
                          f"serializer: {{ className: {serializer} }}\n", encoding="utf-8")
        init = Path(folder, "init.groovy")
        init.write_text(f":remote connect tinkerpop.server {remote.as_posix()}\n:remote console\n", encoding="utf-8")
        return subprocess.call([program, "-i", str(init)])


def _python(endpoint, label: str) -> int:
    import code

    from gremlin_python.process.graph_traversal import __
    from gremlin_python.process.traversal import Cardinality, Merge, Order, P, T, TextP

    from labrunner.services.neptune_gremlin import traversal_source

    g = traversal_source(endpoint)
    banner = (f"Python prompt on {label}: `g` is a gremlinpython traversal source (bytecode, as Neptune takes it).\n"
              "Try: g.V().limit(5).elementMap().toList()   g.submit(\"g.V().count()\") sends a plain string.\n"
              "__, P, T, TextP, Order, Merge, Cardinality are imported. Ctrl-D leaves.")
    try:
        code.interact(banner=banner, local={"g": g, "__": __, "P": P, "T": T, "TextP": TextP, "Order": Order,
                                            "Merge": Merge, "Cardinality": Cardinality}, exitmsg="")
    finally:
        g.close()
    return 0
