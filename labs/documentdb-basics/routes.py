"""Correct answers the reference solutions do not take, each proven to pass by `labrunner test`:
the catalogue loaded as a learner loads it, queries as aggregations, updates through bulk_write,
indexes with names of their own, the report written another way, a migration writing back with
$set/$unset, a bulk migration as one update_many with a pipeline, a validator with other types."""


def load_as_a_learner_does(session, workspace, mongo):
    """python load_catalog.py after eval "$(labrunner env)", then the lantern from the shell."""
    import os
    import subprocess
    import sys

    from labrunner import services

    env = dict(os.environ, **services.get("documentdb").exports(session.endpoint("documentdb")))
    subprocess.run([sys.executable, "load_catalog.py"], cwd=workspace.path, env=env, check=True,
                   capture_output=True, timeout=120)
    mongo.products.update_one(
        {"sku": "LANTERN-01"},
        {"$set": {"name": "Trail lantern", "category": "outdoor", "brand": "Lysa", "price": 24.5, "currency": "EUR",
                  "stock": 10, "tags": ["camping", "light"], "specs.lumens": 200, "specs.battery": "USB-C"}},
        upsert=True)


def lantern_in_another_order(mongo, lab_dir):
    """The lantern first, then the catalogue with insert_many of its own (no drop), tags in another order and
    an extra spec: the check asks for what the step asks, no more."""
    import json

    mongo.products.insert_one({"specs": {"battery": "USB-C", "lumens": 200, "weight_g": 310}, "tags": ["light", "camping"],
                               "stock": 10, "currency": "EUR", "price": 24.5, "brand": "Lysa", "category": "outdoor",
                               "name": "Trail lantern", "sku": "LANTERN-01"})
    mongo.products.insert_many(json.loads((lab_dir / "workspace" / "products.json").read_text(encoding="utf-8")))
    mongo.reviews.insert_many(json.loads((lab_dir / "workspace" / "reviews.json").read_text(encoding="utf-8")))


QUERIES_AS_AGGREGATIONS = '''"""Step 2, written as aggregation pipelines."""


def affordable_in_stock(db, category, max_price):
    return list(db.products.aggregate([
        {"$match": {"$and": [{"category": {"$eq": category}}, {"price": {"$lt": max_price}},
                             {"stock": {"$gte": 1}}]}},
        {"$sort": {"price": 1}},
        {"$project": {"_id": 0, "sku": 1, "name": 1, "price": 1}},
    ]))


def tagged_or_by_brand(db, tags, brand):
    every_tag = {"$and": [{"tags": tag} for tag in tags]}
    found = db.products.aggregate([{"$match": {"$or": [every_tag, {"brand": brand}]}}, {"$project": {"sku": 1}}])
    return sorted(doc["sku"] for doc in found)
'''


def queries_as_aggregations(workspace):
    workspace.file("queries.py").write_text(QUERIES_AS_AGGREGATIONS, encoding="utf-8")


UPDATES_WITH_BULK_WRITE = '''"""Step 3 through bulk_write: several operations in one round trip."""

from pymongo import UpdateOne


def restock(db, sku, quantity):
    db.products.bulk_write([UpdateOne({"sku": sku}, {"$inc": {"stock": quantity}})])


def retag(db, sku, add, remove):
    db.products.bulk_write([UpdateOne({"sku": sku}, {"$addToSet": {"tags": add}}),
                            UpdateOne({"sku": sku}, {"$pull": {"tags": remove}})], ordered=True)


def set_price(db, sku, name, price):
    db.products.bulk_write([UpdateOne({"sku": sku}, {"$set": {"name": name, "price": price},
                                                     "$setOnInsert": {"category": "new", "stock": 0}},
                                      upsert=True)])
'''


def updates_with_bulk_write(workspace):
    workspace.file("updates.py").write_text(UPDATES_WITH_BULK_WRITE, encoding="utf-8")


