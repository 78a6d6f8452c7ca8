"""Step 8: a $jsonSchema validator on products, so a document in the old shape is refused."""


def add_validator(db):
    """Make db.products refuse documents that are not in the v2 shape."""
    raise NotImplementedError


if __name__ == "__main__":
    import os

    from pymongo import MongoClient

    add_validator(MongoClient(os.environ["MONGODB_URI"]).get_default_database())
    print("validator set")
