"""Step 2: queries. `db` is a pymongo Database (the catalog database); return plain lists."""


def affordable_in_stock(db, category, max_price):
    """Products of `category` priced strictly below `max_price` with at least one in stock,
    cheapest first, each as {"sku": ..., "name": ..., "price": ...} (no _id, nothing else)."""
    query = {"category": category, "price": {"$lt": max_price}, "stock": {"$gt": 0}}
    projection = {"_id": 0, "sku": 1, "name": 1, "price": 1}
    return list(db.products.find(query, projection).sort([("price", 1), ("sku", 1)]))


def tagged_or_by_brand(db, tags, brand):
    """The skus, sorted A to Z, of products that carry every tag in `tags`, or that `brand` makes."""
    query = {"$or": [{"tags": {"$all": list(tags)}}, {"brand": brand}]}
    return [doc["sku"] for doc in db.products.find(query, {"_id": 0, "sku": 1}).sort("sku", 1)]
