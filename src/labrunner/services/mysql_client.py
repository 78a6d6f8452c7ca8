"""The client learner code gets from a MySQL or MariaDB service (Service.learner_client)."""

from __future__ import annotations

from labrunner.services.base import Endpoint
from labrunner.services.mysql_family import connect


def learner_client(endpoint: Endpoint):
    """A PyMySQL connection to the session's database, not autocommit (PyMySQL's own default:
    a function must commit its work, as it would in an application)."""
    return connect(endpoint, autocommit=False)
