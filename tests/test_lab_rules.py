"""Lab rules in the tool: `labrunner test --static` holds any lab (a teacher's own too) to the
rules the project's tests hold the built-in labs to, with no engine; and `test --json` answers
every error with a JSON object."""

import re
import time

import pytest
import yaml

from labrunner.labs import rules
from labrunner.labs.loader import parse_lab


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def edit(lab_dir, change):
    data = yaml.safe_load((lab_dir / "lab.yaml").read_text())
    change(data)
    (lab_dir / "lab.yaml").write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True))


def new_findings(lab_dir, change) -> list:
    """The findings a change adds (the copied lab may be mid-edit by its authors: compare)."""
    before = {f.line() for f in rules.check(lab_dir)}
    change(lab_dir)
    return [f for f in rules.check(lab_dir) if f.line() not in before]


def lines(findings) -> list[str]:
    return [f.line() for f in findings]


def step_id(lab_dir, index: int) -> str:
    return parse_lab(lab_dir).steps[index].id


def test_a_step_with_one_hint_breaks_the_tiered_hints_rule(lab_copy):
    lab_dir = lab_copy()
    found = new_findings(lab_dir, lambda d: edit(d, lambda y: y["steps"][1].__setitem__("hints", ["one"])))
    second = step_id(lab_dir, 1)
    assert lines(found) == [f"labs/dynamodb-basics/lab.yaml: steps[1]: '{second}' has 1 hint; give at least 2, "
                            "tiered: a nudge, the approach, nearly the answer"]
    assert found[0].rule == "hints" and found[0].step == second


def test_a_repeated_hint_is_found(lab_copy):
    found = new_findings(lab_copy(), lambda d: edit(d, lambda y: y["steps"][0].__setitem__("hints", ["a", "a"])))
    assert [f.rule for f in found] == ["hints"] and "repeats a hint" in found[0].message


def test_a_step_without_a_mistake_is_found(lab_copy):
    lab_dir = lab_copy()
    found = new_findings(lab_dir, lambda d: edit(d, lambda y: y["steps"][2].pop("mistakes")))
    third = step_id(lab_dir, 2)
    assert [(f.rule, f.step) for f in found] == [("mistakes", third)]
    assert f"'{third}' lists no mistakes" in found[0].message


def test_a_title_that_differs_from_its_heading_is_found(lab_copy):
    lab_dir = lab_copy()
    first = parse_lab(lab_dir).steps[0]
    found = new_findings(lab_dir, lambda d: edit(d, lambda y: y["steps"][0].__setitem__("title", "Make a table")))
    assert lines(found) == [f"labs/dynamodb-basics/lab.yaml: steps[0]: '{first.id}' is titled 'Make a table' but "
                            f"{first.text} is headed 'Step 1: {first.title}'; make them the same (the run loop "
                            "shows both)"]


def test_a_heading_with_the_wrong_step_number_is_found(lab_copy):
    def renumber(lab_dir):
        text = lab_dir / parse_lab(lab_dir).steps[1].text
        text.write_text(re.sub(r"(?m)^# .*$", "# Step 3: Something else", text.read_text(), count=1))

    lab_dir = lab_copy()
    found = new_findings(lab_dir, renumber)
    assert [f.rule for f in found] == ["title"] and f"'{step_id(lab_dir, 1)}' is step 2 but" in found[0].message


def test_every_missing_function_is_found_not_only_the_first(lab_copy):
    def rename(y):
        y["steps"][0]["checks"][0] = "no_such_check"
        y["steps"][3]["solution"] = "no_such_solution"
        y["steps"][4]["mistakes"][0]["apply"] = "no_such_mistake"

    found = new_findings(lab_copy(), lambda d: edit(d, rename))
    assert lines(found) == [
        "labs/dynamodb-basics/lab.yaml: steps[0].checks[0]: checks.py has no function 'no_such_check'",
        "labs/dynamodb-basics/lab.yaml: steps[3].solution: solutions.py has no function 'no_such_solution'",
        "labs/dynamodb-basics/lab.yaml: steps[4].mistakes[0].apply: mistakes.py has no function 'no_such_mistake'",
    ]


