"""Step 8: a $jsonSchema validator on products, so a document in the old shape is refused."""

V2_SCHEMA = {
    "bsonType": "object",
    "required": ["sku", "name", "price", "schema_version"],
    "properties": {
        "sku": {"bsonType": "string"},
        "name": {"bsonType": "string"},
        "schema_version": {"enum": [2]},
        "price": {
            "bsonType": "object",
            "required": ["amount", "currency"],
            "properties": {
                "amount": {"bsonType": ["double", "int", "long", "decimal"], "minimum": 0},
                "currency": {"bsonType": "string"},
            },
        },
    },
}


def add_validator(db):
    """Make db.products refuse documents that are not in the v2 shape."""
    db.command("collMod", "products", validator={"$jsonSchema": V2_SCHEMA},
               validationLevel="strict", validationAction="error")


if __name__ == "__main__":
    import os

    from pymongo import MongoClient

    add_validator(MongoClient(os.environ["MONGODB_URI"]).get_default_database())
    print("validator set")
