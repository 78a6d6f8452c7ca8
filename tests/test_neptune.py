"""The Neptune stand-ins on real servers: Gremlin Server 3.7.3 (from its Maven Central jars on this
machine's Java, or the stand-in image) and Oxigraph (from the PyPI wheel, or the stand-in image).

Gremlin Server's jars are fetched once per test run into a shared folder (LABRUNNER_MAVEN_REGISTRY
names the registry; the tests that need it skip without it) and copied into each test's own
LABRUNNER_HOME: a copied cache folder is what a second machine gets, and one test proves that is
enough with the registry out of reach.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labrunner import sessions
from labrunner.services import gremlin_server, neptune_gremlin, neptune_sparql
from labrunner.services.sparql_client import SparqlClient, SparqlError, prompt_loop

GREMLIN_LAB, SPARQL_LAB = "neptune-gremlin", "neptune-sparql"
UNREACHABLE = "http://127.0.0.1:9"          # the discard port: nothing answers


# ---- the engine cache ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def jar_cache(tmp_path_factory):
    """A LABRUNNER_HOME whose engine cache holds Gremlin Server's jars, fetched once per run."""
    if not os.environ.get("LABRUNNER_MAVEN_REGISTRY"):
        pytest.skip("LABRUNNER_MAVEN_REGISTRY is not set: Gremlin Server's jars cannot be fetched")
    home = tmp_path_factory.mktemp("jar-cache")
    previous = os.environ.get("LABRUNNER_HOME")
    os.environ["LABRUNNER_HOME"] = str(home)
    try:
        gremlin_server.fetch_classpath()
    finally:
        if previous is None:
            os.environ.pop("LABRUNNER_HOME", None)
        else:
            os.environ["LABRUNNER_HOME"] = previous
    return home / "cache"


@pytest.fixture
def cached_jars(jar_cache, labrunner_home):
    """This test's LABRUNNER_HOME with the jars in its cache (a copy, as a second machine gets)."""
    target = Path(os.environ["LABRUNNER_HOME"]) / "cache"
    shutil.copytree(jar_cache, target, dirs_exist_ok=True)
    return target


def test_every_jar_is_pinned_by_version_and_sha256():
    artifacts = gremlin_server.artifacts()
    assert len(artifacts) == len({a.name for a in artifacts}) == 39
    assert all(a.kind == "maven" and a.digest.startswith("sha256:") and len(a.digest) == 7 + 64 for a in artifacts)
    names = {a.name for a in artifacts}
    assert {"org.apache.tinkerpop:gremlin-server", "org.apache.tinkerpop:tinkergraph-gremlin",
            "ch.qos.logback:logback-classic"} <= names
    assert {a.version for a in artifacts if a.name.startswith("org.apache.tinkerpop:")} == {"3.7.3"}


def test_the_configuration_is_neptune_like_and_on_loopback(tmp_path):
    gremlin_server.write_config(str(tmp_path), "127.0.0.1", 8199)
    yaml_text = (tmp_path / "gremlin-server.yaml").read_text()
    props = (tmp_path / "tinkergraph.properties").read_text()
    assert "host: 127.0.0.1" in yaml_text and "port: 8199" in yaml_text
    assert "vertexIdManager=ANY" in props and "defaultVertexPropertyCardinality=set" in props
    assert f"graphLocation={(tmp_path / 'graph.json').as_posix()}" in props
    command = gremlin_server.java_argv("java", ["a.jar"], str(tmp_path), 8199)
    assert f"-Xmx{gremlin_server.HEAP}" in command and command[-1].endswith("gremlin-server.yaml")


# ---- Gremlin Server on the local runtime --------------------------------------------------------

def _listening(pid):
    import psutil

    process = psutil.Process(pid)
    return {(c.laddr.ip, c.laddr.port) for c in process.net_connections("inet") if c.status == psutil.CONN_LISTEN}


