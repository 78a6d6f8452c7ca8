"""Correct answers the reference solution does not take. `labrunner test` starts each from its
step's start state, applies it, and requires every check of the step to pass.

Other clients (the aws CLI, the low-level client with typed DynamoDB JSON, the resource's
client), PartiQL where the stand-ins run it, other placeholder names: the checks judge the
engine and the calls made, not the shape of the reference solution.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TABLE = "Shop"


def _write(workspace, name, source):
    workspace.file(name).write_text(source, encoding="utf-8")


def _aws(endpoints, workspace, *args):
    """Run the aws CLI as a learner would after `eval "$(labrunner env)"`, in the lab folder."""
    from labrunner.services import dynamodb

    program = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if not program:
        raise RuntimeError("the aws CLI is not installed here (pip install awscli)")
    env = dict(os.environ, **dynamodb.exports(endpoints["dynamodb"]))
    subprocess.run([program, "dynamodb", *args, "--output", "json"], env=env, cwd=str(workspace.path),
                   check=True, capture_output=True, timeout=60)


# ---- step 1 ----------------------------------------------------------------------

def create_with_aws_cli(endpoints, workspace):
    _aws(endpoints, workspace, "create-table", "--table-name", TABLE,
         "--attribute-definitions", "AttributeName=PK,AttributeType=S", "AttributeName=SK,AttributeType=S",
         "--key-schema", "AttributeName=PK,KeyType=HASH", "AttributeName=SK,KeyType=RANGE",
         "--billing-mode", "PAY_PER_REQUEST")
    _aws(endpoints, workspace, "wait", "table-exists", "--table-name", TABLE)


def create_with_resource(dynamodb_resource):
    table = dynamodb_resource.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "SK", "AttributeType": "S"},
                              {"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}])
    table.wait_until_exists()


# ---- step 2 ----------------------------------------------------------------------

def _loaded(lab, dynamodb_resource, workspace, lab_dir):
    lab.modules["solutions"].load_shop(dynamodb_resource, workspace, lab_dir)


def save_order_with_client(lab, dynamodb_resource, workspace, lab_dir):
    """The low-level client, typed DynamoDB JSON, the item built step by step."""
    _loaded(lab, dynamodb_resource, workspace, lab_dir)
    _write(workspace, "shop_keys.py", '''
import boto3


def save_order(table, customer_id, order_id, order_date, total, status):
    meta = table.meta.client.meta
    client = boto3.client("dynamodb", endpoint_url=meta.endpoint_url, region_name=meta.region_name)
    item = {
        "PK": {"S": "CUST#" + customer_id},
        "SK": {"S": "ORDER#" + order_date + "#" + order_id},
        "Type": {"S": "Order"},
        "OrderId": {"S": order_id},
        "OrderDate": {"S": order_date},
        "Status": {"S": status},
        "OrderTotal": {"N": str(total)},
    }
    if status == "OPEN":
        item.update({"GSI1PK": {"S": "OPEN"}, "GSI1SK": {"S": order_date + "#" + order_id}})
    client.put_item(TableName=table.name, Item=item)
''')


def save_order_with_partiql(lab, dynamodb_resource, workspace, lab_dir):
    """A parameterised PartiQL INSERT through the Table's own client (plain Python values)."""
    _loaded(lab, dynamodb_resource, workspace, lab_dir)
    _write(workspace, "shop_keys.py", '''
def save_order(table, customer_id, order_id, order_date, total, status):
    values = {"PK": f"CUST#{customer_id}", "SK": f"ORDER#{order_date}#{order_id}", "Type": "Order",
              "OrderId": order_id, "OrderDate": order_date, "Status": status, "OrderTotal": total}
    if status == "OPEN":
        values.update(GSI1PK="OPEN", GSI1SK=f"{order_date}#{order_id}")
    fields = ", ".join(f"'{name}': ?" for name in values)
    table.meta.client.execute_statement(Statement=f'INSERT INTO "{table.name}" VALUE {{{fields}}}',
                                        Parameters=list(values.values()))
''')