def test_stray_files_are_found(lab_copy):
    def litter(lab_dir):
        (lab_dir / "notes.txt").write_text("todo")
        (lab_dir / "steps" / "99-old-step.md").write_text("# Step 99: gone\n")
        (lab_dir / "solutions" / "unrelated.py").write_text("x = 1\n")

    found = new_findings(lab_copy(), litter)
    assert sorted(f.where for f in found) == ["labs/dynamodb-basics/notes.txt",
                                              "labs/dynamodb-basics/solutions/unrelated.py",
                                              "labs/dynamodb-basics/steps/99-old-step.md"]
    assert {f.rule for f in found} == {"stray"}


def test_a_thin_outro_is_found(lab_copy):
    found = new_findings(lab_copy(), lambda d: (d / "outro.md").write_text("# Done\n"))
    assert lines(found) == ["labs/dynamodb-basics/outro.md: only 6 characters; the outro needs at least 200"]


def test_a_lab_that_does_not_load_is_one_finding(lab_copy):
    lab_dir = lab_copy()
    (lab_dir / "lab.yaml").write_text("format_version: 1\nid: dynamodb-basics\nid: again\n")
    found = rules.check(lab_dir)
    assert [f.rule for f in found] == ["loads"] and "duplicate key 'id'" in found[0].line()


def test_lab_code_that_exits_at_import_is_a_finding(lab_copy):
    def exit_at_import(lab_dir):
        checks = lab_dir / "checks.py"
        checks.write_text("import sys\nsys.exit(7)\n" + checks.read_text())

    found = new_findings(lab_copy(), exit_at_import)
    assert lines(found) == ["labs/dynamodb-basics/checks.py line 2 called sys.exit(7) at import — a lab's code "
                            "must not exit: raise an exception, or fail a check"]


def test_a_placeholder_the_run_loop_does_not_fill_is_found(lab_copy):
    def typo(lab_dir):
        text = lab_dir / parse_lab(lab_dir).steps[0].text
        text.write_text(text.read_text() + "\nUse {{ endpiont }} and {{ host.mysql }}; {{ region }} is fine.\n")

    lab_dir = lab_copy()
    found = new_findings(lab_dir, typo)
    assert [f.rule for f in found] == ["placeholders", "placeholders"]
    assert "{{ endpiont }} is not filled in (known: endpoint, host" in found[0].message
    assert "{{ host.mysql }} is not filled in (the lab has no service 'mysql'" in found[1].message
    assert found[0].where == f"labs/dynamodb-basics/{parse_lab(lab_dir).steps[0].text}"


def test_the_placeholder_rule_knows_what_the_run_loop_fills():
    """rules.py lists the placeholders cli.common.fill fills; this keeps the two lists together."""
    from labrunner.cli import common
    from labrunner.labs import catalog

    lab = catalog.get("rds-postgres-basics", with_code=False)
    names = rules.ENDPOINT_PLACEHOLDERS + rules.OTHER_PLACEHOLDERS
    names += tuple(f"{name}.postgres" for name in rules.ENDPOINT_PLACEHOLDERS)
    for name in names:
        assert "{{" not in common.fill("{{ %s }}" % name, lab, None), name
    assert common.fill("{{ endpiont }}", lab, None) == "{{ endpiont }}"      # what the rule guards against


# --- the command ---------------------------------------------------------------------------

def test_static_on_a_clean_lab_exits_0(cli, lab_copy):
    lab_dir = lab_copy("elasticache-caching")
    assert rules.check(lab_dir) == [], "the built-in elasticache-caching lab breaks a rule"
    result = cli("--labs-dir", str(lab_dir.parent), "test", "--static", "elasticache-caching")
    assert result.code == 0, result
    assert "elasticache-caching: keeps the lab rules" in result.out


