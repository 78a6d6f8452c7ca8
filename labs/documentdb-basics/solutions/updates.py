"""Step 3: updates. Change documents in place with update operators: no read-then-write."""


def restock(db, sku, quantity):
    """Add `quantity` to the product's stock."""
    db.products.update_one({"sku": sku}, {"$inc": {"stock": quantity}})


def retag(db, sku, add, remove):
    """Give the product the tag `add` (once: never twice) and take away the tag `remove`."""
    db.products.update_one({"sku": sku}, {"$addToSet": {"tags": add}})
    db.products.update_one({"sku": sku}, {"$pull": {"tags": remove}})


def set_price(db, sku, name, price):
    """Set the product's name and price; a sku the catalogue does not have yet becomes a new product
    with that name and price, category "new" and stock 0 (an upsert)."""
    db.products.update_one(
        {"sku": sku},
        {"$set": {"name": name, "price": price}, "$setOnInsert": {"category": "new", "stock": 0}},
        upsert=True,
    )
