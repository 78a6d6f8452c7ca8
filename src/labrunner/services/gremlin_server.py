"""Gremlin Server 3.7.3 as a local process: its Java artifacts from Maven Central, fetched once into
labrunner's engine cache and pinned by checksum, run on the learner's own Java (11 or later),
with a TinkerGraph configuration labrunner writes (string ids as Neptune uses, the graph kept
in the data folder between runs). A Gremlin Server the user unpacked is used instead when
GREMLIN_SERVER_HOME is set.

The jar list is gremlin-server's runtime dependency closure, plus tinkergraph-gremlin and
logback (a logging backend, so the engine log is readable), without what a TinkerGraph server
on 127.0.0.1 never loads (netty's native transports and codecs for other protocols, Groovy's
Swing console): 39 jars, 24 MB.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from labrunner.errors import RuntimeUnavailable

VERSION = "3.7.3"
HEAP = "256m"          # TinkerGraph for a lab is a few thousand elements: 256 MB fits a class laptop
TRAVERSAL_SOURCE = "g"
COST = "starts in about 3 s and holds about 150 MB (heap capped at 256 MB)"   # benchmarks/ready.py, 2 cores
JAVA_INSTALL = ("install Java 11 or later (Debian/Ubuntu: sudo apt-get install default-jre-headless; "
                "macOS: brew install openjdk; Windows: winget install EclipseAdoptium.Temurin.21.JRE), "
                "or set JAVA_HOME — or use --runtime docker")

# (group:artifact, version, sha256): the jars Gremlin Server runs from (checked against Maven
# Central's sha1 when they were pinned).
JARS = (
    ("org.antlr:antlr4-runtime", "4.9.1", "a80502c3140ae7acfbb1f57847c8eb1c101461a969215ec38c3f1ebdff61ac29"),
    ("com.github.ben-manes.caffeine:caffeine", "2.3.1",
     "f0343c767eb8d2ac5627106366b777dca3ce21863992ea2e693ba1099bf39f66"),
    ("commons-beanutils:commons-beanutils", "1.9.4",
     "7d938c81789028045c08c065e94be75fc280527620d5bd62b519d5838532368a"),
    ("commons-collections:commons-collections", "3.2.2",
     "eeeae917917144a68a741d4c0dff66aa5c5c5fd85593ff217bced3fc8ca783b8"),
    ("org.apache.commons:commons-configuration2", "2.9.0",
     "a38ced8312fa893a1f7159958511cdfed13d0b8cb294a4133662c901da0cda53"),
    ("org.apache.commons:commons-lang3", "3.12.0", "d919d904486c037f8d193412da0c92e22a9fa24230b9d67a57855c5c31c7e94e"),
    ("commons-logging:commons-logging", "1.2", "daddea1ea0be0f56978ab3006b8ac92834afeefbd9b7e4e6316fca57df0fa636"),
    ("org.apache.commons:commons-text", "1.10.0", "770cd903fa7b604d1f7ef7ba17f84108667294b2b478be8ed1af3bffb4ae0018"),
    ("net.objecthunter:exp4j", "0.4.8", "271f7824ee8a3468257bc0613afdabb67597af8389317643fa806b983b7ecb27"),
    ("org.apache.tinkerpop:gremlin-core", "3.7.3", "ba3d809398131c20ede784d8858f63ace5b694221e4403feeb85e811356c8b8e"),
    ("org.apache.tinkerpop:gremlin-groovy", "3.7.3",
     "6099c855660860f4d1fc25b35279d25d92a5c62870a0097dc06d606296d1f161"),
    ("org.apache.tinkerpop:gremlin-language", "3.7.3",
     "4404d227ae1236aff35e4d677f6b3965164d24e4571c566ff147f78b3f2fc767"),
    ("org.apache.tinkerpop:gremlin-server", "3.7.3",
     "38f125edf59ac34e7b27410cfac9063aab5765de5e279eb3b13d7f13771456ce"),
    ("org.apache.tinkerpop:gremlin-shaded", "3.7.3",
     "430c43625f6b980175d46f1b38e6663712b573869846c334138f16640732527c"),
    ("org.apache.tinkerpop:gremlin-util", "3.7.3", "8d411f4e0a515575ee56f2edfc961cfbfc24e95588d816477527f080ef902486"),
    ("org.apache.groovy:groovy", "4.0.23", "b26ee90507fecda8c6da6d3fdbeb8b2c99979ac8b8aa2459a4813e6bee7ae6e6"),
    ("org.apache.groovy:groovy-groovysh", "4.0.23", "839e9bb4b69fe23f7c67c67ccf34964f669cb43090d6fedc06363b9dc0e0ab87"),
    ("org.apache.groovy:groovy-json", "4.0.23", "c38cb3e30fefa49768a424abc5cc6b7fe4ccde526996a75836fa0295a779a22b"),
    ("org.apache.groovy:groovy-jsr223", "4.0.23", "dc85b82601bac1f56c9a7a264da96edd53426b00423e8bc29f85de1affcac3e8"),
    ("com.carrotsearch:hppc", "0.7.1", "40d2a57f59e9eae7b018d3b4841954087ee40a5c1db6a54c3ea87742e3890391"),
    ("org.javatuples:javatuples", "1.2", "2eda5b19d9820e1cc2f69fcd01639a715a673c11f8507e3d1ed593cf765d5e0a"),
    ("org.mindrot:jbcrypt", "0.4", "e183f6f59404fc1e12073cfea4ace7ea103c900463cd21fb609a7c617ecdf624"),
    ("org.slf4j:jcl-over-slf4j", "1.7.25", "5e938457e79efcbfb3ab64bc29c43ec6c3b95fffcda3c155f4a86cc320c11e14"),
    ("jline:jline", "2.14.6", "97d1acaac82409be42e622d7a54d3ae9d08517e8aefdea3d2ba9791150c2f02d"),
    ("ch.qos.logback:logback-classic", "1.2.13", "937afb220b91d8a394d78befdbf587c71aeed289d582e2a91e72a7d92172371d"),
    ("ch.qos.logback:logback-core", "1.2.13", "07b1586faf220c05821d0f3ed8e2e417e214c83f40641f76e8a90b134c31ff6b"),
    ("com.codahale.metrics:metrics-core", "3.0.2", "9e819c6f4d5f446e00cb05b08d0127226683b725a94d161288aea870c1bd2f63"),
    ("io.netty:netty-buffer", "4.1.101.Final", "d8fb397501ed59b046f69123c6d12a656066c534c564f7ba8fc3389497521c93"),
    ("io.netty:netty-codec", "4.1.101.Final", "982ebe55d12e5ba1a9f37a0d16d30a0baed22b9f67268fbeead3c23093864c81"),
    ("io.netty:netty-codec-http", "4.1.101.Final", "12b6d90fb8838c0acbe7187ac2dcb68fd82b0b98efa8c057ecace4218e0d3c2c"),
    ("io.netty:netty-common", "4.1.101.Final", "aa8d1d5187d17cfbe1b668a3f3f9f6740c6fa5c96ae3bbabced4ca16b1ca14eb"),
    ("io.netty:netty-handler", "4.1.101.Final", "afc62522b09160f4aedba1d5f498629067750abc0864242877f9debf6ef117ca"),
    ("io.netty:netty-resolver", "4.1.101.Final", "75af5bfa8d582962d66dabbc2e71abfa0cb1d3e7a3b06e252bbe560d4f2ec063"),
    ("io.netty:netty-transport", "4.1.101.Final", "5bf8f47b3d4612dbb1e94bcabcad92d7b37b8be64bfe744cddc790a1f7278c74"),
    ("io.netty:netty-transport-native-unix-common", "4.1.101.Final",
     "d2165ec2544411d451a57e0dc269692deec2a56bd7f57a38705dbf276b3a6752"),
    ("org.abego.treelayout:org.abego.treelayout.core", "1.0.3",
     "fa5e31395c39c2e7d46aca0f81f72060931607b2fa41bd36038eb2cb6fb93326"),
    ("org.slf4j:slf4j-api", "1.7.32", "3624f8474c1af46d75f98bc097d7864a323c81b3808aa43689a6e1c601c027be"),
    ("org.yaml:snakeyaml", "2.0", "880c9d896e4b74a06c549c15ca496450165d6909fa15d7e662bee8f6a66d7afa"),
    ("org.apache.tinkerpop:tinkergraph-gremlin", "3.7.3",
     "5c5c0bb318a62c16cdc482da41b9a774c25306d5dbddd1e5dc4b59b6b796261f"),
)


def artifacts():
    from labrunner.engine_cache import Artifact

    return [Artifact("maven", name, version, f"sha256:{digest}") for name, version, digest in JARS]


# ---- Java -----------------------------------------------------------------------------------

def find_java() -> str | None:
    """java from JAVA_HOME, else from PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        for name in ("java", "java.exe"):
            candidate = Path(home, "bin", name)
            if candidate.is_file():
                return str(candidate)
    return shutil.which("java")


