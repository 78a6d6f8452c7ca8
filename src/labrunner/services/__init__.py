"""The services registry: one module per stand-in, each exporting SERVICE."""

from __future__ import annotations

import importlib

from labrunner.errors import UsageError
from labrunner.services.base import Endpoint, Service

# name -> module; add a stand-in by adding its module here (and compose/<name>.yml, tests).
MODULES = {
    "dynamodb": "labrunner.services.dynamodb",
    "postgres": "labrunner.services.postgres",
    "mysql": "labrunner.services.mysql",
    "mariadb": "labrunner.services.mariadb",
    "oracle": "labrunner.services.oracle",
    "sqlserver": "labrunner.services.sqlserver",
    "elasticache": "labrunner.services.elasticache",
    "memorydb": "labrunner.services.memorydb",
    "documentdb": "labrunner.services.documentdb",
    "neptune-gremlin": "labrunner.services.neptune_gremlin",
    "neptune-sparql": "labrunner.services.neptune_sparql",
    "ethereum": "labrunner.services.ethereum",
    "aurora-postgresql": "labrunner.services.aurora_postgresql",
    "aurora-mysql": "labrunner.services.aurora_mysql",
    "elasticache-cluster": "labrunner.services.elasticache_cluster",
    "rds-postgres-multiaz": "labrunner.services.rds_postgres_multiaz",
    "aws-backup": "labrunner.services.aws_backup",
}


def names() -> list[str]:
    return sorted(MODULES)


def get(name: str) -> Service:
    if name not in MODULES:
        raise UsageError(f"no service named '{name}'", f"known services: {', '.join(names())}")
    return importlib.import_module(MODULES[name]).SERVICE


__all__ = ["Endpoint", "Service", "get", "names"]
