"""Typical wrong answers for documentdb-basics, each proven caught by `labrunner test`.

Where the learner writes a file, a wrong answer is the reference version with one change; where
they act on the engine, a small function.
"""

import json

LANTERN = {"sku": "LANTERN-01", "name": "Trail lantern", "category": "outdoor", "brand": "Lysa", "price": 24.5,
           "currency": "EUR", "stock": 10}


def _load(mongo, lab_dir):
    for name in ("products", "reviews"):
        documents = json.loads((lab_dir / "workspace" / f"{name}.json").read_text(encoding="utf-8"))
        mongo[name].drop()
        mongo[name].insert_many(documents)


def tags_as_one_string(mongo, lab_dir):
    """The lantern's tags written as one comma-separated string, as a CSV would have them."""
    _load(mongo, lab_dir)
    mongo.products.insert_one(dict(LANTERN, tags="camping,light", specs={"lumens": 200, "battery": "USB-C"}))


def specs_flattened(mongo, lab_dir):
    """The specs spread over top-level fields, as in a table row."""
    _load(mongo, lab_dir)
    mongo.products.insert_one(dict(LANTERN, tags=["camping", "light"], lumens=200, battery="USB-C"))


def lantern_in_the_wrong_collection(mongo, lab_dir):
    """db.product (singular): MongoDB creates the misspelt collection on the first insert."""
    _load(mongo, lab_dir)
    mongo.product.insert_one(dict(LANTERN, tags=["camping", "light"], specs={"lumens": 200, "battery": "USB-C"}))


def numbers_as_strings(mongo, lab_dir):
    """Stock and lumens typed as strings, as a form or a CSV hands them over."""
    _load(mongo, lab_dir)
    mongo.products.insert_one(dict(LANTERN, stock="10", tags=["camping", "light"],
                                   specs={"lumens": "200", "battery": "USB-C"}))


def reviews_not_loaded(mongo, lab_dir):
    _load(mongo, lab_dir)
    mongo.reviews.drop()
    mongo.products.insert_one(dict(LANTERN, tags=["camping", "light"], specs={"lumens": 200, "battery": "USB-C"}))


def lte_instead_of_lt(workspace):
    workspace.install_variant("queries.py", "queries.py", {'"$lt": max_price': '"$lte": max_price'})


def out_of_stock_included(workspace):
    workspace.install_variant("queries.py", "queries.py", {', "stock": {"$gt": 0}}': "}"})


def whole_documents_returned(workspace):
    workspace.install_variant("queries.py", "queries.py", {
        'projection = {"_id": 0, "sku": 1, "name": 1, "price": 1}': "projection = None"})


def in_instead_of_all(workspace):
    workspace.install_variant("queries.py", "queries.py", {'{"tags": {"$all": list(tags)}}': '{"tags": {"$in": list(tags)}}'})


def and_instead_of_or(workspace):
    workspace.install_variant("queries.py", "queries.py", {'{"$or": [': '{"$and": ['})


def tags_matched_as_the_array(workspace):
    """{'tags': tags}: only a product whose tags are exactly that array, in that order, matches."""
    workspace.install_variant("queries.py", "queries.py", {'{"tags": {"$all": list(tags)}}': '{"tags": list(tags)}'})


def brand_as_a_regex(workspace):
    """A case-blind regex for the brand: it finds other makers whose names contain it."""
    workspace.install_variant("queries.py", "queries.py", {'{"brand": brand}': '{"brand": {"$regex": brand, "$options": "i"}}'})


READ_THEN_WRITE = '''def restock(db, sku, quantity):
    """Add `quantity` to the product's stock."""
    product = db.products.find_one({"sku": sku})
    db.products.update_one({"sku": sku}, {"$set": {"stock": product["stock"] + quantity}})
'''


def restock_read_then_write(workspace):
    """Read the stock, add in Python, write it back: a lost update waiting to happen."""
    workspace.install_variant("updates.py", "updates.py", {
        '''def restock(db, sku, quantity):
    """Add `quantity` to the product's stock."""
    db.products.update_one({"sku": sku}, {"$inc": {"stock": quantity}})
''': READ_THEN_WRITE})