def java_version(java: str) -> tuple[int, str]:
    """(major version, the line `java -version` prints first)."""
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 0, str(exc)
    first = (done.stderr or done.stdout).strip().splitlines()[:1]
    line = first[0] if first else ""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', line)
    if not match:
        return 0, line
    major = int(match.group(1))
    if major == 1 and match.group(2):            # "1.8.0_392" is Java 8
        major = int(match.group(2))
    return major, line


def require_java() -> str:
    java = find_java()
    if java is None:
        raise RuntimeUnavailable("Gremlin Server runs on Java, and no Java was found here", JAVA_INSTALL)
    return java


# ---- where Gremlin Server comes from ----------------------------------------------------------

def server_home() -> Path | None:
    """GREMLIN_SERVER_HOME, when set (a Gremlin Server the user unpacked)."""
    value = os.environ.get("GREMLIN_SERVER_HOME")
    return Path(value).expanduser() if value else None


def home_version(home: Path) -> str:
    jars = sorted((home / "lib").glob("gremlin-server-*.jar"))
    match = re.search(r"gremlin-server-(\d[\w.-]*)\.jar$", jars[0].name) if jars else None
    return match.group(1) if match else ""


def cached_classpath() -> list[str] | None:
    """The cached jars, when every one is there (not re-hashed: fetch() checked them)."""
    from labrunner import engine_cache

    paths = [engine_cache.location(a) for a in artifacts()]
    return [str(p) for p in paths] if all(p.is_file() for p in paths) else None


