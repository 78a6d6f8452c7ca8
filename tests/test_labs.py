"""Every lab proves itself on every runtime: `labrunner test` (checks fail before the solution,
pass after, every listed mistake caught, every listed route passes), and the proof's findings say
so for every check, mistake and route the lab lists — not only the exit code."""

import pytest
import yaml

from labrunner.labs import catalog

LABS = sorted(catalog.lab_dirs())


def _docker_only(lab_id):
    from labrunner import services

    return [s for s in catalog.get(lab_id, with_code=False).services if services.get(s).local is None]


def _missing_images(lab_id, runtime):
    """Images this lab needs that are not on this Docker host (our CI cannot pull any)."""
    import docker.errors

    from labrunner import config, services

    missing = []
    for name in catalog.get(lab_id, with_code=False).services:
        image = config.resolve_image(name, services.get(name).image)
        try:
            runtime.client.images.get(image)
        except docker.errors.ImageNotFound:
            missing.append(image)
    return missing


def proof_gaps(lab, findings) -> list[str]:
    """What the proof of `lab` fails to show: each listed check failed before its solution and
    passed after it, each mistake was caught, each route passed; and every finding is ok."""
    gaps = [f"{f['step']} ({f['what']}) not ok: {f['detail']}" for f in findings if not f["ok"]]
    seen = {(f["step"], f["what"], f["detail"].split(":", 1)[0] if f["what"] in ("before", "after") else "")
            for f in findings if f["ok"]}
    for step in lab.steps:
        wanted = [(step.id, when, check) for check in step.checks for when in ("before", "after")]
        wanted += [(step.id, f"mistake:{m.apply}", "") for m in step.mistakes]
        wanted += [(step.id, f"route:{route}", "") for route in step.routes]
        gaps += [f"{s} ({what}{' ' + check if check else ''}): no passing finding" for s, what, check in wanted
                 if (s, what, check) not in seen]
    return gaps


def _prove(cli, lab_id, runtime, *extra):
    result = cli(*extra, "test", lab_id, "--runtime", runtime, "--json")
    report = result.json()
    assert len(report.get("results", [])) == 1, (result.code, report)
    (proof,) = report["results"]
    assert proof["runtime"] == runtime and not proof.get("skipped"), proof
    return result, report, proof


@pytest.mark.local
@pytest.mark.parametrize("lab_id", LABS)
def test_lab_proves_itself_on_local(cli, lab_id):
    if _docker_only(lab_id):
        pytest.skip(f"{lab_id} is Docker only ({', '.join(_docker_only(lab_id))} has no local stand-in)")
    result, report, proof = _prove(cli, lab_id, "local")
    assert proof_gaps(catalog.get(lab_id), proof["findings"]) == []
    assert result.code == 0 and report["ok"] and proof["ok"]


@pytest.mark.docker
@pytest.mark.parametrize("lab_id", LABS)
def test_lab_proves_itself_on_docker(cli, lab_id, docker_runtime):
    missing = _missing_images(lab_id, docker_runtime)
    if missing and _docker_only(lab_id):
        pytest.skip(f"needs {', '.join(missing)}, which cannot be pulled here (no container registry)")
    result, report, proof = _prove(cli, lab_id, "docker")
    assert proof_gaps(catalog.get(lab_id), proof["findings"]) == []
    assert result.code == 0 and report["ok"] and proof["ok"]


@pytest.mark.parametrize("lab_id", LABS)
def test_every_step_lists_a_typical_mistake(lab_id):
    """What `labrunner test` proves caught: at least one typical wrong answer per step (the proof
    that each is caught is proof_gaps() above, in the two tests that run `labrunner test`)."""
    lab = catalog.get(lab_id)
    assert [s.id for s in lab.steps if not s.mistakes] == []