def push_instead_of_add_to_set(workspace):
    workspace.install_variant("updates.py", "updates.py", {'{"$addToSet": {"tags": add}}': '{"$push": {"tags": add}}'})


def upsert_forgotten(workspace):
    workspace.install_variant("updates.py", "updates.py", {"        upsert=True,\n": ""})


def set_price_sets_category_always(workspace):
    """category "new" in $set: every product whose price changes is moved to category new."""
    workspace.install_variant("updates.py", "updates.py", {
        '{"$set": {"name": name, "price": price}, "$setOnInsert": {"category": "new", "stock": 0}}':
        '{"$set": {"name": name, "price": price, "category": "new"}, "$setOnInsert": {"stock": 0}}'})


def add_and_pull_in_one_update(workspace):
    """$addToSet and $pull on tags in one update: the server refuses the conflict."""
    workspace.install_solution("updates.py")
    path = workspace.file("updates.py")
    path.write_text(path.read_text(encoding="utf-8") + '''


def retag(db, sku, add, remove):
    db.products.update_one({"sku": sku}, {"$addToSet": {"tags": add}, "$pull": {"tags": remove}})
''', encoding="utf-8")


def _indexes(mongo, *specs):
    mongo.products.drop_indexes()
    for spec in specs:
        mongo.products.create_index(spec)


def index_on_the_wrong_field(mongo):
    """name instead of brand: the brand query still reads every document (COLLSCAN)."""
    _indexes(mongo, "name", [("category", 1), ("price", 1)], "tags")


def category_index_without_price(mongo):
    """A single-field index on category: the query uses it, then sorts in memory."""
    _indexes(mongo, "brand", "category", "tags")


def compound_in_the_wrong_order(mongo):
    _indexes(mongo, "brand", [("price", 1), ("category", 1)], "tags")


def no_tags_index(mongo):
    _indexes(mongo, "brand", [("category", 1), ("price", 1)])


def match_forgotten(workspace):
    workspace.install_variant("report.py", "report.py", {'        {"$match": {"stock": {"$gt": 0}}},\n': ""})


UNWOUND = '''        {"$unwind": {"path": "$reviews", "preserveNullAndEmptyArrays": True}},
        {"$group": {
            "_id": "$category",
            "products": {"$sum": 1},
            "avg_price": {"$avg": "$price"},
            "stars": {"$sum": {"$ifNull": ["$reviews.stars", 0]}},
            "reviews": {"$sum": {"$cond": [{"$gt": ["$reviews.stars", None]}, 1, 0]}},
        }},
'''


def unwind_counts_reviews(workspace):
    """$unwind before $group: a product with three reviews is counted three times."""
    workspace.install_variant("report.py", "report.py", {'''        {"$group": {
            "_id": "$category",
            "products": {"$sum": 1},
            "avg_price": {"$avg": "$price"},
            # each product's stars: $map reads the field of every review in the array
            "stars": {"$sum": {"$sum": {"$map": {"input": "$reviews", "as": "r", "in": "$$r.stars"}}}},
            "reviews": {"$sum": {"$size": "$reviews"}},
        }},
''': UNWOUND})


def sorted_by_name_only(workspace):
    workspace.install_variant("report.py", "report.py", {'{"$sort": {"products": -1, "category": 1}}': '{"$sort": {"category": 1}}'})


LAZY, BULK = "migrate-6-lazy.py", "migrate-7-bulk.py"
DROPS_FIELDS = '''    new = {"_id": doc.get("_id"), "sku": doc["sku"], "name": doc["name"], "category": doc.get("category"),
           "brand": doc.get("brand"), "stock": doc.get("stock"), "tags": doc.get("tags"), "specs": doc.get("specs")}
    new = {k: v for k, v in new.items() if v is not None}
    new["price"] = {"amount": doc.get("price"), "currency": doc.get("currency", "EUR")}
'''


