"""Amazon Managed Blockchain (Ethereum): a local Ethereum development node, Foundry's anvil.

One node on 127.0.0.1 with a fixed chain id and ten funded development accounts from a
fixed mnemonic (the same addresses and keys on every machine). The chain is kept in a state
file (`--state`): anvil writes it on exit (SIGTERM: `labrunner down`, `docker stop`) and every
second meanwhile, and loads it on start, so `down` then `run` brings the learner's chain back.
`reset` starts a fresh chain (anvil_reset), whose next write replaces the file.

Fixtures: `web3` (a web3.py Web3 on the node's JSON-RPC) and `accounts` (the funded
development accounts, each with its address and private key).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from labrunner.services import anvil_engine
from labrunner.services.base import Endpoint, Service

IMAGE = f"ghcr.io/foundry-rs/foundry:v{anvil_engine.VERSION}"
CHAIN_ID = 31337
# Anvil's own default mnemonic, written out: every machine gets the same ten accounts.
MNEMONIC = "test test test test test test test test test test test junk"
ACCOUNTS = 10
BALANCE_ETHER = 10_000
STATE_FILE = "chain.json"
STATE_INTERVAL = 1                  # seconds between state writes (besides the one on exit)
CONTAINER_STATE = "/tmp/labrunner-chain/" + STATE_FILE   # writable by the image's non-root user


@dataclass(frozen=True)
class DevAccount:
    """A funded development account: its address (checksummed) and private key (0x hex)."""

    address: str
    private_key: str


def node_args(host: str, port: int, state_file: str) -> list[str]:
    """anvil's arguments, the same on both runtimes."""
    return ["--host", host, "--port", str(port), "--chain-id", str(CHAIN_ID), "--mnemonic", MNEMONIC,
            "--accounts", str(ACCOUNTS), "--balance", str(BALANCE_ETHER),
            "--state", state_file, "--state-interval", str(STATE_INTERVAL)]


def rpc(endpoint: Endpoint, method: str, params: list | None = None, timeout: float = 5):
    """One JSON-RPC call without web3 (the probe and reset stay light); the result, or RuntimeError."""
    import urllib.request

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(endpoint.url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.loads(response.read())
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error'].get('message', reply['error'])}")
    return reply.get("result")


def probe(endpoint: Endpoint) -> None:
    """Ready when eth_chainId answers with our chain id (another node on the port would not)."""
    found = int(rpc(endpoint, "eth_chainId", timeout=2), 16)
    if found != CHAIN_ID:
        raise RuntimeError(f"the node at {endpoint.host}:{endpoint.port} has chain id {found}, not {CHAIN_ID}")


def reset(endpoint: Endpoint) -> None:
    """A fresh chain: block 0, every development account back to its starting balance."""
    rpc(endpoint, "anvil_reset", [], timeout=30)


def exports(endpoint: Endpoint) -> dict[str, str]:
    # ETH_RPC_URL: Foundry's cast reads it; WEB3_PROVIDER_URI: web3.py's automatic provider
    return {"ETH_RPC_URL": endpoint.url, "WEB3_PROVIDER_URI": endpoint.url, "ETH_CHAIN_ID": str(CHAIN_ID)}


def client(endpoint: Endpoint, timeout: float = 15):
    """web3.py on the node's JSON-RPC."""
    from web3 import Web3

    return Web3(Web3.HTTPProvider(endpoint.url, request_kwargs={"timeout": timeout}))


def learner_client(endpoint: Endpoint):
    """What learner code run by a check gets first: the same Web3, a shorter timeout."""
    return client(endpoint, timeout=10)


@functools.lru_cache(maxsize=1)
def dev_accounts() -> tuple[DevAccount, ...]:
    """The ten development accounts, derived from MNEMONIC as anvil derives them (m/44'/60'/0'/0/i)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    found = []
    for index in range(ACCOUNTS):
        account = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
        found.append(DevAccount(account.address, "0x" + bytes(account.key).hex()))
    return tuple(found)


def accounts(endpoint: Endpoint) -> list[DevAccount]:
    """The node's funded development accounts, with their keys (checked against the node's own list)."""
    ours = list(dev_accounts())
    listed = [address.lower() for address in rpc(endpoint, "eth_accounts")]
    if listed[:len(ours)] != [account.address.lower() for account in ours]:
        raise RuntimeError("the node's development accounts are not the ones labrunner set up")
    return ours


def prompt(endpoint: Endpoint, label: str) -> int:
    """`labrunner shell ethereum`: a Python prompt with `w3` and `accounts` bound."""
    import code

    w3 = client(endpoint)
    banner = (f"Python prompt on {label}: `w3` is web3.py on the node (chain id {CHAIN_ID}), "
              f"`accounts` its {ACCOUNTS} funded development accounts (.address, .private_key). "
              "Try w3.eth.block_number. Ctrl-D leaves.")
    code.interact(banner=banner, local={"w3": w3, "accounts": list(dev_accounts())}, exitmsg="")
    return 0


class AnvilNode:
    """anvil as a local process: on PATH, else anvil 1.7.1 from the engine cache (anvil_engine)."""

    refuses_root = False

    @property
    def standin(self) -> str:
        return f"Foundry's anvil, a local Ethereum development node ({anvil_engine.describe()})"

    def find(self) -> str:
        return anvil_engine.find()

    def version(self) -> str:
        return anvil_engine.version()

    def prepare(self, endpoint: Endpoint, data_dir: str, run) -> None:
        anvil_engine.binary()            # fetched now (once), so a start never waits on the network

    def argv(self, port: int, data_dir: str) -> list[str]:
        import os

        return [anvil_engine.binary(), *node_args("127.0.0.1", port, os.path.join(data_dir, STATE_FILE))]


def docker_command(endpoint: Endpoint) -> tuple[str, ...]:
    # The Foundry image's entrypoint is `/bin/sh -c`: one string, exec'd so anvil is PID 1 and
    # gets `docker stop`'s SIGTERM itself (and writes its state).
    args = node_args("0.0.0.0", 8545, CONTAINER_STATE)
    quoted = " ".join(f"'{a}'" if " " in a else a for a in args)
    return (f"mkdir -p /tmp/labrunner-chain && exec anvil {quoted}",)


SERVICE = Service(
    name="ethereum",
    aws_name="Amazon Managed Blockchain (Ethereum)",
    image=IMAGE,
    docker_standin="Foundry's anvil, a local Ethereum development node (the official Foundry image)",
    container_port=8545,
    docker_command=docker_command,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"web3": client, "accounts": accounts},
    shared_fixtures=("web3", "accounts"),
    local=AnvilNode(),
    start_timeout=60.0,
    keeps_data=True,
    learner_client="labrunner.services.ethereum:learner_client",
    prompt="labrunner.services.ethereum:prompt",
    doctor_notes="labrunner.services.anvil_engine:doctor_notes",
)
