"""The Ethereum stand-in (Foundry's anvil): where it comes from (PATH, the engine cache, a copy of
the cache with no network, nothing), what it serves (chain id, dev accounts whose keys sign, a
127.0.0.1 listener), that `down` lets anvil write its chain and `run` brings it back, that
`reset` starts a fresh chain, on both runtimes, and the CI image on its own with testcontainers."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from labrunner import engine_cache, sessions
from labrunner.errors import ServiceError
from labrunner.runtimes.base import endpoint_of, wait_ready
from labrunner.runtimes.local import LocalRuntime
from labrunner.services import anvil_engine, ethereum

REPO = Path(__file__).resolve().parent.parent
LAB = "blockchain-ledger"


# ---- where anvil comes from -----------------------------------------------------------------

@pytest.fixture(scope="module")
def fetched_anvil(tmp_path_factory):
    """anvil 1.7.1 fetched once from the npm registry into a cache of its own, for the tests of
    this module to link into their own LABRUNNER_HOME (a second machine given the cache)."""
    if anvil_engine.artifact() is None:
        pytest.skip("Foundry publishes no anvil for this platform")
    home = tmp_path_factory.mktemp("anvil-home")
    saved = os.environ.get("LABRUNNER_HOME")
    os.environ["LABRUNNER_HOME"] = str(home)
    try:
        engine_cache.unpacked(anvil_engine.artifact())
    finally:
        if saved is None:
            os.environ.pop("LABRUNNER_HOME", None)
        else:
            os.environ["LABRUNNER_HOME"] = saved
    return home / "cache" / "engines"


def give_cache(fetched: Path, home: Path) -> None:
    """Copy a machine's engine cache into another LABRUNNER_HOME (hard links: the same bytes)."""
    shutil.copytree(fetched, home / "cache" / "engines", copy_function=os.link, dirs_exist_ok=True)


