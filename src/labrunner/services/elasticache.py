"""Amazon ElastiCache: Valkey without persistence — a cache, which loses its data with its node."""

from labrunner.services import valkey_family

IMAGE = valkey_family.IMAGE

SERVICE = valkey_family.make_service(
    name="elasticache", aws_name="Amazon ElastiCache",
    docker_standin="Valkey 8.1 without persistence (the official valkey image)",
    settings=valkey_family.NO_PERSISTENCE,
)