def test_static_on_a_teachers_lab_exits_6_with_one_line_per_finding(cli, lab_copy, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")     # no engine is needed
    monkeypatch.setenv("TESTCONTAINERS_HOST_OVERRIDE", "unix:///nonexistent/docker.sock")
    lab_dir = lab_copy("elasticache-caching")
    (lab_dir / "draft.md").write_text("notes")
    edit(lab_dir, lambda y: y["steps"][0].pop("mistakes"))
    started = time.perf_counter()
    result = cli("--labs-dir", str(lab_dir.parent), "test", "--static", "elasticache-caching")
    assert time.perf_counter() - started < 10
    assert result.code == 6, result
    assert result.out.splitlines() == [
        "✗ elasticache-caching: 2 rule(s) broken",
        "   labs/elasticache-caching/lab.yaml: steps[0]: 'load' lists no mistakes; add the typical wrong "
        "answer (mistakes.py) and the message a check gives it",
        "   labs/elasticache-caching/draft.md: is not part of a lab (lab.yaml names no such file); remove it or "
        "move it into workspace/",
    ]
    report = cli("--labs-dir", str(lab_dir.parent), "test", "--static", "elasticache-caching", "--json")
    assert report.code == 6
    (lab,) = report.json()["results"]
    assert lab["static"] and not lab["ok"]
    assert [(f["what"], f["step"]) for f in lab["findings"]] == [("mistakes", "load"), ("stray", None)]


def test_static_unknown_lab_is_a_usage_error(cli):
    result = cli("test", "--static", "dynamodb-basic")
    assert result.code == 4
    assert "did you mean 'dynamodb-basics'?" in result.err


# --- test --json answers every error with JSON -------------------------------------------------

def test_json_error_for_an_unknown_lab(cli):
    result = cli("test", "no-such-lab", "--json")
    assert result.code == 4
    assert result.json() == {"ok": False, "error": "no lab named 'no-such-lab' — see `labrunner list`",
                             "exit_code": 4, "results": []}


def test_json_error_when_docker_is_unavailable(cli, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("TESTCONTAINERS_HOST_OVERRIDE", "unix:///nonexistent/docker.sock")
    result = cli("test", "dynamodb-basics", "--runtime", "docker", "--json")
    assert result.code == 5, result
    report = result.json()
    assert report["ok"] is False and report["exit_code"] == 5
    assert report["error"].startswith("Docker is not reachable: unix:///nonexistent/docker.sock")


def test_json_error_for_a_lab_error(cli, lab_copy):
    lab_dir = lab_copy()
    checks = lab_dir / "checks.py"
    checks.write_text("import sys\n\nsys.exit(7)\n" + checks.read_text())
    result = cli("--labs-dir", str(lab_dir.parent), "test", "dynamodb-basics", "--runtime", "local", "--json")
    assert result.code == 4, result
    assert result.json()["error"].startswith("labs/dynamodb-basics/checks.py line 3 called sys.exit(7) at import")


@pytest.mark.parametrize("args", [("--runtime", "bogus"), ("--no-such-option",)])
def test_json_error_for_a_bad_command_line(cli, args):
    result = cli("test", "dynamodb-basics", *args, "--json")
    assert result.code == 4, result
    report = result.json()
    assert report["ok"] is False and report["exit_code"] == 4 and report["error"]


def test_static_names_a_lab_folder_with_brackets_as_written(cli, lab_copy):
    lab_dir = lab_copy()
    odd = lab_dir.rename(lab_dir.parent / "x[bold]")
    result = cli("--labs-dir", str(odd.parent), "test", "--static", "x[bold]")
    assert result.code == 6, result
    assert result.out.startswith("✗ x[bold]: 1 rule(s) broken")
    assert "'dynamodb-basics' differs from its folder name 'x[bold]'" in result.out