def upgrade_drops_a_field(workspace):
    """Builds the v2 document from the fields it knows: anything else (warranty_years) is lost."""
    workspace.install_variant("migrate.py", LAZY, {'''    new = dict(doc)
    new["price"] = {"amount": new.get("price"), "currency": new.pop("currency", "EUR")}
''': DROPS_FIELDS})


def no_write_back(workspace):
    workspace.install_variant("migrate.py", LAZY, {
        '    db.products.replace_one({"_id": doc["_id"], "schema_version": {"$exists": False}}, new)\n': ""})


def schema_version_forgotten(workspace):
    workspace.install_variant("migrate.py", LAZY, {'    new["schema_version"] = 2\n': ""})


ONE_BY_ONE = '''    changed = 0
    for doc in db.products.find({"schema_version": {"$ne": 2}}):
        changed += db.products.replace_one({"_id": doc["_id"]}, upgrade(doc)).modified_count
    return changed
'''


def migrate_one_by_one(workspace):
    """A loop of replace_one: right, but one round trip per document."""
    text = (workspace.lab.path / "solutions" / BULK).read_text(encoding="utf-8")
    start = text.index("    from pymongo import ReplaceOne\n")
    workspace.file("migrate.py").write_text(text[:start] + ONE_BY_ONE, encoding="utf-8")


def bulk_drops_a_field(workspace):
    workspace.install_variant("migrate.py", BULK, {'''    new = dict(doc)
    new["price"] = {"amount": new.get("price"), "currency": new.pop("currency", "EUR")}
''': DROPS_FIELDS})


def no_validator(mongo):
    """Validator written in a file but never applied."""


def validator_only_warns(workspace, answer):
    workspace.install_variant("validator.py", "validator.py", {'validationAction="error"': 'validationAction="warn"'})
    _apply(answer)


def validator_without_types(workspace, answer):
    """Requires the fields but not their shape: a v1 price (a number) passes."""
    workspace.install_variant("validator.py", "validator.py", {
        '"required": ["sku", "name", "price", "schema_version"],': '"required": ["sku", "name", "price"],',
        '''        "schema_version": {"enum": [2]},
        "price": {''': '''        "schema_version": {"enum": [2]},
        "unused": {'''})
    _apply(answer)


def validator_doubles_only(workspace, answer):
    """amount must be a double: a whole-number price, stored as an int, is refused."""
    workspace.install_variant("validator.py", "validator.py", {
        '"bsonType": ["double", "int", "long", "decimal"], "minimum": 0': '"bsonType": "double", "minimum": 0'})
    _apply(answer)


def validator_refuses_zero(workspace, answer):
    """An exclusive minimum: a price of 0 is not negative, and is refused all the same."""
    workspace.install_variant("validator.py", "validator.py", {
        '"minimum": 0}': '"minimum": 0, "exclusiveMinimum": True}'})
    _apply(answer)


def _apply(answer):
    result = answer.call("validator.py", "add_validator", connect="documentdb", timeout=60)
    if not result.ok:
        raise RuntimeError(result.failure())


def stars_averaged_per_product(workspace):
    """Each product's average stars, then the average of those: a product with one review weighs as
    much as one with three."""
    workspace.file("report.py").write_text('''
def category_report(db):
    return list(db.products.aggregate([
        {"$match": {"stock": {"$gt": 0}}},
        {"$lookup": {"from": "reviews", "localField": "sku", "foreignField": "sku", "as": "reviews"}},
        {"$project": {"category": 1, "price": 1,
                      "stars": {"$avg": {"$map": {"input": "$reviews", "as": "r", "in": "$$r.stars"}}}}},
        {"$group": {"_id": "$category", "products": {"$sum": 1}, "avg_price": {"$avg": "$price"},
                    "avg_stars": {"$avg": "$stars"}}},
        {"$project": {"_id": 0, "category": "$_id", "products": 1, "avg_price": 1, "avg_stars": 1}},
        {"$sort": {"products": -1, "category": 1}},
    ]))
''', encoding="utf-8")
