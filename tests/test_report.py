"""`labrunner report` in each format, from progress a real learner's journey made through the CLI
(dynamodb-basics on the local runtime: moto's server as a real process).

The journey, once for the module:
  step 1: a check that fails, two hints, the table made by the learner with boto3, a pause,
          a check that passes                                -> passed, 2 check runs, 2 hints
  step 2: a check that fails, one hint, `solve`              -> solved, 1 check run, 1 solve run
  step 3: a learner file with a marker, a check that fails   -> attempted
  steps 4-7: nothing                                        -> not started
then `down`: a report needs no running service.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import sqlite3
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

LAB = "dynamodb-basics"
PAUSE = 1.5                       # seconds between step 1 becoming current and its passing check
MARKER = "LEARNER-CODE-MARKER-7d41"


def _call(*args: str) -> tuple[int, str, str]:
    from labrunner.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def _clear_caches():
    from labrunner import config
    from labrunner.runtimes import docker

    config.load.cache_clear()
    docker.connect.cache_clear()


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    import boto3

    from labrunner import sessions
    from labrunner.services import dynamodb

    home = tmp_path_factory.mktemp("report") / "home"
    patch = pytest.MonkeyPatch()
    patch.setenv("LABRUNNER_HOME", str(home))
    patch.delenv("LABRUNNER_WORKSPACES", raising=False)
    patch.delenv("LABRUNNER_LABS_PATH", raising=False)
    _clear_caches()
    try:
        started = time.time()
        code, out, err = _call("run", LAB, "--runtime", "local", "--no-input")
        assert code == 0, (out, err)
        session = sessions.find(LAB)
        endpoint = session.endpoint("dynamodb")
        code, failed_check, _ = _call("check", "--json")
        assert code == 1
        _call("hint")
        _call("hint")
        time.sleep(PAUSE)
        client = boto3.client("dynamodb", **{"endpoint_url": endpoint.url, "region_name": "us-east-1",
                                             "aws_access_key_id": "x", "aws_secret_access_key": "y"})
        client.create_table(TableName="Music", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                                                  {"AttributeName": "SongTitle", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                                       {"AttributeName": "SongTitle", "KeyType": "RANGE"}])
        code, out, err = _call("check")
        assert code == 0, (out, err)
        assert _call("check")[0] == 1           # step 2 now: nothing loaded yet
        _call("hint")
        code, out, err = _call("solve", "--yes")
        assert code == 0, (out, err)
        learner_file = Path(session.workspace) / "query_songs.py"
        learner_file.write_text(f"# {MARKER}\nraise SystemExit('{MARKER}')\n", encoding="utf-8")
        code, step3_check, _ = _call("check", "--json")
        assert code == 1
        finished = time.time()
        secrets = {endpoint.url, f":{endpoint.port}", session.workspace, MARKER,
                   *dynamodb.exports(endpoint)}       # the names of the exported settings (the values are
                                                      # the word "labrunner", which a report names itself)
        messages = [c["message"] for c in json.loads(failed_check)["checks"] + json.loads(step3_check)["checks"]
                    if c.get("message")]
    finally:
        _call("down", "--all")
        patch.undo()
        _clear_caches()
    assert messages, "the failing checks gave no message to keep out of the report"
    yield {"home": home, "started": started, "finished": finished, "secrets": secrets, "messages": messages}


@pytest.fixture
def home(journey, labrunner_home, monkeypatch):
    """This test reads the journey's progress (its own copy: a test may change it)."""
    target = labrunner_home.parent / "journey-home"
    shutil.copytree(journey["home"], target, ignore=shutil.ignore_patterns("*.sock", "*.pid"))
    monkeypatch.setenv("LABRUNNER_HOME", str(target))
    _clear_caches()
    return target


def report(*args: str) -> str:
    code, out, err = _call("report", *args)
    assert code == 0, err
    return out


def steps_of(data: dict) -> dict[str, dict]:
    (lab,) = [lab for lab in data["labs"] if lab["id"] == LAB]
    return {s["id"]: s for s in lab["steps"]}


# ---- JSON --------------------------------------------------------------------------------

