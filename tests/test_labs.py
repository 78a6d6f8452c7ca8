"""Every lab proves itself on every runtime: `labrunner test` (checks fail before the solution,
pass after, every listed mistake caught)."""

import pytest

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


@pytest.mark.parametrize("lab_id", LABS)
def test_lab_proves_itself_on_local(cli, lab_id):
    if _docker_only(lab_id):
        pytest.skip(f"{lab_id} is Docker only ({', '.join(_docker_only(lab_id))} has no local stand-in)")
    result = cli("test", lab_id, "--runtime", "local", "--json")
    report = result.json()
    failures = [f for r in report["results"] for f in r["findings"] if not f["ok"]]
    assert result.code == 0 and report["ok"], failures


@pytest.mark.parametrize("lab_id", LABS)
def test_lab_proves_itself_on_docker(cli, lab_id, docker_runtime):
    missing = _missing_images(lab_id, docker_runtime)
    if missing and _docker_only(lab_id):
        pytest.skip(f"needs {', '.join(missing)}, which cannot be pulled here (no container registry)")
    result = cli("test", lab_id, "--runtime", "docker", "--json")
    report = result.json()
    failures = [f for r in report["results"] for f in r["findings"] if not f["ok"]]
    assert result.code == 0 and report["ok"], failures


def test_every_step_has_mistakes_that_are_caught():
    """Each step lists at least one typical wrong answer, so `labrunner test` proves the checks name it."""
    for lab_id in LABS:
        lab = catalog.get(lab_id)
        assert all(step.mistakes for step in lab.steps), [s.id for s in lab.steps if not s.mistakes]


def test_a_lab_whose_check_passes_too_early_fails_its_test(cli, lab_copy):
    """The proof can fail: a check that passes before its solution is reported."""
    lab_dir = lab_copy()
    checks = lab_dir / "checks.py"
    checks.write_text(checks.read_text() + "\n\ndef music_table_exists(dynamodb):\n    return None\n")
    result = cli("--labs-dir", str(lab_dir.parent), "test", "dynamodb-basics", "--runtime", "local", "--json")
    assert result.code == 6
    bad = [f for r in result.json()["results"] for f in r["findings"] if not f["ok"]]
    assert any("passed before the solution" in f["detail"] for f in bad)


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