def fetch_classpath() -> list[str]:
    from labrunner import engine_cache

    return [str(engine_cache.fetch(artifact)) for artifact in artifacts()]


def describe() -> str:
    """Which Gremlin Server the local runtime runs (for run, doctor)."""
    home = server_home()
    if home:
        return f"Gremlin Server {home_version(home) or '(version unknown)'} from GREMLIN_SERVER_HOME"
    where = "in the engine cache" if cached_classpath() else "fetched from Maven Central on first run"
    return f"Gremlin Server {VERSION} with TinkerGraph ({len(JARS)} jars, {where})"


# ---- configuration ----------------------------------------------------------------------------

def graph_properties(data_dir: str) -> str:
    location = Path(data_dir, "graph.json").as_posix()
    return ("gremlin.graph=org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerGraph\n"
            "# Neptune's ids are strings: any id the client gives is kept as it is\n"
            "gremlin.tinkergraph.vertexIdManager=ANY\n"
            "gremlin.tinkergraph.edgeIdManager=ANY\n"
            "gremlin.tinkergraph.vertexPropertyIdManager=LONG\n"
            "# Neptune's default: property(k, v) adds v to a set of values; property(single, k, v) replaces\n"
            "gremlin.tinkergraph.defaultVertexPropertyCardinality=set\n"
            "# written when the server stops cleanly, read when it starts: `down` then `run` keeps the graph\n"
            f"gremlin.tinkergraph.graphLocation={location}\n"
            "gremlin.tinkergraph.graphFormat=graphson\n")


INIT_SCRIPT = f"""// binds the traversal source `{TRAVERSAL_SOURCE}` (written by labrunner)
def globals = [:]
globals << [{TRAVERSAL_SOURCE} : traversal().withEmbedded(graph)]
"""