def test_gremlin_local_takes_string_ids_refuses_lambdas_and_keeps_the_graph_across_down(cli, cached_jars):
    from gremlin_python.process.traversal import Cardinality, T

    result = cli("run", GREMLIN_LAB, "--runtime", "local", "--no-input")
    assert result.code == 0, result
    try:
        state = sessions.find(GREMLIN_LAB).services["neptune-gremlin"]
        assert _listening(state["pid"]) == {("127.0.0.1", state["port"])}
        g = neptune_gremlin.traversal_source(sessions.find(GREMLIN_LAB).endpoint("neptune-gremlin"))
        try:
            g.add_v("person").property(T.id, "ana-1").property("city", "Lisbon").iterate()
            assert g.V("ana-1").id_().next() == "ana-1"                 # a string id, kept as given
            g.V("ana-1").property("city", "Porto").iterate()             # set cardinality: added
            assert sorted(g.V("ana-1").values("city").to_list()) == ["Lisbon", "Porto"]
            g.V("ana-1").property(Cardinality.single, "city", "Faro").iterate()
            assert g.V("ana-1").values("city").to_list() == ["Faro"]
            with pytest.raises(ValueError, match="Neptune does not support lambda"):
                g.V().filter_(lambda: "true").to_list()
            assert g.submit("g.V('ana-1').values('city')") == ["Faro"]  # a plain string query
        finally:
            g.close()
        assert cli("down", GREMLIN_LAB).code == 0
        again = cli("run", GREMLIN_LAB, "--runtime", "local", "--no-input")
        assert again.code == 0, again
        g = neptune_gremlin.traversal_source(sessions.find(GREMLIN_LAB).endpoint("neptune-gremlin"))
        try:
            assert g.V("ana-1").values("city").to_list() == ["Faro"]    # written on stop, read on start
        finally:
            g.close()
    finally:
        cli("down", "--all", "--wipe")


def test_a_second_machine_starts_gremlin_server_from_a_copied_cache_without_network(cli, jar_cache, monkeypatch,
                                                                                    tmp_path):
    monkeypatch.setenv("LABRUNNER_MAVEN_REGISTRY", UNREACHABLE)
    # Without the cache, the registry out of reach: one line naming what to do.
    empty = cli("run", GREMLIN_LAB, "--runtime", "local", "--no-input")
    assert empty.code == 5 and "could not fetch" in empty.err and "class bundle" in empty.err, empty
    assert "Traceback" not in empty.err
    cli("down", "--all", "--wipe")
    # The first machine's cache folder, copied: Gremlin Server starts from it.
    second = tmp_path / "second"
    shutil.copytree(jar_cache, second / "cache")
    monkeypatch.setenv("LABRUNNER_HOME", str(second))
    result = cli("run", GREMLIN_LAB, "--runtime", "local", "--no-input")
    assert result.code == 0, result
    try:
        g = neptune_gremlin.traversal_source(sessions.find(GREMLIN_LAB).endpoint("neptune-gremlin"))
        try:
            assert g.V().count().next() == 0
        finally:
            g.close()
    finally:
        cli("down", "--all", "--wipe")


def test_no_java_is_one_line_naming_how_to_install_it(cli, cached_jars, monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))            # holds no bin/java
    monkeypatch.setenv("PATH", str(tmp_path))
    result = cli("run", GREMLIN_LAB, "--runtime", "local", "--no-input")
    assert result.code == 5, result
    assert "no Java was found" in result.err and "apt-get install default-jre-headless" in result.err
    assert "Traceback" not in result.err
    notes = dict((item, (ok, detail)) for item, ok, detail in neptune_gremlin.doctor_notes())
    assert notes["java"][0] is False and "install Java 11" in notes["java"][1]


def test_doctor_says_which_gremlin_server_and_which_java(cached_jars):
    if gremlin_server.find_java() is None:
        pytest.skip("no Java on this machine")
    notes = {item: (ok, detail) for item, ok, detail in neptune_gremlin.doctor_notes()}
    assert notes["gremlin server (local)"] == (True,
                                               "Gremlin Server 3.7.3 with TinkerGraph (39 jars, in the engine cache)")
    assert notes["java"][0] is True and "version" in notes["java"][1]


def test_gremlin_shell_is_a_python_prompt_with_g_bound(cli, cached_jars):
    assert cli("run", GREMLIN_LAB, "--runtime", "local", "--no-input").code == 0
    try:
        labrunner = os.path.join(os.path.dirname(sys.executable), "labrunner")
        done = subprocess.run([labrunner, "shell", "neptune-gremlin"], capture_output=True, text=True, timeout=120,
                              input="g.add_v('person').property(T.id, 'zed').iterate()\nprint(g.V().id_().to_list())\n")
        assert done.returncode == 0, done.stderr
        assert "`g` is a gremlinpython traversal source" in done.stderr + done.stdout
        assert "['zed']" in done.stdout
    finally:
        cli("down", "--all", "--wipe")