@pytest.mark.local
def test_a_mistake_that_is_not_caught_fails_the_proof(cli, lab_copy):
    """The proof can fail on a mistake: one whose promised message no check gives is reported, and
    proof_gaps() names it."""
    lab_dir = lab_copy()
    raw = yaml.safe_load((lab_dir / "lab.yaml").read_text())
    raw["steps"] = raw["steps"][:1]                       # one step keeps this quick
    mistake = raw["steps"][0]["mistakes"][0]
    mistake["expect"] = "a message no check gives"
    (lab_dir / "lab.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    result, report, proof = _prove(cli, "dynamodb-basics", "local", "--labs-dir", str(lab_dir.parent))
    assert result.code == 6 and not report["ok"]
    gaps = proof_gaps(catalog.get("dynamodb-basics"), proof["findings"])
    assert [g for g in gaps if f"mistake:{mistake['apply']}" in g and "not ok" in g], gaps


def test_proof_gaps_names_a_finding_the_proof_left_out():
    """A proof that silently skips a check, a mistake or a route is not a proof."""
    lab = catalog.get("dynamodb-basics")
    step = lab.steps[0]
    findings = [{"step": step.id, "what": when, "ok": True, "detail": f"{check}: passed"}
                for check in step.checks for when in ("before", "after")]
    findings += [{"step": step.id, "what": f"mistake:{m.apply}", "ok": True, "detail": "caught"}
                 for m in step.mistakes]
    findings += [{"step": step.id, "what": f"route:{r}", "ok": True, "detail": "passed"} for r in step.routes]
    complete = [g for g in proof_gaps(lab, findings) if g.startswith(f"{step.id} ")]
    assert complete == []
    dropped = [f for f in findings if not (f["what"] == "after" and f["detail"].startswith(step.checks[0]))]
    assert proof_gaps(lab, dropped)[0] == f"{step.id} (after {step.checks[0]}): no passing finding"
    if step.routes:
        failed = [dict(f, ok=False) if f["what"] == f"route:{step.routes[0]}" else f for f in findings]
        assert f"{step.id} (route:{step.routes[0]}) not ok: passed" in proof_gaps(lab, failed)


@pytest.mark.local
def test_a_lab_whose_check_passes_too_early_fails_its_test(cli, lab_copy):
    """The proof can fail: a check that passes before its solution is reported."""
    lab_dir = lab_copy()
    checks = lab_dir / "checks.py"
    checks.write_text(checks.read_text() + "\n\ndef music_table_exists(dynamodb):\n    return None\n")
    result = cli("--labs-dir", str(lab_dir.parent), "test", "dynamodb-basics", "--runtime", "local", "--json")
    assert result.code == 6
    bad = [f for r in result.json()["results"] for f in r["findings"] if not f["ok"]]
    assert any("passed before the solution" in f["detail"] for f in bad)


@pytest.mark.docker
def test_a_lab_whose_image_cannot_be_had_names_it(cli, docker_runtime, monkeypatch):
    """Oracle and SQL Server cannot be pulled where our CI runs: `labrunner test` names the image,
    and --skip-unavailable reports a skip rather than a pass or a failure."""
    monkeypatch.setenv("LABRUNNER_IMAGE_ORACLE", "labrunner-local/oracle-not-here:0")
    result = cli("test", "rds-oracle-basics")
    assert result.code == 5
    assert "could not pull labrunner-local/oracle-not-here:0" in result.err
    assert "LABRUNNER_IMAGE_ORACLE" in result.err and "--runtime local" not in result.err
    skipped = cli("test", "rds-oracle-basics", "--skip-unavailable", "--json")
    assert skipped.code == 0
    report = skipped.json()["results"][0]
    assert report["skipped"] and report["findings"] == []


def test_docker_only_labs_have_no_local_runtime(cli):
    result = cli("test", "rds-sqlserver-basics", "--runtime", "local")
    assert result.code == 5
    assert "has no local stand-in" in result.err and "--runtime docker" in result.err
