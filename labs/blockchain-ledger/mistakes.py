"""Typical wrong answers for blockchain-ledger, each proven caught by `labrunner test`: the
reference ledger.py of the step with one change."""

BALANCES, PAYMENT, LINKS, HASHES = ("ledger-1-balances.py", "ledger-2-payment.py", "ledger-3-links.py",
                                    "ledger-4-hashes.py")
DEPLOY, EVENTS, REVERT = "ledger-5-deploy.py", "ledger-6-events.py", "ledger-7-revert.py"


def balances_in_ether(workspace):
    """Converts to ether for display: the step asks for wei."""
    workspace.install_variant("ledger.py", BALANCES, {
        "{address: w3.eth.get_balance(address) for": "{address: float(w3.from_wei(w3.eth.get_balance(address), 'ether')) for"})


def balances_as_text(workspace):
    """str() around each balance, as for printing: the step asks for the number."""
    workspace.install_variant("ledger.py", BALANCES, {
        "{address: w3.eth.get_balance(address) for": "{address: str(w3.eth.get_balance(address)) for"})


def payment_from_the_nodes_account(workspace):
    """Lets the node sign, from its first account, instead of signing with the key it was given."""
    workspace.install_variant("ledger.py", PAYMENT, {
        "    receipt = _sign_and_send(w3, account, transaction)\n    return {\"hash\"":
        "    tx_hash = w3.eth.send_transaction({\"from\": w3.eth.accounts[0], \"to\": transaction[\"to\"],\n"
        "                                       \"value\": amount_wei})\n"
        "    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)\n"
        "    return {\"hash\""})


def hash_without_0x(workspace):
    """bytes.hex() for the hash: web3.py 7's HexBytes.hex() has no 0x prefix."""
    workspace.install_variant("ledger.py", PAYMENT, {'receipt["transactionHash"].to_0x_hex()': 'receipt["transactionHash"].hex()'})


def nonce_written_as_zero(workspace):
    """Nonce 0, as in the first transaction an account sends: an account that has paid before refuses it."""
    workspace.install_variant("ledger.py", PAYMENT, {
        '"nonce": w3.eth.get_transaction_count(account.address),\n        "gas": 21_000,':
        '"nonce": 0,\n        "gas": 21_000,'})


def block_from_the_chain_not_the_receipt(workspace):
    """Reports a block number worked out from the chain's height, not the receipt's blockNumber."""
    workspace.install_variant("ledger.py", PAYMENT, {
        '"block": receipt["blockNumber"]': '"block": w3.eth.block_number - 1'})


def chain_check_compares_block_numbers(workspace):
    """Checks that the numbers count up, and nothing else."""
    workspace.install_variant("ledger.py", LINKS, {
        'if index > 0 and block["parentHash"] != blocks[index - 1]["hash"]:':
        'if index > 0 and block["number"] != blocks[index - 1]["number"] + 1:'})


def chain_check_trusts_the_hash_field(workspace):
    """Step 3's verifier: it follows the links, but never recomputes a hash."""
    workspace.install_variant("ledger.py", HASHES, {
        '        if block_hash(block) != block["hash"]:\n            return {"valid": False, "broken_at": block["number"]}\n': ""})


def chain_check_skips_block_zero(workspace):
    """Starts the walk at block 1 (block 0 has no parent), and so never hashes block 0."""
    workspace.install_variant("ledger.py", HASHES, {
        "        if block_hash(block) != block[\"hash\"]:": "        if index > 0 and block_hash(block) != block[\"hash\"]:"})


def deploys_from_the_nodes_account(workspace):
    """Deploys from the node's first account instead of the key it was given."""
    workspace.install_variant("ledger.py", DEPLOY, {
        '''    transaction = registry.constructor().build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})
    receipt = _sign_and_send(w3, account, transaction)
    return receipt["contractAddress"]''':
        '''    tx_hash = registry.constructor().transact({"from": w3.eth.accounts[0]})
    return w3.eth.wait_for_transaction_receipt(tx_hash)["contractAddress"]'''})


def deploys_the_runtime_code(workspace):
    """Sends deployedBytecode as the creation code: what lands is not the contract."""
    workspace.install_variant("ledger.py", DEPLOY, {
        'registry = w3.eth.contract(abi=REGISTRY["abi"], bytecode=REGISTRY["bytecode"])':
        'registry = w3.eth.contract(abi=REGISTRY["abi"], bytecode=REGISTRY["deployedBytecode"])'})


def history_of_every_asset(workspace):
    """Reads every Transferred event of the registry, not only this asset's."""
    workspace.install_variant("ledger.py", EVENTS, {
        "events += registry.events.Transferred.get_logs(from_block=0, argument_filters=wanted)":
        "events += registry.events.Transferred.get_logs(from_block=0)"})


def history_from_the_latest_block(workspace):
    """get_logs without from_block: only the latest block's events come back."""
    workspace.install_variant("ledger.py", EVENTS, {
        "get_logs(from_block=0, argument_filters=wanted))": "get_logs(argument_filters=wanted))",
        "get_logs(from_block=0, argument_filters=wanted)\n": "get_logs(argument_filters=wanted)\n"})


def transfer_ignores_the_revert(workspace):
    """Sets the gas itself (so web3.py does not run the call first) and never reads the status."""
    workspace.install_variant("ledger.py", REVERT, {
        '{"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})\n'
        '    except ContractLogicError':
        '{"from": account.address, "nonce": w3.eth.get_transaction_count(account.address), "gas": 200_000})\n'
        '    except ContractLogicError',
        '    if receipt["status"] != 1:\n        return {"ok": False, "reason": "the transaction reverted"}\n': ""})


def transfer_from_the_nodes_account(workspace):
    """Sends the transfer from the node's first account, whatever key it was given."""
    workspace.install_variant("ledger.py", REVERT, {
        '''        transaction = registry.functions.transfer(asset_id, Web3.to_checksum_address(to)).build_transaction(
            {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})''':
        '''        tx_hash = registry.functions.transfer(asset_id, Web3.to_checksum_address(to)).transact(
            {"from": w3.eth.accounts[0]})
        return {"ok": True, "tx": tx_hash.to_0x_hex()}'''})


def transfer_without_its_hash(workspace):
    """Reports success with the registry's address where the transaction's hash belongs."""
    workspace.install_variant("ledger.py", REVERT, {'return {"ok": True, "tx": receipt["transactionHash"].to_0x_hex()}':
                                                    'return {"ok": True, "tx": registry_address}'})