# ---- Oxigraph on the local runtime ----------------------------------------------------------------

def test_sparql_local_unions_named_graphs_and_keeps_the_store_across_down(cli):
    result = cli("run", SPARQL_LAB, "--runtime", "local", "--no-input")
    assert result.code == 0, result
    try:
        state = sessions.find(SPARQL_LAB).services["neptune-sparql"]
        assert _listening(state["pid"]) == {("127.0.0.1", state["port"])}
        sparql = neptune_sparql.client(sessions.find(SPARQL_LAB).endpoint("neptune-sparql"))
        sparql.update('INSERT DATA { <urn:a> <urn:name> "Ana" . GRAPH <urn:g> { <urn:a> <urn:age> 34 } }')
        # the default graph is the union of all graphs, as on Neptune
        assert sparql.select("SELECT ?age WHERE { <urn:a> <urn:age> ?age }") == [{"age": 34}]
        assert sparql.count("urn:g") == 1
        with pytest.raises(SparqlError, match="400"):
            sparql.query("SELEC nothing")
        assert cli("down", SPARQL_LAB).code == 0
        assert cli("run", SPARQL_LAB, "--runtime", "local", "--no-input").code == 0
        sparql = neptune_sparql.client(sessions.find(SPARQL_LAB).endpoint("neptune-sparql"))
        assert sparql.select("SELECT ?n WHERE { <urn:a> <urn:name> ?n }") == [{"n": "Ana"}]
    finally:
        cli("down", "--all", "--wipe")


def test_sparql_prompt_reads_until_a_semicolon_or_a_blank_line_and_prints_a_table(cli):
    assert cli("run", SPARQL_LAB, "--runtime", "local", "--no-input").code == 0
    try:
        sparql = neptune_sparql.client(sessions.find(SPARQL_LAB).endpoint("neptune-sparql"))
        lines = iter(['INSERT DATA { <urn:a> <urn:name> "Ana" ; <urn:age> 34 };',
                      "SELECT ?name ?age", "WHERE { ?s <urn:name> ?name ; <urn:age> ?age }", "",
                      "CONSTRUCT { ?s <urn:label> ?n } WHERE { ?s <urn:name> ?n };",
                      "SELEC broken;"])
        printed = []

        def read(_prompt):
            try:
                return next(lines)
            except StopIteration:
                raise EOFError from None

        assert prompt_loop(sparql, "test", read=read, write=printed.append) == 0
        text = "\n".join(printed)
        assert "done" in printed
        assert "name | age" in text and "Ana  | 34" in text and "(1 row)" in text
        assert "urn:label" in text and "(1 triples)" in text
        assert any(p.startswith("error: the server answered 400") for p in printed)
    finally:
        cli("down", "--all", "--wipe")


def test_sparql_client_reads_terms_as_python_values():
    from labrunner.services.sparql_client import parse_ntriples, query_form

    triples = parse_ntriples('<urn:a> <urn:p> "say \\"hi\\""@en .\n'
                             '<urn:a> <urn:q> "2.5"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
                             '_:b1 <urn:r> <urn:c> .\n')
    assert triples == [("urn:a", "urn:p", 'say "hi"'), ("urn:a", "urn:q", 2.5), ("_:b1", "urn:r", "urn:c")]
    assert query_form("PREFIX ex: <http://e/>\n# a comment\nCONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }") == "CONSTRUCT"
    assert query_form("ASK {}") == "ASK"


# ---- Docker: labrunner's runtime, then the images on their own ------------------------------------