def find_one_and_update(workspace):
    """restock with find_one_and_update (the findAndModify command): atomic too."""
    workspace.install_variant("updates.py", "updates.py", {
        'db.products.update_one({"sku": sku}, {"$inc": {"stock": quantity}})':
        'db.products.find_one_and_update({"sku": sku}, {"$inc": {"stock": quantity}})'})


def indexes_with_names_of_their_own(mongo):
    """Named indexes, the compound one descending on price (it serves the ascending sort too)."""
    mongo.products.create_index([("brand", 1)], name="by_brand")
    mongo.products.create_index([("category", 1), ("price", -1)], name="category_then_price")
    mongo.products.create_index([("tags", 1)], name="by_tag")


REPORT_UNWOUND = '''"""Step 5 another way: one row per product first, then one per category."""


def category_report(db):
    return list(db.products.aggregate([
        {"$match": {"stock": {"$gt": 0}}},
        {"$lookup": {"from": "reviews", "localField": "sku", "foreignField": "sku", "as": "r"}},
        {"$unwind": {"path": "$r", "preserveNullAndEmptyArrays": True}},
        {"$group": {"_id": {"sku": "$sku", "category": "$category", "price": "$price"},
                    "stars": {"$push": "$r.stars"}}},
        {"$group": {"_id": "$_id.category", "products": {"$sum": 1}, "avg_price": {"$avg": "$_id.price"},
                    "all_stars": {"$push": "$stars"}}},
        {"$project": {"_id": 0, "category": "$_id", "products": 1, "avg_price": 1,
                      "avg_stars": {"$avg": {"$reduce": {"input": "$all_stars", "initialValue": [],
                                                         "in": {"$concatArrays": ["$$value", "$$this"]}}}}}},
        {"$sort": {"products": -1, "category": 1}},
    ]))
'''


def report_unwound_and_grouped_twice(workspace):
    workspace.file("report.py").write_text(REPORT_UNWOUND, encoding="utf-8")


def write_back_with_set_and_unset(workspace):
    workspace.install_variant("migrate.py", "migrate-6-lazy.py", {
        '    db.products.replace_one({"_id": doc["_id"], "schema_version": {"$exists": False}}, new)\n':
        '    db.products.update_one({"_id": doc["_id"], "schema_version": {"$exists": False}},\n'
        '                           {"$set": {"price": new["price"], "schema_version": 2}, "$unset": {"currency": ""}})\n'})


MIGRATE_WITH_A_PIPELINE = '''    result = db.products.update_many(
        {"schema_version": {"$ne": 2}},
        [{"$set": {"price": {"amount": "$price", "currency": {"$ifNull": ["$currency", "EUR"]}},
                   "schema_version": 2}},
         {"$unset": "currency"}])
    return result.modified_count
'''


def bulk_migration_as_one_update_many(workspace, answer):
    text = (workspace.lab.path / "solutions" / "migrate-7-bulk.py").read_text(encoding="utf-8")
    start = text.index("    from pymongo import ReplaceOne\n")
    workspace.file("migrate.py").write_text(text[:start] + MIGRATE_WITH_A_PIPELINE, encoding="utf-8")
    result = answer.call("migrate.py", "migrate_all", connect="documentdb", timeout=60)
    if not result.ok:
        raise RuntimeError(result.failure())


def validator_with_number_alias(mongo):
    """bsonType "number" (any numeric type), and the validator given at once with collMod from the shell."""
    schema = {"bsonType": "object", "required": ["sku", "name", "price", "schema_version"],
              "properties": {"schema_version": {"bsonType": ["int", "long", "double"], "minimum": 2, "maximum": 2},
                             "price": {"bsonType": "object", "required": ["amount", "currency"],
                                       "properties": {"amount": {"bsonType": "number", "minimum": 0},
                                                      "currency": {"bsonType": "string", "minLength": 3}}}}}
    mongo.command("collMod", "products", validator={"$jsonSchema": schema}, validationLevel="strict")