# ---- step 3 ----------------------------------------------------------------------

def queries_with_partiql(workspace):
    """PartiQL SELECTs that pin PK (so they run as Queries), ORDER BY SK DESC for newest first."""
    _write(workspace, "queries.py", '''
def orders_of(table, customer_id, start_date, end_date):
    page = table.meta.client.execute_statement(
        Statement=f'SELECT OrderId FROM "{table.name}" WHERE PK = ? AND SK BETWEEN ? AND ? ORDER BY SK DESC',
        Parameters=[f"CUST#{customer_id}", f"ORDER#{start_date}", f"ORDER#{end_date}#~"])
    return [item["OrderId"] for item in page["Items"]]


def order_lines(table, order_id):
    page = table.meta.client.execute_statement(
        Statement=f'SELECT SK, ProductId, Qty FROM "{table.name}" WHERE PK = ? AND begins_with(SK, ?) ORDER BY SK',
        Parameters=[f"ORDER#{order_id}", "LINE#"])
    return [{"ProductId": item["ProductId"], "Qty": int(item["Qty"])} for item in page["Items"]]
''')


def queries_with_client_paginator(workspace):
    """The low-level client's paginator, typed values, placeholders named differently."""
    _write(workspace, "queries.py", '''
import boto3


def _client(table):
    meta = table.meta.client.meta
    return boto3.client("dynamodb", endpoint_url=meta.endpoint_url, region_name=meta.region_name)


def orders_of(table, customer_id, start_date, end_date):
    pages = _client(table).get_paginator("query").paginate(
        TableName=table.name, ScanIndexForward=False,
        KeyConditionExpression="#p = :who AND #s BETWEEN :lo AND :hi",
        ExpressionAttributeNames={"#p": "PK", "#s": "SK"},
        ExpressionAttributeValues={":who": {"S": "CUST#" + customer_id}, ":lo": {"S": "ORDER#" + start_date},
                                   ":hi": {"S": "ORDER#" + end_date + "#~"}})
    return [item["OrderId"]["S"] for page in pages for item in page["Items"]]


def order_lines(table, order_id):
    pages = _client(table).get_paginator("query").paginate(
        TableName=table.name, KeyConditionExpression="PK = :o AND begins_with(SK, :line)",
        ExpressionAttributeValues={":o": {"S": "ORDER#" + order_id}, ":line": {"S": "LINE#"}})
    return [{"ProductId": i["ProductId"]["S"], "Qty": int(i["Qty"]["N"])} for p in pages for i in p["Items"]]
''')


def queries_bounded_by_next_day(workspace):
    """orders_of bounded by the day after end_date instead of '#~'; order_lines leaves Qty as boto3's Decimal."""
    _write(workspace, "queries.py", '''
import datetime

from boto3.dynamodb.conditions import Key


def orders_of(table, customer_id, start_date, end_date):
    after = (datetime.date.fromisoformat(end_date) + datetime.timedelta(days=1)).isoformat()
    kwargs = {"KeyConditionExpression": Key("PK").eq("CUST#" + customer_id)
              & Key("SK").between("ORDER#" + start_date, "ORDER#" + after),
              "ScanIndexForward": False, "ProjectionExpression": "OrderId, SK"}
    ids = []
    while True:
        page = table.query(**kwargs)
        ids += [item["OrderId"] for item in page["Items"] if item["SK"] < "ORDER#" + after]
        if "LastEvaluatedKey" not in page:
            return ids
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def order_lines(table, order_id):
    page = table.query(KeyConditionExpression=Key("PK").eq("ORDER#" + order_id) & Key("SK").begins_with("LINE#"))
    return [{"ProductId": item["ProductId"], "Qty": item["Qty"]} for item in page["Items"]]
''')


# ---- step 4 ----------------------------------------------------------------------

