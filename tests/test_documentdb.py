"""The DocumentDB stand-in (MongoDB-protocol servers, spoken to with pymongo): a DocumentDB-shaped
connection string that tells the truth, SCRAM authentication with the session's password, data
kept across a kill and a `down`, loopback only, `labrunner shell` without mongosh, the warning on
operators DocumentDB refuses, and labrunner's stand-in image started on its own with testcontainers."""

import os
import re
import subprocess
import sys

import psutil
import pytest
from pymongo import MongoClient, uri_parser
from pymongo.database import Database
from pymongo.errors import OperationFailure

from labrunner import sessions
from labrunner.services import documentdb, documentdb_compat, mongo_client
from labrunner.services.base import Endpoint

LAB = "documentdb-basics"
LOOPBACK = "127.0.0.1"


def test_connection_string_is_documentdb_shaped_and_names_real_credentials():
    endpoint = Endpoint("documentdb", LOOPBACK, 27017, "mongodb", "docdbadmin", "Pw1secret", "catalog")
    env = documentdb.SERVICE.exports(endpoint)
    assert env["MONGODB_URI"] == env["DOCDB_URI"]
    base, _, options = env["MONGODB_URI"].partition("?")
    assert base == "mongodb://docdbadmin:Pw1secret@127.0.0.1:27017/catalog"
    assert sorted(options.split("&")) == ["authSource=admin", "directConnection=true", "retryWrites=false",
                                         "tls=false"]
    assert (env["DOCDB_USER"], env["DOCDB_PASSWORD"], env["DOCDB_DATABASE"]) == ("docdbadmin", "Pw1secret", "catalog")
    # the mongo image and labrunner's stand-in image take the credentials the same way
    assert documentdb.SERVICE.docker_environment(endpoint) == {
        "MONGO_INITDB_ROOT_USERNAME": "docdbadmin", "MONGO_INITDB_ROOT_PASSWORD": "Pw1secret"}
    assert re.fullmatch(r"mongo:8\.0\.\d+", documentdb.SERVICE.image)
    assert documentdb.SERVICE.needs_password and documentdb.SERVICE.keeps_data


def test_compat_warns_on_what_documentdb_refuses_and_nothing_else():
    pipeline = [{"$match": {"$where": "this.price > 1"}},
                {"$group": {"_id": "$category", "n": {"$sum": 1},
                            "x": {"$accumulator": {"init": "function() {}", "lang": "js"}}}},
                {"$project": {"y": {"$function": {"body": "function(a) {return a}", "args": [], "lang": "js"}}}}]
    assert documentdb_compat.unsupported(pipeline) == ["$accumulator", "$function", "$where"]
    assert documentdb_compat.unsupported({"price": {"$lt": 3}, "$or": [{"tags": {"$all": ["a"]}}]}) == []

    class Recorded:
        calls = ["find[$gt,$where]", "aggregate[$group,$lookup]", "mapReduce"]

    text = documentdb_compat.note(Recorded())
    assert text.startswith("note: Amazon DocumentDB does not support $where, mapReduce")
    assert "$group" not in text and "$lookup" not in text
    Recorded.calls = ["find[$lt]", "update[$inc]"]
    assert documentdb_compat.note(Recorded()) == ""


def test_recorded_calls_name_each_command_and_its_operators():
    describe = mongo_client.describe
    assert describe("find", {"find": "products", "filter": {"price": {"$lt": 5}, "$or": [{"a": 1}]},
                             "projection": {"_id": 0}}) == "find[$lt,$or]"
    assert describe("update", {"update": "products",
                               "updates": [{"q": {"sku": "x"}, "u": {"$inc": {"stock": 1}}}]}) == "update[$inc]"
    assert describe("findAndModify", {"findAndModify": "products", "query": {"sku": "x"},
                                      "update": {"$inc": {"stock": 1}}}) == "findAndModify[$inc]"
    assert describe("aggregate", {"aggregate": "products", "pipeline": [{"$lookup": {}}]}) == "aggregate[$lookup]"
    assert describe("insert", {"insert": "products", "documents": [{"$x": 1}]}) == "insert"


