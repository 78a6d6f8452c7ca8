"""Correct answers the reference solutions do not take, at least one per step: raw JSON-RPC
instead of web3.py's helpers, an EIP-1559 fee instead of a gas price, a chain walked back from
its head, a deployment built by hand, events decoded from raw logs, a revert found from the
receipt. `labrunner test` applies each from the step's start and requires every check to pass."""

BALANCES, PAYMENT, LINKS, HASHES = ("ledger-1-balances.py", "ledger-2-payment.py", "ledger-3-links.py",
                                    "ledger-4-hashes.py")
DEPLOY, EVENTS, REVERT = "ledger-5-deploy.py", "ledger-6-events.py", "ledger-7-revert.py"


def balances_over_raw_json_rpc(workspace):
    """eth_accounts and eth_getBalance as JSON-RPC requests: lower-case addresses, hex numbers."""
    workspace.install_variant("ledger.py", BALANCES, {
        "    return {address: w3.eth.get_balance(address) for address in w3.eth.accounts}":
        '''    listed = w3.provider.make_request("eth_accounts", [])["result"]
    return {address: int(w3.provider.make_request("eth_getBalance", [address, "latest"])["result"], 16)
            for address in listed}'''})


def payment_with_eip1559_fees(workspace):
    """A type-2 transaction (maxFeePerGas), signed by eth_account's Account directly; numbers as hex."""
    workspace.install_variant("ledger.py", PAYMENT, {
        '''        "gasPrice": w3.eth.gas_price,''':
        '''        "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + 10**9,
        "maxPriorityFeePerGas": 10**9,''',
        '''    return {"hash": receipt["transactionHash"].to_0x_hex(), "block": receipt["blockNumber"],
            "gas_used": receipt["gasUsed"], "status": receipt["status"]}''':
        '''    return {"hash": receipt["transactionHash"].to_0x_hex(), "block": hex(receipt["blockNumber"]),
            "gas_used": hex(receipt["gasUsed"]), "status": receipt["status"]}'''})


def chain_walked_back_from_the_head(workspace):
    """Raw JSON-RPC blocks (hex numbers), verified from the newest block back to block 0."""
    workspace.install_variant("ledger.py", LINKS, {
        '''    return [json.loads(Web3.to_json(w3.eth.get_block(number)))
            for number in range(w3.eth.block_number + 1)]''':
        '''    head = w3.provider.make_request("eth_getBlockByNumber", ["latest", False])["result"]
    chain = [head]
    while int(chain[-1]["number"], 16) > 0:
        chain.append(w3.provider.make_request("eth_getBlockByHash", [chain[-1]["parentHash"], False])["result"])
    return chain[::-1]''',
        '''    for index, block in enumerate(blocks):
        if index > 0 and block["parentHash"] != blocks[index - 1]["hash"]:
            return {"valid": False, "broken_at": block["number"]}
    return {"valid": True, "broken_at": None}''':
        '''    by_number = sorted(blocks, key=lambda b: int(str(b["number"]), 0))
    for child, parent in reversed(list(zip(by_number[1:], by_number))):
        if child["parentHash"].lower() != parent["hash"].lower():
            return {"valid": False, "broken_at": int(str(child["number"]), 0)}
    return {"valid": True, "broken_at": None}'''})


def hashes_checked_in_a_second_pass(workspace):
    """All the links first, then every hash: the first broken block of either kind wins."""
    workspace.install_variant("ledger.py", HASHES, {
        '''    for index, block in enumerate(blocks):
        if block_hash(block) != block["hash"]:
            return {"valid": False, "broken_at": block["number"]}
        if index > 0 and block["parentHash"] != blocks[index - 1]["hash"]:
            return {"valid": False, "broken_at": block["number"]}
    return {"valid": True, "broken_at": None}''':
        '''    wrong_hash = [b["number"] for b in blocks if block_hash(b) != b["hash"]]
    wrong_link = [b["number"] for a, b in zip(blocks, blocks[1:]) if b["parentHash"] != a["hash"]]
    broken = sorted(wrong_hash + wrong_link)
    return {"valid": not broken, "broken_at": broken[0] if broken else None}'''})


def deployment_built_by_hand(workspace):
    """The creation transaction written out: no 'to', the bytecode as data, gas estimated."""
    workspace.install_variant("ledger.py", DEPLOY, {
        '''    registry = w3.eth.contract(abi=REGISTRY["abi"], bytecode=REGISTRY["bytecode"])
    transaction = registry.constructor().build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})''':
        '''    transaction = {"from": account.address, "data": REGISTRY["bytecode"], "chainId": w3.eth.chain_id,
                   "nonce": w3.eth.get_transaction_count(account.address), "gasPrice": w3.eth.gas_price}
    transaction["gas"] = w3.eth.estimate_gas(transaction)'''})


def history_from_raw_logs(workspace):
    """eth_getLogs on the asset's topic, each log decoded by the event it is."""
    workspace.install_variant("ledger.py", EVENTS, {
        '''    wanted = {"assetId": asset_id}
    events = list(registry.events.Registered.get_logs(from_block=0, argument_filters=wanted))
    events += registry.events.Transferred.get_logs(from_block=0, argument_filters=wanted)
    events.sort(key=lambda event: (event["blockNumber"], event["logIndex"]))''':
        '''    topic = "0x" + asset_id.to_bytes(32, "big").hex()
    logs = w3.eth.get_logs({"address": registry.address, "fromBlock": 0, "topics": [None, topic]})
    kinds = {"0x" + w3.keccak(text="Registered(uint256,address,string)").hex().removeprefix("0x"):
             registry.events.Registered(),
             "0x" + w3.keccak(text="Transferred(uint256,address,address)").hex().removeprefix("0x"):
             registry.events.Transferred()}
    events = [kinds[log["topics"][0].to_0x_hex()].process_log(log) for log in logs]'''})


def revert_found_from_the_receipt(workspace):
    """Sends with a gas limit of its own, sees status 0, then asks the node why with eth_call."""
    workspace.install_variant("ledger.py", REVERT, {
        '''    try:
        transaction = registry.functions.transfer(asset_id, Web3.to_checksum_address(to)).build_transaction(
            {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})
    except ContractLogicError as refused:          # the node ran it first: it would revert
        return {"ok": False, "reason": refused.message}
    receipt = _sign_and_send(w3, account, transaction)
    if receipt["status"] != 1:
        return {"ok": False, "reason": "the transaction reverted"}''':
        '''    call = registry.functions.transfer(asset_id, Web3.to_checksum_address(to))
    transaction = call.build_transaction({"from": account.address, "gas": 100_000,
                                          "nonce": w3.eth.get_transaction_count(account.address)})
    receipt = _sign_and_send(w3, account, transaction)
    if receipt["status"] == 0:                     # mined, reverted: ask why by running it again
        try:
            call.call({"from": account.address})
        except ContractLogicError as refused:
            return {"ok": False, "reason": refused.message}
        return {"ok": False, "reason": "reverted"}'''})
