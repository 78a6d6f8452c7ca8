"""Load the product catalogue into the DocumentDB stand-in: products.json and reviews.json.

Run it after `eval "$(labrunner env)"`, which sets MONGODB_URI:

    python load_catalog.py

It starts the catalogue over each time (drops both collections first).
"""

import json
import os
from pathlib import Path

from pymongo import MongoClient

HERE = Path(__file__).resolve().parent


def load(db) -> dict:
    counts = {}
    for name in ("products", "reviews"):
        documents = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
        db[name].drop()
        db[name].insert_many(documents)
        counts[name] = db[name].count_documents({})
    return counts


def main() -> None:
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        raise SystemExit('MONGODB_URI is not set: run eval "$(labrunner env)" in this terminal first')
    client = MongoClient(uri)
    counts = load(client.get_default_database())
    print(f"loaded {counts['products']} products and {counts['reviews']} reviews")


if __name__ == "__main__":
    main()
