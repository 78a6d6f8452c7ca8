"""`labrunner doctor` prints the Aurora cluster's memory: measured from /proc while a cluster runs
(on either runtime), else the figure benchmarks/cluster_memory.py recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psutil
import pytest

LAB = "aurora-replication"
ITEM = "aurora-postgresql memory"


def _memory_items(cli) -> list[dict]:
    result = cli("doctor", "--json")
    return [i for i in result.json()["items"] if i["item"] == ITEM]


def test_without_a_cluster_doctor_prints_the_recorded_figure(cli):
    from labrunner.services import aurora_doctor

    recorded = json.loads(aurora_doctor.RECORDED.read_text())
    assert recorded["after_load"]["processes"] >= 13 and recorded["after_load"]["pss_mb"] > 0
    assert recorded["bare_postgres"]["after_load"]["pss_mb"] > 0
    [item] = _memory_items(cli)
    assert item["ok"] and "no cluster running" in item["detail"], item
    assert f"{recorded['after_load']['pss_mb']:.0f} MB PSS" in item["detail"]
    assert f"{recorded['after_load']['rss_mb']:.0f} MB RSS" in item["detail"]
    assert f"one bare PostgreSQL: {recorded['bare_postgres']['after_load']['pss_mb']:.0f} MB PSS" in item["detail"]


def test_without_a_figure_doctor_says_how_to_measure_it(cli, monkeypatch, tmp_path):
    from labrunner.services import aurora_doctor

    monkeypatch.setattr(aurora_doctor, "RECORDED", tmp_path / "absent.json")
    [item] = _memory_items(cli)
    assert item["ok"] and "benchmarks/cluster_memory.py --write" in item["detail"], item


@pytest.fixture(params=["local", "docker"])
def runtime(request):
    if request.param == "docker":
        request.getfixturevalue("docker_runtime")
    return request.param


def _independent_pss(state, runtime) -> tuple[float, int]:
    """PSS summed with psutil over the cluster's processes, found another way than aurora_doctor:
    the supervisor's (or container's) process tree, and the postmasters named in the pid files."""
    if runtime == "local":
        roots = [psutil.Process(int(state["pid"]))]
        for name in ("aurora-1", "aurora-2", "aurora-3"):
            pidfile = Path(state["data_dir"]) / "nodes" / name / "postmaster.pid"
            roots.append(psutil.Process(int(pidfile.read_text().split()[0])))
    else:
        from labrunner.runtimes.docker import DockerRuntime

        roots = [psutil.Process(DockerRuntime().client.containers.get(state["container"]).attrs["State"]["Pid"])]
    processes = {p.pid: p for root in roots for p in (root, *root.children(recursive=True))}
    total = sum(p.memory_full_info().pss for p in processes.values())
    return total / 2**20, len(processes)


def test_with_a_cluster_running_doctor_measures_it(cli, runtime):
    from labrunner import sessions

    result = cli("run", LAB, "--runtime", runtime, "--no-input")
    assert result.code == 0, result
    try:
        state = sessions.find(LAB).services["aurora-postgresql"]
        [item] = _memory_items(cli)
        expected, count = _independent_pss(state, runtime)
        found = re.search(r"running now: (\d+) MB PSS, (\d+) MB RSS over (\d+) processes", item["detail"])
        assert item["ok"] and found and f"{LAB} ({runtime})" in item["detail"], item
        pss, rss, processes = (int(g) for g in found.groups())
        # Three postmasters with their workers and the supervisor (container: plus its PID 1).
        assert processes >= 13 and abs(processes - count) <= 2, (processes, count)
        assert abs(pss - expected) <= max(10, expected * 0.15), (pss, expected)
        assert rss > pss        # shared buffers counted in every process that touched them
    finally:
        cli("down", "--all", "--wipe")