LOGBACK = """<configuration>
  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{1} - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.tinkerpop.gremlin.server.op" level="WARN"/>
  <root level="INFO"><appender-ref ref="out"/></root>
</configuration>
"""


def server_yaml(host: str, port: int, data_dir: str) -> str:
    folder = Path(data_dir).as_posix()
    return f"""# Gremlin Server settings written by labrunner
host: {host}
port: {port}
evaluationTimeout: 30000
graphs:
  graph: {folder}/tinkergraph.properties
scriptEngines:
  gremlin-lang: {{}}
  gremlin-groovy:
    plugins:
      org.apache.tinkerpop.gremlin.server.jsr223.GremlinServerGremlinPlugin: {{}}
      org.apache.tinkerpop.gremlin.tinkergraph.jsr223.TinkerGraphGremlinPlugin: {{}}
      org.apache.tinkerpop.gremlin.jsr223.ImportGremlinPlugin:
        classImports: [java.lang.Math]
        methodImports: [java.lang.Math#*]
      org.apache.tinkerpop.gremlin.jsr223.ScriptFileGremlinPlugin:
        files: [{folder}/init.groovy]
serializers:
  - className: org.apache.tinkerpop.gremlin.util.ser.GraphBinaryMessageSerializerV1
  - className: org.apache.tinkerpop.gremlin.util.ser.GraphSONMessageSerializerV3
    config:
      ioRegistries: [org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerIoRegistryV3]
metrics:
  slf4jReporter: {{enabled: false}}
"""


def write_config(data_dir: str, host: str, port: int) -> Path:
    """The three files the server reads, written into its data folder; returns the server yaml."""
    folder = Path(data_dir)
    (folder / "tinkergraph.properties").write_text(graph_properties(data_dir), encoding="utf-8")
    (folder / "init.groovy").write_text(INIT_SCRIPT, encoding="utf-8")
    (folder / "logback.xml").write_text(LOGBACK, encoding="utf-8")
    target = folder / "gremlin-server.yaml"
    target.write_text(server_yaml(host, port, data_dir), encoding="utf-8")
    return target


def java_argv(java: str, classpath: list[str], data_dir: str, port: int) -> list[str]:
    # SerialGC and C1 only: a smaller, faster-starting JVM, plenty for a lab's graph
    # preferIPv4Stack: 127.0.0.1 bound as IPv4 (else an IPv6 socket mapped to it)
    return [java, "-Xms32m", f"-Xmx{HEAP}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Djava.net.preferIPv4Stack=true",
            "-Dlogback.configurationFile=" + str(Path(data_dir, "logback.xml")),
            "-cp", os.pathsep.join(classpath), "org.apache.tinkerpop.gremlin.server.GremlinServer",
            str(Path(data_dir, "gremlin-server.yaml"))]


class GremlinServerRecipe:
    """The LocalRecipe: Java found, jars fetched in prepare(), configuration written before each start."""

    refuses_root = False

    @property
    def standin(self) -> str:
        return f"{describe()}, the real Apache TinkerPop server; {COST}"

    def find(self) -> str:
        require_java()
        home = server_home()
        if home is not None:
            if not list((home / "lib").glob("gremlin-server-*.jar")):
                raise RuntimeUnavailable(f"GREMLIN_SERVER_HOME is set, but {home} holds no lib/gremlin-server-*.jar",
                                         "point it at an unpacked Gremlin Server, or unset it")
            return "gremlin-server"
        if cached_classpath() is None:
            from labrunner import engine_cache

            engine_cache.registry_url("maven")      # raises naming how to set one, when none is known
        return "gremlin-server"

    def version(self) -> str:
        java = find_java()
        major, line = java_version(java) if java else (0, "")
        return f"{describe()}; Java: {line or 'not found'}"

    def classpath(self) -> list[str]:
        home = server_home()
        if home is not None:
            return [str(p) for p in sorted((home / "lib").glob("*.jar"))]
        found = cached_classpath()
        if found is None:
            raise RuntimeUnavailable("Gremlin Server's jars are missing from the engine cache",
                                     "run `labrunner run` with a network once (or load a class bundle)")
        return found

    def prepare(self, endpoint, data_dir: str, run) -> None:
        java = require_java()
        major, line = java_version(java)
        if major and major < 11:
            raise RuntimeUnavailable(f"Gremlin Server {VERSION} needs Java 11 or later; {java} is {line}",
                                     JAVA_INSTALL)
        if server_home() is None:
            fetch_classpath()

    def argv(self, port: int, data_dir: str) -> list[str]:
        write_config(data_dir, "127.0.0.1", port)
        return java_argv(require_java(), self.classpath(), data_dir, port)


