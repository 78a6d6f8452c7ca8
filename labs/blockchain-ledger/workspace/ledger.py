"""Your ledger code for the blockchain-ledger lab: one function per step.

Each function gets `w3` first where it talks to the node: web3.py connected to the lab's
Ethereum node (what `labrunner check` hands it). Return plain values (str, int, list,
dict): a check reads them as JSON. Hashes and addresses as 0x… strings.
"""

import json
from pathlib import Path

from web3 import Web3
from web3.exceptions import ContractLogicError

from headers import block_hash

REGISTRY = json.loads((Path(__file__).parent / "contracts" / "AssetRegistry.json").read_text())


def _sign_and_send(w3, account, transaction):
    """Sign a transaction with the account's own key, here, then send the signed bytes: the
    node never sees the key. Waits until it is in a block and returns its receipt."""
    signed = account.sign_transaction(transaction)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)


# ---- Step 1: accounts and balances ------------------------------------------------------

def balances(w3):
    """Every account the node lists, with its balance in wei: {address: wei}."""
    raise NotImplementedError("step 1: write balances")


# ---- Step 2: a signed transaction and its receipt ---------------------------------------

def send_payment(w3, private_key, to, amount_wei):
    """Pay `amount_wei` to `to` from the account of `private_key`; return what the receipt says."""
    raise NotImplementedError("step 2: write send_payment")


# ---- Step 3: blocks and their hashes ----------------------------------------------------

def read_chain(w3):
    """Every block from the first (0) to the latest, as plain dicts."""
    raise NotImplementedError("step 3: write read_chain")


def verify_chain(blocks):
    """{"valid": True, "broken_at": None}, or the number of the first block that breaks the chain."""
    raise NotImplementedError("step 3: write verify_chain")


# ---- Step 5: deploy a contract ----------------------------------------------------------

def deploy_registry(w3, private_key):
    """Deploy AssetRegistry from the account of `private_key`; return the contract's address."""
    raise NotImplementedError("step 5: write deploy_registry")


# ---- Step 6: call the contract, read its events -----------------------------------------

def register_asset(w3, registry_address, private_key, asset_id, description):
    """Register an asset in the registry from the account of `private_key`; return the transaction's hash."""
    raise NotImplementedError("step 6: write register_asset")


def asset_history(w3, registry_address, asset_id):
    """The asset's owners, first to current, read from the registry's events."""
    raise NotImplementedError("step 6: write asset_history")


# ---- Step 7: a transaction that reverts -------------------------------------------------

def transfer_asset(w3, registry_address, private_key, asset_id, to):
    """Hand the asset to `to`: {"ok": True, "tx": hash}, or {"ok": False, "reason": why the contract refused}."""
    raise NotImplementedError("step 7: write transfer_asset")