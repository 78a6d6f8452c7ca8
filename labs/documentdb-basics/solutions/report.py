"""Step 5: an aggregation pipeline over products and their reviews."""


def category_report(db):
    """One row per category, counting only products in stock (stock > 0):
    {"category": ..., "products": <how many>, "avg_price": <their average price>,
     "avg_stars": <the average stars of all their reviews, or None when they have none>},
    most products first, then by category name."""
    pipeline = [
        {"$match": {"stock": {"$gt": 0}}},
        {"$lookup": {"from": "reviews", "localField": "sku", "foreignField": "sku", "as": "reviews"}},
        {"$group": {
            "_id": "$category",
            "products": {"$sum": 1},
            "avg_price": {"$avg": "$price"},
            # each product's stars: $map reads the field of every review in the array
            "stars": {"$sum": {"$sum": {"$map": {"input": "$reviews", "as": "r", "in": "$$r.stars"}}}},
            "reviews": {"$sum": {"$size": "$reviews"}},
        }},
        {"$project": {
            "_id": 0,
            "category": "$_id",
            "products": 1,
            "avg_price": 1,
            "avg_stars": {"$cond": [{"$gt": ["$reviews", 0]}, {"$divide": ["$stars", "$reviews"]}, None]},
        }},
        {"$sort": {"products": -1, "category": 1}},
    ]
    return list(db.products.aggregate(pipeline))
