"""Reference solutions for documentdb-basics, one per step (what `labrunner solve` applies)."""

import json

LANTERN = {"sku": "LANTERN-01", "name": "Trail lantern", "category": "outdoor", "brand": "Lysa", "price": 24.5,
           "currency": "EUR", "stock": 10, "tags": ["camping", "light"],
           "specs": {"lumens": 200, "battery": "USB-C"}}


def load(mongo, lab_dir):
    """What python load_catalog.py does (the lab's own copy of the data), then the lantern."""
    for name in ("products", "reviews"):
        documents = json.loads((lab_dir / "workspace" / f"{name}.json").read_text(encoding="utf-8"))
        mongo[name].drop()
        mongo[name].insert_many(documents)
    mongo.products.insert_one(dict(LANTERN))


def run_in_workspace(answer, file, function):
    """Run a workspace function against the engine, as `python FILE` does."""
    result = answer.call(file, function, connect="documentdb", timeout=60)
    if not result.ok:
        raise RuntimeError(result.failure())


def install_queries(workspace):
    workspace.install_solution("queries.py")


def install_updates(workspace):
    workspace.install_solution("updates.py")


def create_indexes(workspace, answer):
    workspace.install_solution("indexes.py")
    run_in_workspace(answer, "indexes.py", "create_indexes")


def install_report(workspace):
    workspace.install_solution("report.py")


def lazy_migration(workspace):
    workspace.install_solution("migrate.py", source="migrate-6-lazy.py")


def bulk_migration(workspace, answer):
    workspace.install_solution("migrate.py", source="migrate-7-bulk.py")
    run_in_workspace(answer, "migrate.py", "migrate_all")


def add_validator(workspace, answer):
    workspace.install_solution("validator.py")
    run_in_workspace(answer, "validator.py", "add_validator")
