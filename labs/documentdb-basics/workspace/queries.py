"""Step 2: queries. `db` is a pymongo Database (the catalog database); return plain lists."""


def affordable_in_stock(db, category, max_price):
    """Products of `category` priced strictly below `max_price` with at least one in stock,
    cheapest first, each as {"sku": ..., "name": ..., "price": ...} (no _id, nothing else)."""
    raise NotImplementedError


def tagged_or_by_brand(db, tags, brand):
    """The skus, sorted A to Z, of products that carry every tag in `tags`, or that `brand` makes."""
    raise NotImplementedError