def _env_exports(cli) -> dict:
    result = cli("env", LAB)
    assert result.code == 0, result
    return dict(re.findall(r"^export (\w+)=['\"]?([^'\"\n]*)['\"]?$", result.out, re.M))


@pytest.mark.parametrize("runtime", ["local", "docker"])
def test_documentdb_wants_its_password_and_keeps_data_across_a_kill_and_a_down(cli, runtime, request):
    if runtime == "docker":
        request.getfixturevalue("docker_runtime")
    assert cli("run", LAB, "--runtime", runtime, "--no-input").code == 0
    try:
        endpoint = sessions.find(LAB).endpoint("documentdb")
        db = documentdb.SERVICE.fixtures["mongo"](endpoint)
        try:
            assert isinstance(db, Database) and db.name == "catalog"
            db.products.insert_one({"sku": "KEEP-1", "tags": ["a", "b"], "specs": {"w": 1}})
        finally:
            db.close()
        # what `labrunner env` exports is what a learner's pymongo connects with
        uri = _env_exports(cli)["MONGODB_URI"]
        with MongoClient(uri, serverSelectionTimeoutMS=10000) as learner:
            assert learner.get_default_database().products.find_one({"sku": "KEEP-1"})["tags"] == ["a", "b"]
        # and so is the endpoint `status` prints and a step's {{ endpoint }} fills in. The master user
        # is in admin, as on DocumentDB, where a URL without authSource=admin fails to log in (our
        # stand-ins do not tell, so the URL's options are read)
        shown = cli("status", "--json").json()["labs"][0]["services"][0]["endpoint"]
        assert uri_parser.parse_uri(shown)["options"].get("authSource") == "admin", shown
        with MongoClient(shown, serverSelectionTimeoutMS=10000) as learner:
            assert learner.get_default_database().products.count_documents({"sku": "KEEP-1"}) == 1
        # no password, or the wrong one: refused (SCRAM authentication is on)
        with MongoClient(LOOPBACK, endpoint.port, directConnection=True, serverSelectionTimeoutMS=5000) as anon:
            with pytest.raises(OperationFailure):
                anon.catalog.products.find_one()
        wrong = MongoClient(LOOPBACK, endpoint.port, username=endpoint.username, password="not-" + endpoint.password,
                            authSource="admin", directConnection=True, serverSelectionTimeoutMS=5000)
        with wrong, pytest.raises(OperationFailure):
            wrong.catalog.products.find_one()
        # SIGKILL, then restart on the same data: the document is there
        assert cli("fault", "kill", "documentdb").code == 0
        assert cli("fault", "restart", "documentdb").code == 0
        db = documentdb.SERVICE.fixtures["mongo"](sessions.find(LAB).endpoint("documentdb"))
        try:
            assert db.products.count_documents({"sku": "KEEP-1"}) == 1
        finally:
            db.close()
        # down keeps the data; run brings it back
        assert cli("down", LAB).code == 0
        assert cli("run", LAB, "--runtime", runtime, "--no-input").code == 0
        db = documentdb.SERVICE.fixtures["mongo"](sessions.find(LAB).endpoint("documentdb"))
        try:
            assert db.products.find_one({"sku": "KEEP-1"}, {"_id": 0, "specs": 1}) == {"specs": {"w": 1}}
        finally:
            db.close()
    finally:
        cli("down", "--all", "--wipe")


QUERIES_WITH_WHERE = '''
def affordable_in_stock(db, category, max_price):
    return []


def tagged_or_by_brand(db, tags, brand):
    query = {"$or": [{"$where": "false"}, {"brand": brand}]}
    return sorted(d["sku"] for d in db.products.find(query))
'''


