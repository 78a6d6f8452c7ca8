"""Step 5: an aggregation pipeline over products and their reviews."""


def category_report(db):
    """One row per category, counting only products in stock (stock > 0):
    {"category": ..., "products": <how many>, "avg_price": <their average price>,
     "avg_stars": <the average stars of all their reviews, or None when they have none>},
    most products first, then by category name."""
    raise NotImplementedError
