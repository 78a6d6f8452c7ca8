"""What a block's hash is made of: its header, encoded and hashed (given; read it, no need to change it).

A block's hash is not a number the node hands out: it is keccak-256 of the block's header,
encoded with RLP (Ethereum's plain encoding of lists and byte strings). The header holds the
parent's hash, the roots that commit to the block's transactions, receipts and state, the
block number, gas, time stamp and a few more fields. Change any of them and the hash changes.

    block_hash(block) -> "0x…"   for a block as JSON-RPC returns it (eth_getBlockByNumber),
                                 or as web3.py does (HexBytes and ints): both work.
"""

from eth_utils import keccak

# The header's fields in the order Ethereum hashes them. The last ones were added by later
# forks (London, Shanghai, Cancun, Prague); a block has them from its fork on.
HEADER_FIELDS = [
    "parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot", "receiptsRoot", "logsBloom",
    "difficulty", "number", "gasLimit", "gasUsed", "timestamp", "extraData", "mixHash", "nonce",
    "baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot",
    "requestsHash",
]
NUMBERS = {"difficulty", "number", "gasLimit", "gasUsed", "timestamp", "baseFeePerGas", "blobGasUsed",
           "excessBlobGas"}
OPTIONAL = HEADER_FIELDS[HEADER_FIELDS.index("baseFeePerGas"):]


def block_hash(block: dict) -> str:
    """The hash of a block, recomputed from its header fields."""
    items = []
    for name in HEADER_FIELDS:
        if name not in block or block[name] is None:
            if name in OPTIONAL:
                break                     # a block from before that fork: the list ends here
            raise KeyError(f"the block has no '{name}' field")
        value = block[name]
        items.append(_number(value) if name in NUMBERS else _bytes(value))
    return "0x" + keccak(_rlp(items)).hex()


def _bytes(value) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        text = value[2:] if value.startswith("0x") else value
        return bytes.fromhex(text)
    raise TypeError(f"expected bytes or a 0x… string, got {value!r}")


def _number(value) -> bytes:
    if isinstance(value, str):
        value = int(value, 16)
    value = int(value)
    return value.to_bytes((value.bit_length() + 7) // 8, "big")      # 0 is the empty string


def _rlp(item) -> bytes:
    """RLP: a byte string, or a list of items, each prefixed with its length."""
    if isinstance(item, list):
        body = b"".join(_rlp(part) for part in item)
        return _length(len(body), 0xC0) + body
    if len(item) == 1 and item[0] < 0x80:
        return item
    return _length(len(item), 0x80) + item


def _length(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(size)]) + size