def test_json_report_follows_its_schema_and_tells_the_journey(home, journey):
    import jsonschema

    from labrunner import report as module

    schema = module.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    data = json.loads(report("--format", "json"))
    errors = [e.message for e in validator.iter_errors(data)]
    assert not errors, errors

    steps = steps_of(data)
    assert list(steps) == ["create-table", "load-items", "query-by-key", "update-plays", "genre-index",
                           "conditional-delete", "ttl"]
    first, second, third = steps["create-table"], steps["load-items"], steps["query-by-key"]
    assert (first["status"], first["check_runs"], first["solve_runs"], first["hints_taken"]) == ("passed", 2, 0, 2)
    assert (second["status"], second["check_runs"], second["solve_runs"], second["hints_taken"]) == ("solved", 1, 1, 1)
    assert (third["status"], third["check_runs"], third["solve_runs"]) == ("attempted", 1, 0)
    assert third["first_passed_at"] is None and third["time_on_step_seconds"] is None
    assert third["first_current_at"] is not None            # it became current when step 2 was solved
    for later in ("update-plays", "genre-index", "conditional-delete", "ttl"):
        assert steps[later]["status"] == "not_started" and steps[later]["check_runs"] == 0
        assert steps[later]["first_current_at"] is None
    # time on step 1: from `run` showing it to the passing check, the pause included
    spent = first["time_on_step_seconds"]
    assert PAUSE <= spent <= journey["finished"] - journey["started"] + 1, spent
    assert second["time_on_step_seconds"] is not None and second["time_on_step_seconds"] >= 0
    lab = data["labs"][0]
    assert lab["counts"] == {"passed": 1, "solved": 1, "attempted": 1, "not_started": 4}
    assert lab["current_step"] == "query-by-key"

    # the schema can fail: a record with a made-up status, a negative time or a missing field is refused
    for change in (lambda s: s.update(status="done"), lambda s: s.update(time_on_step_seconds=-1),
                   lambda s: s.pop("hints_taken"), lambda s: s.update(first_passed_at="yesterday")):
        broken = json.loads(json.dumps(data))
        change(broken["labs"][0]["steps"][0])
        assert list(validator.iter_errors(broken)), "the schema accepted a broken report"


def test_one_lab_and_a_file_whose_extension_picks_the_format(home, tmp_path):
    out = tmp_path / "progress.json"
    code, said, err = _call("report", LAB, "--out", str(out))
    assert code == 0, err
    assert str(out) in said
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [lab["id"] for lab in data["labs"]] == [LAB]
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def test_progress_for_reports_survives_a_lost_database_and_an_old_one(home):
    from labrunner import progress

    def without_time(text):
        data = json.loads(text)
        data.pop("generated_at")
        return data

    before = without_time(report())
    shutil.rmtree(home / "state" / "hints")                  # hints taken are in the progress record too
    assert without_time(report()) == before
    data_dir = home / "data"
    os.unlink(data_dir / "progress.db")                      # rebuilt from the journal alone
    assert without_time(report()) == before
    journal = data_dir / "progress.journal"
    journal.write_bytes(b"")                                 # a lost journal is written again from the database
    assert without_time(report()) == before
    assert b'"op":"hint"' in journal.read_bytes()
    db = sqlite3.connect(data_dir / "progress.db")           # a database from before visits were kept
    db.execute("DELETE FROM visits")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    progress.position(LAB)                                   # opening it upgrades it from the journal
    assert without_time(report()) == before


# ---- CSV ---------------------------------------------------------------------------------