def index_with_aws_cli(lab, endpoints, dynamodb, workspace):
    _aws(endpoints, workspace, "update-table", "--table-name", TABLE,
         "--attribute-definitions", "AttributeName=GSI1PK,AttributeType=S", "AttributeName=GSI1SK,AttributeType=S",
         "--global-secondary-index-updates", json.dumps([{"Create": {
             "IndexName": "GSI1",
             "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                           {"AttributeName": "GSI1SK", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["OrderTotal"]}}}]))
    lab.modules["solutions"].wait_for_index(dynamodb, "GSI1")
    workspace.install_solution("index_queries.py")


def index_queries_with_client(lab, dynamodb, workspace):
    """The low-level client; the order id taken from GSI1SK; ship_order with ReturnValues."""
    lab.modules["solutions"].add_gsi1(dynamodb, workspace)
    _write(workspace, "index_queries.py", '''
import boto3


def _client(table):
    meta = table.meta.client.meta
    return boto3.client("dynamodb", endpoint_url=meta.endpoint_url, region_name=meta.region_name)


def open_orders(table):
    pages = _client(table).get_paginator("query").paginate(
        TableName=table.name, IndexName="GSI1", KeyConditionExpression="GSI1PK = :open",
        ExpressionAttributeValues={":open": {"S": "OPEN"}})
    return [item["GSI1SK"]["S"].split("#")[-1] for page in pages for item in page["Items"]]


def customer_by_email(table, email):
    found = _client(table).query(TableName=table.name, IndexName="GSI1", KeyConditionExpression="GSI1PK = :e",
                                 ExpressionAttributeValues={":e": {"S": "EMAIL#" + email}})["Items"]
    return found[0]["PK"]["S"][len("CUST#"):] if found else None


def ship_order(table, customer_id, order_date, order_id):
    _client(table).update_item(
        TableName=table.name,
        Key={"PK": {"S": "CUST#" + customer_id}, "SK": {"S": f"ORDER#{order_date}#{order_id}"}},
        UpdateExpression="REMOVE GSI1SK, GSI1PK SET #status = :s",
        ExpressionAttributeNames={"#status": "Status"}, ExpressionAttributeValues={":s": {"S": "SHIPPED"}},
        ReturnValues="ALL_NEW")
''')


# ---- step 5 ----------------------------------------------------------------------

def place_order_with_low_level_client(workspace):
    """Typed DynamoDB JSON through a client of its own; the price read inside the same code path."""
    _write(workspace, "place_order.py", '''
import boto3


def place_order(table, customer_id, order_id, order_date, product_id, qty):
    meta = table.meta.client.meta
    client = boto3.client("dynamodb", endpoint_url=meta.endpoint_url, region_name=meta.region_name)
    product_key = {"PK": {"S": "PRODUCT#" + product_id}, "SK": {"S": "PRODUCT"}}
    product = client.get_item(TableName=table.name, Key=product_key, ConsistentRead=True).get("Item")
    if not product:
        return False
    total = qty * int(product["Price"]["N"])
    try:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": table.name, "ConditionExpression": "attribute_not_exists(PK)", "Item": {
                "PK": {"S": "CUST#" + customer_id}, "SK": {"S": f"ORDER#{order_date}#{order_id}"},
                "Type": {"S": "Order"}, "OrderId": {"S": order_id}, "OrderDate": {"S": order_date},
                "Status": {"S": "OPEN"}, "ProductId": {"S": product_id}, "Qty": {"N": str(qty)},
                "OrderTotal": {"N": str(total)}, "GSI1PK": {"S": "OPEN"},
                "GSI1SK": {"S": f"{order_date}#{order_id}"}}}},
            {"Update": {"TableName": table.name, "Key": product_key,
                        "UpdateExpression": "ADD Stock :minus", "ConditionExpression": "Stock >= :need",
                        "ExpressionAttributeValues": {":minus": {"N": str(-qty)}, ":need": {"N": str(qty)}}}},
        ])
    except client.exceptions.TransactionCanceledException:
        return False
    return True
''')


def place_order_reads_cancellation_reasons(workspace):
    """Looks at why the transaction was cancelled, and answers False for a failed condition only."""
    _write(workspace, "place_order.py", '''
from botocore.exceptions import ClientError


def place_order(table, customer_id, order_id, order_date, product_id, qty):
    key = {"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT"}
    price = table.get_item(Key=key, ProjectionExpression="#p",
                           ExpressionAttributeNames={"#p": "Price"}).get("Item", {}).get("Price")
    if price is None:
        return False
    order = {"PK": f"CUST#{customer_id}", "SK": f"ORDER#{order_date}#{order_id}", "Type": "Order",
             "OrderId": order_id, "OrderDate": order_date, "Status": "OPEN", "ProductId": product_id, "Qty": qty,
             "OrderTotal": qty * price, "GSI1PK": "OPEN", "GSI1SK": f"{order_date}#{order_id}"}
    try:
        table.meta.client.transact_write_items(TransactItems=[
            {"Update": {"TableName": table.name, "Key": key, "UpdateExpression": "SET Stock = Stock - :q",
                        "ConditionExpression": "attribute_exists(Stock) AND Stock >= :q",
                        "ExpressionAttributeValues": {":q": qty}}},
            {"Put": {"TableName": table.name, "Item": order, "ConditionExpression": "attribute_not_exists(SK)"}}])
    except ClientError as err:
        reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
        if err.response["Error"]["Code"] == "TransactionCanceledException" and (
                not reasons or "ConditionalCheckFailed" in reasons):
            return False
        raise
    return True
''')


# ---- step 6 ----------------------------------------------------------------------

def stream_with_aws_cli(endpoints, workspace):
    _aws(endpoints, workspace, "update-table", "--table-name", TABLE,
         "--stream-specification", "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES")
    workspace.install_solution("stream_reader.py")


def reader_in_small_pages(dynamodb, workspace):
    """The stream's ARN from describe_table, records two at a time, a set of ids kept in order."""
    dynamodb.update_table(TableName=TABLE,
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    _write(workspace, "stream_reader.py", '''
import boto3


def shipped_from_stream(table):
    meta = table.meta.client.meta
    streams = boto3.client("dynamodbstreams", endpoint_url=meta.endpoint_url, region_name=meta.region_name)
    arn = table.meta.client.describe_table(TableName=table.name)["Table"]["LatestStreamArn"]
    seen = {}
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(10000):
            page = streams.get_records(ShardIterator=iterator, Limit=2)
            for record in page["Records"]:
                if record["eventName"] != "MODIFY":
                    continue
                old = record["dynamodb"]["OldImage"]
                new = record["dynamodb"]["NewImage"]
                if old.get("Status") == {"S": "OPEN"} and new.get("Status") == {"S": "SHIPPED"}:
                    seen.setdefault(new["OrderId"]["S"], True)
            iterator = page.get("NextShardIterator")
            if not page["Records"] or not iterator:
                break
    return list(seen)
''')


# ---- step 7 ----------------------------------------------------------------------

def total_with_client_projection(workspace):
    """The low-level client, GSI1 queried for OrderTotal only."""
    _write(workspace, "capacity.py", '''
import boto3


def open_order_total(table):
    meta = table.meta.client.meta
    client = boto3.client("dynamodb", endpoint_url=meta.endpoint_url, region_name=meta.region_name)
    pages = client.get_paginator("query").paginate(
        TableName=table.name, IndexName="GSI1", KeyConditionExpression="GSI1PK = :open",
        ProjectionExpression="OrderTotal", ExpressionAttributeValues={":open": {"S": "OPEN"}})
    return sum(int(item["OrderTotal"]["N"]) for page in pages for item in page["Items"])
''')


def total_with_partiql(workspace):
    """A PartiQL SELECT on the index that pins GSI1PK: DynamoDB runs it as a Query of GSI1."""
    _write(workspace, "capacity.py", '''
def open_order_total(table):
    page = table.meta.client.execute_statement(
        Statement=f'SELECT OrderTotal FROM "{table.name}"."GSI1" WHERE GSI1PK = ?', Parameters=["OPEN"])
    return sum(int(item["OrderTotal"]) for item in page["Items"])
''')
