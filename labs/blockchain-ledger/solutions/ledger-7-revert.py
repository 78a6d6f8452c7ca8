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
    return {address: w3.eth.get_balance(address) for address in w3.eth.accounts}


# ---- Step 2: a signed transaction and its receipt ---------------------------------------

def send_payment(w3, private_key, to, amount_wei):
    """Pay `amount_wei` to `to` from the account of `private_key`; return what the receipt says."""
    account = w3.eth.account.from_key(private_key)
    transaction = {
        "to": Web3.to_checksum_address(to),
        "value": amount_wei,
        "nonce": w3.eth.get_transaction_count(account.address),
        "gas": 21_000,
        "gasPrice": w3.eth.gas_price,
        "chainId": w3.eth.chain_id,
    }
    receipt = _sign_and_send(w3, account, transaction)
    return {"hash": receipt["transactionHash"].to_0x_hex(), "block": receipt["blockNumber"],
            "gas_used": receipt["gasUsed"], "status": receipt["status"]}


# ---- Step 3: blocks and their hashes ----------------------------------------------------

def read_chain(w3):
    """Every block from the first (0) to the latest, as plain dicts."""
    return [json.loads(Web3.to_json(w3.eth.get_block(number)))
            for number in range(w3.eth.block_number + 1)]


def verify_chain(blocks):
    """{"valid": True, "broken_at": None}, or the number of the first block that breaks the chain."""
    for index, block in enumerate(blocks):
        if block_hash(block) != block["hash"]:
            return {"valid": False, "broken_at": block["number"]}
        if index > 0 and block["parentHash"] != blocks[index - 1]["hash"]:
            return {"valid": False, "broken_at": block["number"]}
    return {"valid": True, "broken_at": None}


# ---- Step 5: deploy a contract ----------------------------------------------------------

def deploy_registry(w3, private_key):
    """Deploy AssetRegistry from the account of `private_key`; return the contract's address."""
    account = w3.eth.account.from_key(private_key)
    registry = w3.eth.contract(abi=REGISTRY["abi"], bytecode=REGISTRY["bytecode"])
    transaction = registry.constructor().build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})
    receipt = _sign_and_send(w3, account, transaction)
    return receipt["contractAddress"]


# ---- Step 6: call the contract, read its events -----------------------------------------

def register_asset(w3, registry_address, private_key, asset_id, description):
    """Register an asset in the registry from the account of `private_key`; return the transaction's hash."""
    account = w3.eth.account.from_key(private_key)
    registry = w3.eth.contract(address=registry_address, abi=REGISTRY["abi"])
    transaction = registry.functions.register(asset_id, description).build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})
    receipt = _sign_and_send(w3, account, transaction)
    return receipt["transactionHash"].to_0x_hex()


def asset_history(w3, registry_address, asset_id):
    """The asset's owners, first to current, read from the registry's events."""
    registry = w3.eth.contract(address=registry_address, abi=REGISTRY["abi"])
    wanted = {"assetId": asset_id}
    events = list(registry.events.Registered.get_logs(from_block=0, argument_filters=wanted))
    events += registry.events.Transferred.get_logs(from_block=0, argument_filters=wanted)
    events.sort(key=lambda event: (event["blockNumber"], event["logIndex"]))
    return [event["args"]["owner"] if event["event"] == "Registered" else event["args"]["to"]
            for event in events]


# ---- Step 7: a transaction that reverts -------------------------------------------------

def transfer_asset(w3, registry_address, private_key, asset_id, to):
    """Hand the asset to `to`: {"ok": True, "tx": hash}, or {"ok": False, "reason": why the contract refused}."""
    account = w3.eth.account.from_key(private_key)
    registry = w3.eth.contract(address=registry_address, abi=REGISTRY["abi"])
    try:
        transaction = registry.functions.transfer(asset_id, Web3.to_checksum_address(to)).build_transaction(
            {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})
    except ContractLogicError as refused:          # the node ran it first: it would revert
        return {"ok": False, "reason": refused.message}
    receipt = _sign_and_send(w3, account, transaction)
    if receipt["status"] != 1:
        return {"ok": False, "reason": "the transaction reverted"}
    return {"ok": True, "tx": receipt["transactionHash"].to_0x_hex()}
