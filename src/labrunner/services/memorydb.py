"""Amazon MemoryDB: Valkey with an append-only file fsynced before every reply — the local
stand-in for MemoryDB's multi-AZ transaction log: no acknowledged write is lost with a node."""

from labrunner.services import valkey_family

IMAGE = valkey_family.IMAGE

SERVICE = valkey_family.make_service(
    name="memorydb", aws_name="Amazon MemoryDB",
    docker_standin="Valkey 8.1 with appendonly yes, appendfsync always (the official valkey image)",
    settings=valkey_family.FSYNC_ALWAYS,
)
