"""Amazon ElastiCache: Valkey without persistence — a cache, which loses its data with its node."""

import dataclasses

from labrunner.services import valkey_family

IMAGE = valkey_family.IMAGE

SERVICE = dataclasses.replace(
    valkey_family.make_service(
        name="elasticache", aws_name="Amazon ElastiCache",
        docker_standin="Valkey 8.1 without persistence (the official valkey image)",
        settings=valkey_family.NO_PERSISTENCE,
    ),
    keeps_data=False,          # a cache: empty after a restart, and `run` says so
)