@pytest.mark.parametrize("lab", [GREMLIN_LAB, SPARQL_LAB])
def test_both_run_on_docker_on_loopback(cli, docker_runtime, lab):
    result = cli("run", lab, "--runtime", "docker", "--no-input")
    assert result.code == 0, result
    try:
        session = sessions.find(lab)
        name = lab
        endpoint = session.endpoint(name)
        container = docker_runtime.client.containers.get(session.services[name]["container"])
        bindings = [b for ports in container.attrs["HostConfig"]["PortBindings"].values() for b in ports]
        assert bindings and all(b["HostIp"] == "127.0.0.1" for b in bindings)
        if lab == GREMLIN_LAB:
            from gremlin_python.process.traversal import T

            g = neptune_gremlin.traversal_source(endpoint)
            try:
                g.add_v("person").property(T.id, "p-docker").iterate()
                assert g.V("p-docker").id_().to_list() == ["p-docker"]
            finally:
                g.close()
        else:
            sparql = neptune_sparql.client(endpoint)
            sparql.update('INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> "c" } }')
            assert sparql.select("SELECT ?o WHERE { <urn:a> <urn:b> ?o }") == [{"o": "c"}]
    finally:
        cli("down", "--all", "--wipe")


@pytest.fixture
def standin_image(docker_runtime, monkeypatch):
    """The stand-in image named by LABRUNNER_IMAGE_<NAME>, testcontainers pointed at the daemon
    labrunner found, its reaper off (the test removes its container)."""
    from testcontainers.core.config import ConnectionMode, testcontainers_config

    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", True)
    monkeypatch.setenv("DOCKER_HOST", docker_runtime.host.url)
    monkeypatch.setattr(testcontainers_config, "connection_mode_override", ConnectionMode.docker_host)
    monkeypatch.setattr(testcontainers_config, "tc_host_override", "127.0.0.1")

    def pick(name):
        image = os.environ.get(f"LABRUNNER_IMAGE_{name}")
        if not image:
            pytest.skip(f"LABRUNNER_IMAGE_{name} is not set (source images/overrides.env)")
        return image, (docker_runtime.client.images.get(image).labels or {}).get("org.labrunner.engine", "")

    return pick


def _ready(check, seconds=90):
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_gremlin_image_serves_gremlinpython(standin_image):
    from gremlin_python.process.traversal import T
    from testcontainers.core.container import DockerContainer

    from labrunner.services.base import Endpoint

    image, engine = standin_image("NEPTUNE_GREMLIN")
    container = DockerContainer(image)
    container.ports["8182"] = ("127.0.0.1", None)
    with container as running:
        endpoint = Endpoint("neptune-gremlin", "127.0.0.1", int(running.get_exposed_port(8182)))
        _ready(lambda: neptune_gremlin.probe(endpoint))
        g = neptune_gremlin.traversal_source(endpoint)
        try:
            g.add_v("person").property(T.id, "img-1").iterate()            # the image's own configuration
            assert g.V("img-1").id_().to_list() == ["img-1"]
            version = g.submit("Gremlin.version()")
        finally:
            g.close()
    assert engine.startswith("Gremlin Server 3.7.3") and version == ["3.7.3"]


def test_sparql_image_serves_the_sparql_client(standin_image):
    from testcontainers.core.container import DockerContainer

    image, engine = standin_image("NEPTUNE_SPARQL")
    container = DockerContainer(image).with_command(list(neptune_sparql.docker_command(None)))
    container.ports["7878"] = ("127.0.0.1", None)
    with container as running:
        sparql = SparqlClient(f"http://127.0.0.1:{running.get_exposed_port(7878)}")
        _ready(lambda: sparql.ask("ASK {}"))
        sparql.update('INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 7 } }')
        assert sparql.select("SELECT ?o WHERE { <urn:a> <urn:b> ?o }") == [{"o": 7}]    # union default graph
        version = running.exec(["oxigraph", "--version"]).output.decode()
    assert engine.startswith("Oxigraph 0.5.13") and "0.5.13" in version


def test_the_image_build_refuses_jars_that_are_not_the_pinned_ones(jar_cache, tmp_path, monkeypatch):
    """images/neptune_gremlin/prepare.sh checks whatever fetched the jars (the engine cache or Maven)."""
    monkeypatch.setenv("LABRUNNER_HOME", str(jar_cache.parent))
    lib = tmp_path / "lib"
    assert gremlin_server.main(["jars", str(lib)]) == 0
    assert gremlin_server.main(["verify", str(lib)]) == 0
    victim = lib / "gremlin-server-3.7.3.jar"
    victim.write_bytes(victim.read_bytes() + b"\0")
    (lib / "extra-1.0.jar").write_bytes(b"")
    assert gremlin_server.main(["verify", str(lib)]) == 1