@pytest.fixture
def no_network(monkeypatch):
    """The npm registry is a closed port on 127.0.0.1, and no anvil is on PATH."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]          # closed again when the block ends: nothing listens there
    monkeypatch.setenv("LABRUNNER_NPM_REGISTRY", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(anvil_engine, "on_path", lambda: None)


@pytest.fixture
def anvil_cached(fetched_anvil, labrunner_home, no_network):
    give_cache(fetched_anvil, labrunner_home)


def test_every_platform_package_is_pinned_by_version_and_integrity():
    names = set()
    for (system, machine), (name, digest) in anvil_engine.PACKAGES.items():
        wanted = anvil_engine.artifact(system, machine)
        assert wanted.name == name and wanted.version == "1.7.1" and wanted.digest == digest
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", digest)
        names.add(name)
    assert len(names) == len(anvil_engine.PACKAGES) == 5
    assert anvil_engine.artifact("darwin", "aarch64").name.endswith("darwin-arm64")
    assert anvil_engine.artifact("linux", "arm64").name.endswith("linux-arm64")
    assert anvil_engine.artifact("linux", "AMD64").name.endswith("linux-amd64")
    assert anvil_engine.artifact("freebsd", "x86_64") is None
    assert ethereum.IMAGE.endswith(f":v{anvil_engine.VERSION}")


def test_anvil_on_path_wins_and_doctor_says_which(anvil_cached, tmp_path, monkeypatch):
    cached = anvil_engine.cached()
    assert cached is not None and "in the engine cache" in anvil_engine.doctor_notes()[0][2]
    assert anvil_engine.binary() == str(cached)
    own = tmp_path / "bin" / "anvil"
    own.parent.mkdir()
    os.symlink(cached, own)
    monkeypatch.undo()                                   # the real on_path again, with our folder first
    monkeypatch.setenv("PATH", f"{own.parent}{os.pathsep}{os.environ['PATH']}")
    assert anvil_engine.binary() == str(own)
    assert anvil_engine.doctor_notes() == [("ethereum engine", True, f"anvil on PATH ({own})")]


def test_a_second_machine_given_the_cache_starts_the_node_with_no_network(anvil_cached):
    """anvil_cached: this LABRUNNER_HOME holds only a copy of another home's engine cache, and the
    registry is unreachable. The node starts, and it is the pinned anvil."""
    state = _launch("second-machine")
    try:
        w3 = ethereum.client(endpoint_of(state))
        assert w3.eth.chain_id == ethereum.CHAIN_ID
        assert w3.client_version.startswith(f"anvil/v{anvil_engine.VERSION}")
    finally:
        LocalRuntime().remove(state)


def test_offline_without_a_cache_fails_in_one_line_naming_what_to_do(cli, no_network):
    result = cli("run", LAB, "--runtime", "local", "--no-input")
    assert result.code == 5, result
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result
    assert "anvil 1.7.1 is not in the engine cache and could not be fetched" in lines[0]
    assert "copy another machine's engine cache" in lines[0]
    assert "Traceback" not in result.err + result.out
    assert sessions.find(LAB) is None                  # nothing half-started is left


# ---- what the node serves ---------------------------------------------------------------------

def _launch(session_id: str, runtime=None):
    runtime = runtime or LocalRuntime()
    state = runtime.launch(ethereum.SERVICE, lab_id="x", session_id=session_id, port=None)
    wait_ready(runtime, ethereum.SERVICE, state)
    return state


def test_local_node_serves_the_dev_accounts_on_loopback_only(anvil_cached):
    import psutil

    state = _launch("serves")
    try:
        endpoint = endpoint_of(state)
        w3 = ethereum.SERVICE.fixtures["web3"](endpoint)
        accounts = ethereum.SERVICE.fixtures["accounts"](endpoint)
        assert [a.address for a in accounts] == w3.eth.accounts[:10]
        assert accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"   # anvil's first, everywhere
        assert w3.eth.get_balance(accounts[9].address) == 10_000 * 10**18
        # a dev account's key really is its key: sign here, send the raw bytes
        sender = accounts[7]
        signed = w3.eth.account.sign_transaction(
            {"to": accounts[8].address, "value": 12345, "gas": 21000, "gasPrice": w3.eth.gas_price,
             "nonce": 0, "chainId": ethereum.CHAIN_ID}, sender.private_key)
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
        assert receipt["from"] == sender.address and receipt["status"] == 1
        listening = {c.laddr.ip for c in psutil.Process(state["pid"]).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}
        assert ethereum.SERVICE.exports(endpoint)["ETH_RPC_URL"] == f"http://127.0.0.1:{endpoint.port}"
        ethereum.SERVICE.reset(endpoint)
        assert w3.eth.block_number == 0 and w3.eth.get_balance(accounts[8].address) == 10_000 * 10**18
    finally:
        LocalRuntime().remove(state)


def test_a_clean_stop_writes_the_chain_and_a_restart_loads_it(anvil_cached, monkeypatch):
    """No periodic writes here (an hour apart): only the dump anvil makes on SIGTERM, which is how
    `labrunner down` stops it, can carry the chain over."""
    monkeypatch.setattr(ethereum, "STATE_INTERVAL", 3600)
    runtime = LocalRuntime()
    state = _launch("clean-stop", runtime)
    try:
        w3 = ethereum.client(endpoint_of(state))
        accounts = ethereum.dev_accounts()
        tx = w3.eth.send_transaction({"from": accounts[0].address, "to": accounts[1].address, "value": 777})
        block = w3.eth.wait_for_transaction_receipt(tx)["blockHash"]
        state_file = Path(state["data_dir"]) / ethereum.STATE_FILE
        assert not state_file.exists()                 # nothing written yet
        runtime.signal(state, "stop")
        assert not runtime.alive(state) and state_file.is_file()
        runtime.signal(state, "restart")
        wait_ready(runtime, ethereum.SERVICE, state)
        w3 = ethereum.client(endpoint_of(state))
        assert w3.eth.block_number == 1 and w3.eth.get_block(1)["hash"] == block
        assert w3.eth.get_transaction_receipt(tx)["status"] == 1
        assert w3.eth.get_balance(accounts[1].address) == 10_000 * 10**18 + 777
    finally:
        runtime.remove(state)


def test_sigkill_loses_at_most_the_last_second(anvil_cached):
    runtime = LocalRuntime()
    state = _launch("killed", runtime)
    try:
        w3 = ethereum.client(endpoint_of(state))
        accounts = ethereum.dev_accounts()
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": accounts[2].address, "to": accounts[3].address, "value": 5}))
        time.sleep(ethereum.STATE_INTERVAL * 2.5)
        runtime.signal(state, "kill")
        runtime.signal(state, "restart")
        wait_ready(runtime, ethereum.SERVICE, state)
        assert ethereum.client(endpoint_of(state)).eth.get_balance(accounts[3].address) == 10_000 * 10**18 + 5
    finally:
        runtime.remove(state)


# ---- the learner's chain across down, run and reset (the real CLI) --------------------------

@pytest.mark.parametrize("runtime", ["local", "docker"])
def test_the_chain_survives_down_and_run_and_reset_starts_afresh(cli, runtime, request, fetched_anvil,
                                                                 labrunner_home):
    if runtime == "docker":
        request.getfixturevalue("docker_runtime")
    else:
        give_cache(fetched_anvil, labrunner_home)
    assert cli("run", LAB, "--runtime", runtime, "--no-input").code == 0
    try:
        endpoint = sessions.find(LAB).endpoint("ethereum")
        w3 = ethereum.client(endpoint)
        accounts = ethereum.dev_accounts()
        payee = "0x" + "42" * 20        # no check pays it (step 1's check moves ether between dev accounts)
        tx = w3.eth.send_transaction({"from": accounts[4].address, "to": payee, "value": 4242})
        mined = w3.eth.wait_for_transaction_receipt(tx)
        # another terminal (a process of its own) sees the same chain: its check reads the balances
        assert cli("solve", LAB, "--yes").code == 0
        other = subprocess.run([sys.executable, "-m", "labrunner", "check", LAB, "--step", "1"], capture_output=True, text=True,
                               env=dict(os.environ), timeout=120)
        assert other.returncode == 0, other.stdout + other.stderr

        assert cli("down", LAB).code == 0
        assert sessions.find(LAB).stopped
        assert cli("run", LAB, "--no-input").code == 0
        w3 = ethereum.client(sessions.find(LAB).endpoint("ethereum"))
        assert w3.eth.get_transaction_receipt(tx)["blockHash"] == mined["blockHash"]
        assert w3.eth.get_balance(payee) == 4242
        height = w3.eth.block_number
        assert height >= 2                           # the payment and the check's own transaction

        assert cli("reset", LAB, "--yes").code == 0
        w3 = ethereum.client(sessions.find(LAB).endpoint("ethereum"))
        assert w3.eth.block_number == 0
        assert w3.eth.get_balance(payee) == 0
        assert w3.eth.get_balance(accounts[4].address) == 10_000 * 10**18
        with pytest.raises(Exception):
            w3.eth.get_transaction_receipt(tx)
    finally:
        cli("down", LAB, "--wipe")


# ---- compose and the CI image ---------------------------------------------------------------

def test_compose_file_runs_what_the_docker_runtime_runs():
    declared = yaml.safe_load((REPO / "compose" / "ethereum.yml").read_text())["services"]["ethereum"]
    assert declared["image"] == ethereum.IMAGE
    assert declared["ports"] == ["127.0.0.1:8545:8545"]
    command = ethereum.SERVICE.docker_command(endpoint_of({"host": "127.0.0.1", "port": 8545,
                                                           "service": "ethereum"}))
    assert [" ".join(declared["command"][0].split())] == list(command)
    assert "--host 0.0.0.0" in command[0] and command[0].startswith("mkdir -p /tmp/labrunner-chain && exec anvil")


@pytest.mark.docker
def test_ci_image_serves_web3_and_keeps_its_chain_across_docker_stop(docker_runtime, monkeypatch):
    """The image images/build.sh builds, started by testcontainers (not labrunner) with the
    service's own command; `docker stop` then `start` keeps the chain."""
    from testcontainers.core.config import ConnectionMode, testcontainers_config
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    image = os.environ.get("LABRUNNER_IMAGE_ETHEREUM")
    if not image:
        pytest.skip("LABRUNNER_IMAGE_ETHEREUM is not set (source images/overrides.env)")
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", True)
    monkeypatch.setenv("DOCKER_HOST", docker_runtime.host.url)
    monkeypatch.setattr(testcontainers_config, "connection_mode_override", ConnectionMode.docker_host)
    monkeypatch.setattr(testcontainers_config, "tc_host_override", "127.0.0.1")
    engine = docker_runtime.client.images.get(image).labels.get("org.labrunner.engine", "")
    command = ethereum.SERVICE.docker_command(endpoint_of({"host": "127.0.0.1", "port": 8545, "service": "x"}))
    container = DockerContainer(image).with_command(list(command)).waiting_for(
        LogMessageWaitStrategy("Listening on").with_startup_timeout(60))
    container.ports["8545"] = ("127.0.0.1", None)
    with container as node:
        from web3 import Web3

        def connect():
            return Web3(Web3.HTTPProvider(f"http://127.0.0.1:{node.get_exposed_port(8545)}"))

        w3 = connect()
        assert w3.eth.chain_id == ethereum.CHAIN_ID
        version = w3.client_version                      # anvil/v1.7.1
        assert engine.startswith("anvil ") and f"v{engine.split()[1]}" in version
        accounts = ethereum.dev_accounts()
        tx = w3.eth.send_transaction({"from": accounts[0].address, "to": accounts[1].address, "value": 99})
        w3.eth.wait_for_transaction_receipt(tx)
        wrapped = node.get_wrapped_container()
        wrapped.stop(timeout=10)
        assert wrapped.wait(timeout=15)["StatusCode"] == 0       # anvil, PID 1, ended on SIGTERM by itself
        wrapped.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                wrapped.reload()
                w3 = connect()
                if w3.eth.chain_id == ethereum.CHAIN_ID:
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert w3.eth.get_transaction_receipt(tx)["status"] == 1
        assert w3.eth.get_balance(accounts[1].address) == 10_000 * 10**18 + 99


