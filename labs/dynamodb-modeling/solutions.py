"""Reference solutions for dynamodb-modeling, one per step (what `labrunner solve` applies)."""

import json

TABLE = "Shop"


def create_shop_table(dynamodb):
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                              {"AttributeName": "SK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def load_shop(dynamodb_resource, workspace, lab_dir):
    """save_order written, then the shop loaded as load_shop.py does."""
    workspace.install_solution("shop_keys.py")
    table = dynamodb_resource.Table(TABLE)
    shop = json.loads((lab_dir / "workspace" / "shop.json").read_text(encoding="utf-8"))
    with table.batch_writer() as batch:
        for c in shop["customers"]:
            batch.put_item(Item={"PK": f"CUST#{c['CustomerId']}", "SK": "PROFILE", "Type": "Customer",
                                 "Name": c["Name"], "Email": c["Email"],
                                 "GSI1PK": f"EMAIL#{c['Email']}", "GSI1SK": "PROFILE"})
        for p in shop["products"]:
            batch.put_item(Item={"PK": f"PRODUCT#{p['ProductId']}", "SK": "PRODUCT", "Type": "Product",
                                 "Name": p["Name"], "Price": p["Price"], "Stock": p["Stock"]})
        for o in shop["orders"]:
            for product, qty, price in o["Lines"]:
                batch.put_item(Item={"PK": f"ORDER#{o['OrderId']}", "SK": f"LINE#{product}", "Type": "OrderLine",
                                     "ProductId": product, "Qty": qty, "Price": price})
            order = {"PK": f"CUST#{o['CustomerId']}", "SK": f"ORDER#{o['OrderDate']}#{o['OrderId']}",
                     "Type": "Order", "OrderId": o["OrderId"], "OrderDate": o["OrderDate"],
                     "Status": o["Status"], "OrderTotal": o["OrderTotal"]}
            if o["Status"] == "OPEN":
                order.update(GSI1PK="OPEN", GSI1SK=f"{o['OrderDate']}#{o['OrderId']}")
            batch.put_item(Item=order)


def install_queries(workspace):
    workspace.install_solution("queries.py")


GSI1_KEYS = [{"AttributeName": "GSI1PK", "KeyType": "HASH"}, {"AttributeName": "GSI1SK", "KeyType": "RANGE"}]
GSI1_PROJECTION = {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["OrderTotal"]}


def add_gsi1(dynamodb, workspace):
    table = dynamodb.describe_table(TableName=TABLE)["Table"]
    found = _index(table, "GSI1")
    if found and not _is_gsi1(table, found):
        # the learner's own GSI1 (other keys or projection): an index cannot be altered, so
        # replace it, as on DynamoDB
        dynamodb.update_table(TableName=TABLE, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "GSI1"}}])
        wait_for_index(dynamodb, "GSI1", gone=True)
        found = None
    if not found:
        dynamodb.update_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "GSI1PK", "AttributeType": "S"},
                                  {"AttributeName": "GSI1SK", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "GSI1", "KeySchema": GSI1_KEYS, "Projection": GSI1_PROJECTION}}],
        )
    wait_for_index(dynamodb, "GSI1")
    workspace.install_solution("index_queries.py")


def _index(table, name):
    """The index `name` in a table description (describe_table's "Table"), or None."""
    return next((i for i in table.get("GlobalSecondaryIndexes") or [] if i["IndexName"] == name), None)


def _is_gsi1(table, index):
    """GSI1 as the later steps read it: string keys GSI1PK and GSI1SK, OrderTotal projected."""
    types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    projection = index.get("Projection") or {}
    return (index["KeySchema"] == GSI1_KEYS and types.get("GSI1PK") == types.get("GSI1SK") == "S"
            and projection.get("ProjectionType") == "INCLUDE"
            and set(projection.get("NonKeyAttributes") or ()) == {"OrderTotal"})


def wait_for_index(dynamodb, name, seconds=60, gone=False):
    import time

    for _ in range(seconds * 2):
        index = _index(dynamodb.describe_table(TableName=TABLE)["Table"], name)
        if (index is None) if gone else (index is not None and index.get("IndexStatus", "ACTIVE") == "ACTIVE"):
            return
        time.sleep(0.5)
    raise TimeoutError(f"index {name} did not {'go' if gone else 'become ACTIVE'}")


def install_place_order(workspace):
    workspace.install_solution("place_order.py")


def enable_stream(dynamodb, workspace):
    dynamodb.update_table(TableName=TABLE,
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    workspace.install_solution("stream_reader.py")


def install_capacity(workspace):
    workspace.install_solution("capacity.py")