CONTAINER_JAVA_OPTIONS = f"-Xms32m -Xmx{HEAP} -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
CONTAINER_HOME = "/opt/gremlin-server"     # the official image's layout (and labrunner's stand-in image's)


def container_script() -> str:
    """A shell script for `bash -c` in a Gremlin Server image: writes labrunner's configuration
    into conf/labrunner/ (the graph in data/) and starts the server on it in the foreground. With
    it the official image takes string ids too; its own configuration takes numbers only."""
    conf, data = f"{CONTAINER_HOME}/conf/labrunner", f"{CONTAINER_HOME}/data"
    text = server_yaml("0.0.0.0", 8182, conf)
    files = {"gremlin-server.yaml": text, "tinkergraph.properties": graph_properties(data),
             "init.groovy": INIT_SCRIPT}
    lines = ["set -e", f"mkdir -p {conf} {data}"]
    for name, body in files.items():
        lines.append(f"cat > {conf}/{name} <<'LABRUNNER_EOF'\n{body}LABRUNNER_EOF")
    lines.append(f"exec {CONTAINER_HOME}/bin/gremlin-server.sh {conf}/gremlin-server.yaml")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """For images/neptune_gremlin/prepare.sh: `jars DIR` copies the pinned jars (fetched into the
    engine cache first) into DIR; `config DIR DATA_DIR [CONF]` writes the configuration for a server
    in a container (host 0.0.0.0, port 8182, the graph kept in DATA_DIR, the files found in the
    container under CONF: "conf", relative to the server's folder, by default)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "jars":
        target = Path(args[1])
        target.mkdir(parents=True, exist_ok=True)
        for path in fetch_classpath():
            shutil.copy2(path, target / Path(path).name)
        return 0
    if len(args) == 2 and args[0] == "verify":
        return _verify(Path(args[1]))
    if len(args) == 1 and args[0] == "coordinates":
        for name, version, _ in JARS:
            print(f"{name}:{version}")
        return 0
    if len(args) in (3, 4) and args[0] == "config":
        folder, data_dir = Path(args[1]), args[2]
        conf = args[3] if len(args) == 4 else "conf"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tinkergraph.properties").write_text(graph_properties(data_dir), encoding="utf-8")
        (folder / "init.groovy").write_text(INIT_SCRIPT, encoding="utf-8")
        (folder / "logback.xml").write_text(LOGBACK, encoding="utf-8")
        text = server_yaml("0.0.0.0", 8182, data_dir).replace(f"{data_dir}/tinkergraph.properties",
                                                               f"{conf}/tinkergraph.properties")
        (folder / "gremlin-server.yaml").write_text(text.replace(f"{data_dir}/init.groovy", f"{conf}/init.groovy"),
                                                    encoding="utf-8")
        return 0
    print("usage: python -m labrunner.services.gremlin_server jars DIR | verify DIR | coordinates | "
          "config DIR DATA_DIR [CONF]", file=sys.stderr)
    return 2


def _verify(folder: Path) -> int:
    """Every pinned jar in `folder` with its pinned sha256, and nothing else (jars Maven copied)."""
    import hashlib

    wanted = {f"{name.split(':')[1]}-{version}.jar": digest for name, version, digest in JARS}
    found = {p.name for p in folder.glob("*.jar")}
    problems = [f"missing {n}" for n in sorted(set(wanted) - found)]
    problems += [f"not pinned: {n}" for n in sorted(found - set(wanted))]
    for name in sorted(set(wanted) & found):
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != wanted[name]:
            problems.append(f"{name} does not match its pinned sha256")
    for line in problems:
        print(f"gremlin_server verify: {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