def test_a_fetch_error_is_said_as_anvil_not_in_the_cache(no_network):
    with pytest.raises(ServiceError) as raised:
        anvil_engine.binary()
    assert raised.value.message.startswith("anvil 1.7.1 is not in the engine cache and could not be fetched")


@pytest.mark.skipif(shutil.which("npm") is None, reason="compiling needs npm (the solc package)")
def test_the_shipped_bytecode_is_what_the_shipped_source_compiles_to(tmp_path):
    """scripts/compile-contracts.sh, run on a copy of the lab's Solidity source, writes exactly the
    AssetRegistry.json the lab ships: the bytecode learners deploy comes from the source beside it."""
    shipped = REPO / "labs" / LAB / "workspace" / "contracts"
    copy = tmp_path / "labs" / LAB / "workspace" / "contracts"
    copy.mkdir(parents=True)
    shutil.copy(shipped / "AssetRegistry.sol", copy)
    done = subprocess.run(["bash", str(REPO / "scripts" / "compile-contracts.sh")], capture_output=True, text=True,
                          env=dict(os.environ, LABS_DIR=str(tmp_path / "labs")), timeout=300)
    assert done.returncode == 0, done.stderr
    assert (copy / "AssetRegistry.json").read_text() == (shipped / "AssetRegistry.json").read_text()
