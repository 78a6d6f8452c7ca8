"""Step 4: indexes. Run it with `python indexes.py` after eval "$(labrunner env)"."""

import os

from pymongo import MongoClient


def create_indexes(db):
    """Create the indexes the step asks for on db.products."""
    db.products.create_index("brand")                              # single field
    db.products.create_index([("category", 1), ("price", 1)])      # compound: equality, then sort
    db.products.create_index("tags")                               # multikey: tags is an array


if __name__ == "__main__":
    database = MongoClient(os.environ["MONGODB_URI"]).get_default_database()
    create_indexes(database)
    for name, info in database.products.index_information().items():
        print(name, info["key"])