def test_csv_report_has_the_documented_columns_and_one_row_per_step(home):
    from labrunner import report as module

    text = report("--format", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == module.CSV_COLUMNS == (
        "lab", "lab_title", "step_number", "step_id", "step_title", "status", "check_runs", "solve_runs",
        "hints_taken", "hints_available", "first_current_at", "first_passed_at", "time_on_step_seconds")
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == 7 and all(r["lab"] == LAB for r in records)
    assert [int(r["step_number"]) for r in records] == list(range(1, 8))
    expected = steps_of(json.loads(report("--format", "json")))
    for r in records:
        step = expected[r["step_id"]]
        assert r["status"] == step["status"] and int(r["check_runs"]) == step["check_runs"]
        assert int(r["hints_taken"]) == step["hints_taken"] and int(r["solve_runs"]) == step["solve_runs"]
        spent = step["time_on_step_seconds"]
        assert r["time_on_step_seconds"] == ("" if spent is None else str(spent))
        assert r["first_passed_at"] == (step["first_passed_at"] or "")


# ---- JUnit XML ---------------------------------------------------------------------------

SUITE_REQUIRED = ("name", "tests", "failures", "errors", "time", "timestamp", "hostname", "id", "package")
CASE_REQUIRED = ("name", "classname", "time")


def test_junit_report_loads_in_a_junit_parser(home, tmp_path):
    from junitparser import Failure, JUnitXml, Skipped

    out = tmp_path / "progress.xml"
    report("--out", str(out))                               # .xml means junit
    xml = JUnitXml.fromfile(str(out))
    suites = list(xml)
    assert [s.name for s in suites] == [LAB]
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (7, 2, 0, 4)
    results = {}
    for case in suite:
        kinds = [type(r) for r in case.result]
        results[case.name.split(":")[0]] = kinds
    assert results["01 create-table"] == []                               # a pass
    assert results["02 load-items"] == [Failure]
    assert results["03 query-by-key"] == [Failure]
    assert all(results[f"0{n} {sid}"] == [Skipped] for n, sid in
               ((4, "update-plays"), (5, "genre-index"), (6, "conditional-delete"), (7, "ttl")))
    first = next(iter(suite))
    assert first.time >= PAUSE
    # the attributes the JUnit (Jenkins) XSD requires
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    for element in root.iter("testsuite"):
        missing = [a for a in SUITE_REQUIRED if a not in element.attrib]
        assert not missing, missing
        float(element.get("time"))
    cases = list(root.iter("testcase"))
    assert len(cases) == 7
    for element in cases:
        assert not [a for a in CASE_REQUIRED if a not in element.attrib]
        float(element.get("time"))
    solved = [f for f in root.iter("failure") if f.get("type") == "solved"]
    assert len(solved) == 1 and "solve" in solved[0].get("message")


# ---- HTML --------------------------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}
SVG_EMPTY = {"rect"}


class Strict(HTMLParser):
    """Every element closed in order; collects the chart's bars and the table's rows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.bars, self.rows, self.tags = [], [], [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "rect" and attrs.get("class") == "bar":
            self.bars.append(attrs)
        if tag == "tr" and "data-step" in attrs:
            self.rows.append(attrs["data-step"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def test_html_report_is_one_self_contained_page_with_a_chart(home, tmp_path):
    out = tmp_path / "progress.html"
    report("--out", str(out))
    text = out.read_text(encoding="utf-8")
    parser = Strict()
    parser.feed(text)
    parser.close()
    assert not parser.problems and not parser.stack, (parser.problems, parser.stack)
    assert text.startswith("<!DOCTYPE html>")
    # nothing fetched: no script, no stylesheet link, no image, no URL at all
    lowered = text.lower()
    for needle in ("<script", "<link", "<img", "src=", "href=", "url(", "http:", "https:", "@import"):
        assert needle not in lowered, needle
    assert {"style", "svg", "table"} <= parser.tags
    # the chart: one bar per status present, widths in proportion to the step counts
    bars = {b["data-status"]: b for b in parser.bars if b["data-lab"] == LAB}
    assert {s: int(b["data-count"]) for s, b in bars.items()} == {"passed": 1, "solved": 1, "attempted": 1,
                                                                 "not_started": 4}
    widths = {s: float(b["width"]) for s, b in bars.items()}
    assert widths["not_started"] == pytest.approx(4 * widths["passed"], abs=0.2)
    assert sum(widths.values()) == pytest.approx(480, abs=0.5)
    assert parser.rows == ["create-table", "load-items", "query-by-key", "update-plays", "genre-index",
                           "conditional-delete", "ttl"]
    assert "Create the Music table" in text and "passed by solve" in text and "2 of 3" in text


# ---- what a report must never hold, and bad input ------------------------------------------

def test_no_report_holds_learner_code_check_messages_endpoints_or_credentials(home, journey):
    texts = {fmt: report("--format", fmt) for fmt in ("json", "csv", "junit", "html")}
    for fmt, text in texts.items():
        for secret in journey["secrets"] | set(journey["messages"]):
            assert secret not in text, f"{fmt} report holds {secret!r}"
        for word in ("password", "secret", "127.0.0.1", "workspace"):
            assert word not in text.lower(), f"{fmt} report holds {word!r}"


@pytest.mark.parametrize("args, says", [
    (("report", "dynamo-basics"), "no lab named 'dynamo-basics' — did you mean 'dynamodb-basics'?"),
    (("report", "--format", "yaml"), "no report format named 'yaml' — use --format json, csv, junit or html"),
    (("report", "--out", "/sys/progress.html"), "cannot write --out /sys/progress.html (permission denied)"),
    (("report", "--out", "{tmp}/missing/progress.html"), "the folder {tmp}/missing does not exist — create it"),
    (("report", "--out", "{tmp}"), "is a folder — give a file name in it"),
])
def test_bad_input_is_one_line_and_no_traceback(home, tmp_path, args, says):
    args = tuple(a.replace("{tmp}", str(tmp_path)) for a in args)
    code, out, err = _call(*args)
    assert code == 4, (out, err)
    assert says.replace("{tmp}", str(tmp_path)) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.rglob("*.html"))


def test_no_progress_yet_gives_an_empty_report_and_says_so():
    code, out, err = _call("report", "--format", "csv")
    assert code == 0
    assert out.strip().splitlines() == [",".join(__import__("labrunner.report").report.CSV_COLUMNS)]
    assert "no progress recorded yet" in err


# ---- HTML in a real browser ---------------------------------------------------------------
# Needs Debian's `chromium`. Without it the test skips, unless LABRUNNER_REQUIRE_CHROMIUM=1 (CI),
# which makes a missing browser a failure.

def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """(width, height, RGB pixels) of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unsupported PNG {header}"
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * step
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - step] if i >= step else 0
            b, c = prev[i], prev[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    pixels = [tuple(row[x * step:x * step + 3]) for row in rows for x in range(width)]
    return width, height, pixels


def chromium() -> str:
    program = shutil.which("chromium") or shutil.which("chromium-browser")
    if not program:
        if os.environ.get("LABRUNNER_REQUIRE_CHROMIUM") == "1":
            pytest.fail("LABRUNNER_REQUIRE_CHROMIUM=1 but Debian's chromium is not installed (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return program


def test_html_report_renders_its_chart_in_headless_chromium_with_no_network(home, tmp_path):
    import subprocess

    from labrunner import report as module

    program = chromium()
    page = tmp_path / "progress.html"
    report("--out", str(page))
    base = [program, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND",        # no name resolves: nothing can be fetched
            "--proxy-server=127.0.0.1:9",                   # and no proxy answers
            "--window-size=1000,700"]
    dom = subprocess.run(base + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = Strict()
    parser.feed(dom.stdout)
    assert len([b for b in parser.bars if b["data-lab"] == LAB]) == 4
    assert parser.rows[:3] == ["create-table", "load-items", "query-by-key"]
    shot = tmp_path / "report.png"
    done = subprocess.run(base + [f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1000, 700)
    colours = set(pixels)
    for status in ("passed", "solved", "attempted", "not_started"):      # each bar painted in its colour
        hex_colour = module.COLOURS[status].lstrip("#")
        rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))
        assert any(all(abs(p - q) <= 3 for p, q in zip(rgb, px)) for px in colours), f"no {status} bar painted"


def test_a_broken_lab_file_leaves_that_lab_out_with_one_line_and_reports_the_others(home, lab_copy):
    from labrunner import progress

    progress.set_position("rds-postgres-basics", "connect")       # some progress in a second lab
    lab_dir = lab_copy(LAB)
    yaml = lab_dir / "lab.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("\nminutes: 50\n", "\nminutes: lots\n"),
                    encoding="utf-8")
    code, out, err = _call("--labs-dir", str(lab_dir.parent), "report")
    assert code == 0, err
    assert err.strip().splitlines() == [f"labrunner: progress for {LAB} is left out: labs/{LAB}/lab.yaml: minutes: "
                                        "expected a whole number, found text 'lots'"]
    assert [lab["id"] for lab in json.loads(out)["labs"]] == ["rds-postgres-basics"]
