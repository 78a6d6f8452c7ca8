"""The aurora-postgresql service through labrunner's own commands on the local runtime: status
lists every node, a node fault and a planned failover go through the cluster's control, and a
check right after the writer is killed runs against the new writer instead of calling the
cluster dead while the old writer rejoins."""

import pytest

LAB = "aurora-replication"


@pytest.fixture
def cluster(cli):
    result = cli("run", LAB, "--runtime", "local", "--no-input")
    assert result.code == 0, result
    yield
    cli("down", "--all", "--wipe")


@pytest.mark.local
def test_status_fault_and_failover_act_on_the_nodes(cli, cluster):
    report = cli("status", "--json").json()["labs"][0]["services"][0]
    nodes = {n["name"]: n for n in report["nodes"]}
    assert set(nodes) == {"aurora-1", "aurora-2", "aurora-3"} and all(n["alive"] for n in nodes.values())
    assert [n["zone"] for n in report["nodes"]] == ["az-a", "az-b", "az-c"]
    assert nodes["aurora-1"]["role"] == "writer"

    result = cli("failover", "aurora-postgresql", "--target", "aurora-3")
    assert result.code == 0 and "aurora-3 is the writer now" in result.out, result
    roles = {n["name"]: n["role"] for n in cli("status", "--json").json()["labs"][0]["services"][0]["nodes"]}
    assert roles["aurora-3"] == "writer" and roles["aurora-1"] == "reader"

    result = cli("fault", "kill", "aurora-postgresql/writer")
    assert result.code == 0 and "aurora-3" in result.out, result
    result = cli("check", "--json")           # at once: the new writer serves, the old one is still rejoining
    assert "not answering" not in result.err, result
    assert result.json()["passed"] is False and "no table shop.orders" in result.out


@pytest.mark.local
def test_a_node_that_does_not_exist_is_one_line(cli, cluster):
    result = cli("fault", "kill", "aurora-postgresql/aurora-9")
    assert result.code != 0 and "has no node 'aurora-9'" in result.err and "Traceback" not in result.err
