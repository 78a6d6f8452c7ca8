"""Steps 6 and 7: from the v1 product shape to v2.

v1: {"sku": ..., "price": 19.9, "currency": "EUR", ...}
v2: {"sku": ..., "price": {"amount": 19.9, "currency": "EUR"}, "schema_version": 2, ...}
Every other field stays as it is.
"""


def upgrade(doc):
    """A v1 document in the v2 shape (a v2 document unchanged)."""
    raise NotImplementedError


def get_product(db, sku):
    """Step 6, lazy migration on read: the product in the v2 shape (None when there is none);
    a v1 document is upgraded and written back as it is read."""
    raise NotImplementedError


def migrate_all(db):
    """Step 7, bulk migration: every v1 product upgraded to v2; returns how many were changed."""
    raise NotImplementedError