def test_local_server_listens_on_loopback_opens_a_python_prompt_and_notes_where(cli, monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin")   # no mongosh
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        session = sessions.find(LAB)
        state = session.services["documentdb"]
        listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(state["pid"]).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening == {(LOOPBACK, state["port"])}
        labrunner = os.path.join(os.path.dirname(sys.executable), "labrunner")
        done = subprocess.run([labrunner, "shell", "documentdb"], capture_output=True, text=True, timeout=60,
                              input="db.shelltest.insert_one({'x': 1}); print('NAME', db.name, db.shelltest.count_documents({}))\n")
        assert done.returncode == 0, done.stderr
        assert "NAME catalog 1" in done.stdout, (done.stdout, done.stderr)
        assert "opening a Python prompt instead" in done.stderr and "`db` is the catalog database" in done.stderr
        # a learner's query with $where: named as something DocumentDB refuses, pass or fail
        with open(os.path.join(session.workspace, "queries.py"), "w", encoding="utf-8") as fh:
            fh.write(QUERIES_WITH_WHERE)
        result = cli("check", LAB, "--step", "2", "--json")
        assert "Amazon DocumentDB does not support $where" in result.out, result.out
        # where the server runs $where (MongoDB 8.0), the check passes and says what DocumentDB would refuse
        from labrunner.checks.answer import AnswerResult
        from labrunner.labs import catalog

        class MongoRanIt:
            def call(self, file, function, tags, brand, **kwargs):
                token = brand.removeprefix("Maker")
                skus = sorted(f"CHK-{token}-{s}" for s in ("BOTH", "BRAND", "REVERSED"))
                return AnswerResult(file, function, (tags, brand), value=skus, calls=["find[$or,$where]"])

        checks = catalog.get(LAB).modules["checks"]
        db = documentdb.SERVICE.fixtures["mongo"](session.endpoint("documentdb"))
        try:
            passed_with = checks.tagged_or_by_brand_is_right(db, MongoRanIt())
        finally:
            db.close()
        assert passed_with.startswith("note: Amazon DocumentDB does not support $where")
    finally:
        cli("down", "--all", "--wipe")


@pytest.fixture
def standin_image(docker_runtime, monkeypatch):
    """labrunner's DocumentDB stand-in image (LABRUNNER_IMAGE_DOCUMENTDB), with testcontainers pointed
    at the daemon labrunner found and its reaper off."""
    from testcontainers.core.config import ConnectionMode, testcontainers_config

    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", True)
    monkeypatch.setenv("DOCKER_HOST", docker_runtime.host.url)
    monkeypatch.setattr(testcontainers_config, "connection_mode_override", ConnectionMode.docker_host)
    monkeypatch.setattr(testcontainers_config, "tc_host_override", LOOPBACK)
    image = os.environ.get("LABRUNNER_IMAGE_DOCUMENTDB")
    if not image:
        pytest.skip("LABRUNNER_IMAGE_DOCUMENTDB is not set (source images/overrides.env)")
    return image, (docker_runtime.client.images.get(image).labels or {}).get("org.labrunner.engine", "")


def test_documentdb_image_serves_pymongo_with_the_mongo_images_variables(standin_image):
    from testcontainers.community.mongodb import MongoDbContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    image, engine = standin_image
    container = MongoDbContainer(image, username="labuser", password="Img3secret")
    container.ports["27017"] = (LOOPBACK, None)          # published on loopback only
    container.waiting_for(LogMessageWaitStrategy("root user created").with_startup_timeout(120))
    with container as mongo:
        port = int(mongo.get_exposed_port(27017))
        uri = f"mongodb://labuser:Img3secret@{LOOPBACK}:{port}/shop?authSource=admin&directConnection=true"
        with MongoClient(uri, serverSelectionTimeoutMS=30000, retryWrites=False) as client:
            db = client.get_default_database()
            db.products.insert_many([{"sku": "A", "tags": ["x", "y"]}, {"sku": "B", "tags": ["y"]}])
            db.reviews.insert_one({"sku": "A", "stars": 5})
            joined = list(db.products.aggregate([
                {"$lookup": {"from": "reviews", "localField": "sku", "foreignField": "sku", "as": "r"}},
                {"$project": {"_id": 0, "sku": 1, "n": {"$size": "$r"}}}, {"$sort": {"sku": 1}}]))
            assert joined == [{"sku": "A", "n": 1}, {"sku": "B", "n": 0}]
            db.products.create_index("tags")
            plan = db.products.find({"tags": "y"}).explain()["queryPlanner"]["winningPlan"]
            assert plan["inputStage"]["stage"] == "IXSCAN" and plan["inputStage"]["isMultiKey"] is True
            build = client.admin.command("buildInfo")
        with MongoClient(LOOPBACK, port, directConnection=True, serverSelectionTimeoutMS=5000) as anon:
            with pytest.raises(OperationFailure):
                anon.shop.products.find_one()
    claimed = re.search(r"secantus-(\S+?)\)", engine)
    assert engine.startswith("SecantusDB") and claimed and build.get("secantusVersion") == claimed.group(1)


def test_doctor_warns_without_avx_and_names_the_fallback(monkeypatch):
    monkeypatch.setattr(documentdb, "_kernel", lambda: (6, 1, 0))
    monkeypatch.setattr(documentdb, "_cpu_flags", lambda: {"fpu", "sse2", "lm", "sse4_2"})     # x86-64, no AVX
    notes = {item: (ok, detail) for item, ok, detail in documentdb.doctor_notes()}
    ok, detail = notes["documentdb CPU"]
    assert not ok and "no AVX" in detail and documentdb.IMAGE in detail
    assert "--runtime local" in detail and "LABRUNNER_IMAGE_DOCUMENTDB" in detail
    assert notes["documentdb local server"][0] and "--runtime local runs" in notes["documentdb local server"][1]
    monkeypatch.setattr(documentdb, "_cpu_flags", lambda: {"fpu", "sse2", "lm", "avx", "avx2"})
    assert documentdb.doctor_notes()[0][1] is True
    monkeypatch.setattr(documentdb, "_kernel", lambda: (6, 19, 2))      # MongoDB 8.0 stops at start there
    kernel = [n for n in documentdb.doctor_notes() if n[0] == "documentdb kernel"]
    assert kernel and kernel[0][1] is False and "6.19.2" in kernel[0][2]


FAKE_MONGOD = '''#!{python}
"""A stand-in for mongod on PATH: mongod's command line, served by SecantusDB (tests the choice
and the mongod recipe's contract, not MongoDB itself)."""
import os, sys
args = sys.argv[1:]
if "--version" in args:
    print("db version v0.0.0-test-mongod")
    sys.exit(0)
value = lambda flag: args[args.index(flag) + 1]
server = [sys.executable, "-c", {main!r}, "--host", value("--bind_ip"), "--port", value("--port"),
          "--storage-path", value("--dbpath"), "--standalone", "--log-level", "WARNING"]
os.execv(sys.executable, server + (["--auth"] if "--auth" in args else []))
'''


@pytest.mark.local
def test_mongod_on_path_is_the_first_choice(tmp_path, monkeypatch):
    from labrunner.runtimes.base import wait_ready
    from labrunner.runtimes.local import LocalRuntime
    from labrunner.services import mongo_server

    fake = tmp_path / "bin" / "mongod"
    fake.parent.mkdir()
    fake.write_text(FAKE_MONGOD.format(python=sys.executable, main=mongo_server.SECANTUS_MAIN))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    recipe = documentdb.SERVICE.local
    assert mongo_server.which() == "mongod" and recipe.find() == "mongod"
    assert recipe.standin == "MongoDB (this machine's mongod)"
    assert recipe.version().startswith("db version v0.0.0-test-mongod")
    argv = recipe.argv(4567, str(tmp_path))
    assert argv[0] == str(fake) and argv[argv.index("--bind_ip") + 1] == LOOPBACK and "--auth" in argv
    runtime = LocalRuntime()
    state = runtime.launch(documentdb.SERVICE, lab_id="mongod-test", session_id="mongodtest", port=None)
    try:
        endpoint = wait_ready(runtime, documentdb.SERVICE, state)
        db = documentdb.SERVICE.fixtures["mongo"](endpoint)
        try:
            db.products.insert_one({"sku": "M-1"})
            assert db.products.count_documents({}) == 1
        finally:
            db.close()
        with MongoClient(LOOPBACK, endpoint.port, directConnection=True, serverSelectionTimeoutMS=5000) as anon:
            with pytest.raises(OperationFailure):
                anon.catalog.products.find_one()
    finally:
        runtime.remove(state)
    monkeypatch.setenv(mongo_server.OVERRIDE, "secantus")
    assert mongo_server.which() == "secantus" and "SecantusDB" in recipe.standin


def _spawn(*args: str, timeout: float = 90):
    import pexpect

    env = dict(os.environ, COLUMNS="100", LINES="50", TERM="dumb", NO_COLOR="1")
    labrunner = os.path.join(os.path.dirname(sys.executable), "labrunner")
    return pexpect.spawn(labrunner, list(args), env=env, encoding="utf-8", timeout=timeout, dimensions=(50, 100))


def _work(cli, command: str, **kwargs) -> subprocess.CompletedProcess:
    """The learner's second terminal: `eval "$(labrunner env)"`, then a command in the lab folder."""
    env = dict(os.environ, **_env_exports(cli))
    return subprocess.run(command, shell=True, cwd=sessions.find(LAB).workspace, env=env, capture_output=True,
                          text=True, timeout=120, **kwargs)


LANTERN = ("db.products.insert_one({'sku': 'LANTERN-01', 'name': 'Trail lantern', 'category': 'outdoor', "
           "'brand': 'Lysa', 'price': 24.5, 'currency': 'EUR', 'stock': 10, 'tags': ['camping', 'light'], "
           "'specs': {'lumens': 200, 'battery': 'USB-C'}})\n")


@pytest.mark.local
def test_a_learner_walks_the_first_two_steps(cli, monkeypatch):
    """The run loop in a pty; the loader, the Python prompt and an editor in the other terminal."""
    import pexpect

    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin")   # no mongosh
    loop = _spawn("run", LAB, "--runtime", "local")
    try:
        while loop.expect(["Press any key for step 1", "more of the introduction"]) == 1:
            loop.send(" ")
        loop.send(" ")
        loop.expect("step 1 of 8")
        loop.expect("labrunner")
        loaded = _work(cli, f"{sys.executable} load_catalog.py")
        assert "loaded 23 products and 27 reviews" in loaded.stdout, loaded
        prompt = _work(cli, f"{os.path.dirname(sys.executable)}/labrunner shell documentdb", input=LANTERN)
        assert prompt.returncode == 0, prompt
        loop.sendline("c")
        loop.expect("Step 'load' complete")
        loop.expect("step 2 of 8")
        loop.expect("labrunner")
        # a first try at step 2 with $lte: the loop says what is wrong and how to fix it
        queries = (sessions.find(LAB).workspace + "/queries.py")
        reference = catalog_solution("queries.py")
        with open(queries, "w", encoding="utf-8") as fh:
            fh.write(reference.replace('"$lt": max_price', '"$lte": max_price'))
        loop.sendline("c")
        loop.expect("'below' means \\$lt, not \\$lte")
        loop.expect("labrunner")
        with open(queries, "w", encoding="utf-8") as fh:
            fh.write(reference)
        loop.sendline("c")
        loop.expect("Step 'queries' complete")
        loop.expect("step 3 of 8")
        loop.expect("labrunner")
        loop.sendline("q")
        loop.expect(pexpect.EOF)
    finally:
        if loop.isalive():
            loop.terminate(force=True)
        cli("down", "--all", "--wipe")


def catalog_solution(name: str) -> str:
    from labrunner.labs import catalog

    return (catalog.get(LAB).path / "solutions" / name).read_text(encoding="utf-8")
