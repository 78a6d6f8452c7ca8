"""Steps 6 and 7: from the v1 product shape to v2.

v1: {"sku": ..., "price": 19.9, "currency": "EUR", ...}
v2: {"sku": ..., "price": {"amount": 19.9, "currency": "EUR"}, "schema_version": 2, ...}
Every other field stays as it is.
"""


def upgrade(doc):
    """A v1 document in the v2 shape (a v2 document unchanged)."""
    if doc.get("schema_version") == 2:
        return doc
    new = dict(doc)
    new["price"] = {"amount": new.get("price"), "currency": new.pop("currency", "EUR")}
    new["schema_version"] = 2
    return new


def get_product(db, sku):
    """Step 6, lazy migration on read: the product in the v2 shape (None when there is none);
    a v1 document is upgraded and written back as it is read."""
    doc = db.products.find_one({"sku": sku})
    if doc is None or doc.get("schema_version") == 2:
        return doc
    new = upgrade(doc)
    # only if nobody migrated it meanwhile: the filter names the version read
    db.products.replace_one({"_id": doc["_id"], "schema_version": {"$exists": False}}, new)
    return new


def migrate_all(db):
    """Step 7, bulk migration: every v1 product upgraded to v2; returns how many were changed."""
    from pymongo import ReplaceOne

    changed = 0
    batch = []
    for doc in db.products.find({"schema_version": {"$ne": 2}}):
        batch.append(ReplaceOne({"_id": doc["_id"], "schema_version": {"$ne": 2}}, upgrade(doc)))
        if len(batch) == 500:              # one round trip per 500 documents
            changed += db.products.bulk_write(batch, ordered=False).modified_count
            batch = []
    if batch:
        changed += db.products.bulk_write(batch, ordered=False).modified_count
    return changed
