"""Typical wrong answers. `labrunner test` applies each from its step's start state and
proves that a check fails with the message lab.yaml promises."""

TABLE = "Shop"


def _write(workspace, name, source):
    workspace.file(name).write_text(source, encoding="utf-8")


# ---- step 1 ----------------------------------------------------------------------

def customer_keyed_table(dynamodb):
    """Keys named after one item type: the relational habit."""
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "CustomerId", "AttributeType": "S"},
                              {"AttributeName": "OrderDate", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "CustomerId", "KeyType": "HASH"},
                   {"AttributeName": "OrderDate", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST")


def provisioned_table(dynamodb):
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                              {"AttributeName": "SK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})


# ---- step 2 ----------------------------------------------------------------------

def _save_order_variant(workspace, changes):
    workspace.install_variant("shop_keys.py", "shop_keys.py", changes)


def _load(lab, dynamodb_resource, workspace, lab_dir):
    """The shop loaded as the reference does, then the wrong save_order put in place."""
    lab.modules["solutions"].load_shop(dynamodb_resource, workspace, lab_dir)


def date_day_first(lab, dynamodb_resource, workspace, lab_dir):
    """The date as people write it, 30-11-2026: it sorts by day of the month."""
    _load(lab, dynamodb_resource, workspace, lab_dir)
    _save_order_variant(workspace, {
        '"SK": f"ORDER#{order_date}#{order_id}"':
        '"SK": "ORDER#" + "-".join(reversed(order_date.split("-"))) + f"#{order_id}"'})


def order_id_first(lab, dynamodb_resource, workspace, lab_dir):
    """ORDER#<id>#<date>: unique, but sorted by order id as text, not by date."""
    _load(lab, dynamodb_resource, workspace, lab_dir)
    _save_order_variant(workspace, {'"SK": f"ORDER#{order_date}#{order_id}"': '"SK": f"ORDER#{order_id}#{order_date}"'})


def shipped_keeps_gsi_keys(lab, dynamodb_resource, workspace, lab_dir):
    """Every order gets GSI1PK = its status: the index then holds every order."""
    _load(lab, dynamodb_resource, workspace, lab_dir)
    _save_order_variant(workspace, {
        '    if status == "OPEN":\n        item["GSI1PK"] = "OPEN"\n':
        '    if True:\n        item["GSI1PK"] = status\n'})


def total_as_string(lab, dynamodb_resource, workspace, lab_dir):
    _load(lab, dynamodb_resource, workspace, lab_dir)
    _save_order_variant(workspace, {'"OrderTotal": total}': '"OrderTotal": str(total)}'})


def orders_not_loaded(workspace):
    """save_order is right, but load_shop.py was never run."""
    workspace.install_solution("shop_keys.py")



def order_id_as_number(lab, dynamodb_resource, workspace, lab_dir):
    """OrderId stored as a number: the id in the sort key is text, the attribute a number."""
    _load(lab, dynamodb_resource, workspace, lab_dir)
    _save_order_variant(workspace, {'"OrderId": order_id,': '"OrderId": int(order_id),'})

# ---- step 3 ----------------------------------------------------------------------

def orders_oldest_first(workspace):
    workspace.install_variant("queries.py", "queries.py", {'              "ScanIndexForward": False}': "}"})


def orders_scan_with_filter(workspace):
    _write(workspace, "queries.py", '''
from boto3.dynamodb.conditions import Attr, Key


def orders_of(table, customer_id, start_date, end_date):
    items = table.scan(FilterExpression=Attr("PK").eq(f"CUST#{customer_id}")
                       & Attr("OrderDate").between(start_date, end_date))["Items"]
    return [i["OrderId"] for i in sorted(items, key=lambda i: i["SK"], reverse=True)]


def order_lines(table, order_id):
    page = table.query(KeyConditionExpression=Key("PK").eq(f"ORDER#{order_id}") & Key("SK").begins_with("LINE#"))
    return [{"ProductId": i["ProductId"], "Qty": int(i["Qty"])} for i in page["Items"]]
''')


def orders_end_date_left_out(workspace):
    workspace.install_variant("queries.py", "queries.py", {'f"ORDER#{end_date}#~"': 'f"ORDER#{end_date}"'})


def orders_sorted_by_id(workspace):
    """The right orders, then sorted newest-looking by OrderId in Python: ids are not dates."""
    workspace.install_variant("queries.py", "queries.py", {
        "            return ids\n": "            return sorted(ids, reverse=True)\n"})


def orders_start_date_left_out(workspace):
    """The range starts after the start date's orders ('ORDER#<start>#~'), so they are missed."""
    workspace.install_variant("queries.py", "queries.py", {'between(f"ORDER#{start_date}",': 'between(f"ORDER#{start_date}#~",'})


def orders_without_sort_condition(workspace):
    """Only the partition key: the customer's PROFILE item comes back with the orders."""
    workspace.install_variant("queries.py", "queries.py", {
        '''Key("PK").eq(f"CUST#{customer_id}")
              & Key("SK").between(f"ORDER#{start_date}", f"ORDER#{end_date}#~"),''':
        'Key("PK").eq(f"CUST#{customer_id}"),'})


def lines_without_begins_with(workspace):
    workspace.install_variant("queries.py", "queries.py", {
        'Key("PK").eq(f"ORDER#{order_id}") & Key("SK").begins_with("LINE#")': 'Key("PK").eq(f"ORDER#{order_id}")'})


# ---- step 4 ----------------------------------------------------------------------

def _create_gsi1(dynamodb, projection):
    dynamodb.update_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "GSI1PK", "AttributeType": "S"},
                              {"AttributeName": "GSI1SK", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "GSI1",
            "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                          {"AttributeName": "GSI1SK", "KeyType": "RANGE"}],
            "Projection": projection}}])


def gsi1_projects_all(dynamodb, workspace):
    _create_gsi1(dynamodb, {"ProjectionType": "ALL"})
    workspace.install_solution("index_queries.py")


def ship_order_keeps_gsi_keys(lab, dynamodb, workspace):
    """Shipping sets GSI1PK to SHIPPED instead of removing it: the index holds every order."""
    lab.modules["solutions"].add_gsi1(dynamodb, workspace)
    workspace.install_variant("index_queries.py", "index_queries.py", {
        'UpdateExpression="SET #s = :shipped REMOVE GSI1PK, GSI1SK"':
        'UpdateExpression="SET #s = :shipped, GSI1PK = :shipped"'})


def open_orders_with_scan(lab, dynamodb, workspace):
    lab.modules["solutions"].add_gsi1(dynamodb, workspace)
    workspace.install_variant("index_queries.py", "index_queries.py", {
        '''def open_orders(table):
    kwargs = {"IndexName": "GSI1", "KeyConditionExpression": Key("GSI1PK").eq("OPEN")}''':
        '''def open_orders(table):
    from boto3.dynamodb.conditions import Attr

    kwargs = {"FilterExpression": Attr("GSI1PK").eq("OPEN")}''',
        "        page = table.query(**kwargs)\n        ids += [entry":
        "        page = table.scan(**kwargs)\n"
        "        page[\"Items\"].sort(key=lambda e: e[\"GSI1SK\"])\n"
        "        ids += [entry"})



def ship_order_wrong_key(lab, dynamodb, workspace):
    """The order's sort key built id first: UpdateItem creates a new item and the order stays OPEN."""
    lab.modules["solutions"].add_gsi1(dynamodb, workspace)
    workspace.install_variant("index_queries.py", "index_queries.py", {'f"ORDER#{order_date}#{order_id}"': 'f"ORDER#{order_id}#{order_date}"'})

# ---- step 5 ----------------------------------------------------------------------

def two_writes_stock_first(workspace):
    """A conditional stock update, then a conditional put: a refused put leaves the stock taken."""
    _write(workspace, "place_order.py", '''
from botocore.exceptions import ClientError


def place_order(table, customer_id, order_id, order_date, product_id, qty):
    key = {"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT"}
    product = table.get_item(Key=key)["Item"]
    try:
        table.update_item(Key=key, UpdateExpression="SET Stock = Stock - :qty", ConditionExpression="Stock >= :qty",
                          ExpressionAttributeValues={":qty": qty})
        table.put_item(Item={"PK": f"CUST#{customer_id}", "SK": f"ORDER#{order_date}#{order_id}", "Type": "Order",
                             "OrderId": order_id, "OrderDate": order_date, "Status": "OPEN", "ProductId": product_id,
                             "Qty": qty, "OrderTotal": qty * product["Price"], "GSI1PK": "OPEN",
                             "GSI1SK": f"{order_date}#{order_id}"},
                       ConditionExpression="attribute_not_exists(PK)")
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
''')


def two_writes_order_first(workspace):
    """The order put first, the stock after: a short stock leaves an order with nothing to ship."""
    _write(workspace, "place_order.py", '''
from botocore.exceptions import ClientError


def place_order(table, customer_id, order_id, order_date, product_id, qty):
    key = {"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT"}
    product = table.get_item(Key=key)["Item"]
    try:
        table.put_item(Item={"PK": f"CUST#{customer_id}", "SK": f"ORDER#{order_date}#{order_id}", "Type": "Order",
                             "OrderId": order_id, "OrderDate": order_date, "Status": "OPEN", "ProductId": product_id,
                             "Qty": qty, "OrderTotal": qty * product["Price"], "GSI1PK": "OPEN",
                             "GSI1SK": f"{order_date}#{order_id}"},
                       ConditionExpression="attribute_not_exists(PK)")
        table.update_item(Key=key, UpdateExpression="SET Stock = Stock - :qty", ConditionExpression="Stock >= :qty",
                          ExpressionAttributeValues={":qty": qty})
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
''')


def transaction_without_stock_condition(workspace):
    workspace.install_variant("place_order.py", "place_order.py", {
        '                        "ConditionExpression": "Stock >= :qty",\n': ""})


def transaction_error_escapes(workspace):
    workspace.install_variant("place_order.py", "place_order.py", {
        '        if err.response["Error"]["Code"] == "TransactionCanceledException":\n            return False\n': ""})



def transaction_cannot_sell_last_unit(workspace):
    """'Stock > :qty': off by one, an order for exactly what is left is refused."""
    workspace.install_variant("place_order.py", "place_order.py", {'"Stock >= :qty"': '"Stock > :qty"'})


def transaction_price_from_memory(workspace):
    """OrderTotal from a price typed in, not read from the product."""
    workspace.install_variant("place_order.py", "place_order.py", {'qty * product["Price"]': 'qty * 12'})

# ---- step 6 ----------------------------------------------------------------------

def stream_keys_only(dynamodb, workspace):
    dynamodb.update_table(TableName=TABLE, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    workspace.install_solution("stream_reader.py")


def _stream_on(lab, dynamodb, workspace):
    lab.modules["solutions"].enable_stream(dynamodb, workspace)


def reader_counts_every_modify(lab, dynamodb, workspace):
    """Every MODIFY taken for a shipment: a change of total counts too."""
    _stream_on(lab, dynamodb, workspace)
    workspace.install_variant("stream_reader.py", "stream_reader.py", {
        'if record["eventName"] == "MODIFY" and old == "OPEN" and new == "SHIPPED":':
        'if record["eventName"] == "MODIFY":'})


def reader_counts_inserts(lab, dynamodb, workspace):
    """Looks at the new image only: an order inserted already SHIPPED counts as shipped."""
    _stream_on(lab, dynamodb, workspace)
    workspace.install_variant("stream_reader.py", "stream_reader.py", {
        'if record["eventName"] == "MODIFY" and old == "OPEN" and new == "SHIPPED":':
        'if new == "SHIPPED" and old != "SHIPPED":'})



def reader_new_image_only(lab, dynamodb, workspace):
    """Every MODIFY whose new image says SHIPPED: a later change to a shipped order counts again."""
    _stream_on(lab, dynamodb, workspace)
    workspace.install_variant("stream_reader.py", "stream_reader.py", {
        'if record["eventName"] == "MODIFY" and old == "OPEN" and new == "SHIPPED":':
        'if record["eventName"] == "MODIFY" and new == "SHIPPED":',
        "                    if order_id not in shipped:\n                        shipped.append(order_id)":
        "                    shipped.append(order_id)"})

# ---- step 7 ----------------------------------------------------------------------

def total_by_scan(workspace):
    """Right answer, from a Scan with a filter: it pays for every item of the table."""
    _write(workspace, "capacity.py", '''
from boto3.dynamodb.conditions import Attr


def open_order_total(table):
    kwargs = {"FilterExpression": Attr("Status").eq("OPEN") & Attr("SK").begins_with("ORDER#")}
    total = 0
    while True:
        page = table.scan(**kwargs)
        total += sum(int(item["OrderTotal"]) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
''')


def total_by_scan_with_projection(workspace):
    """A Scan that asks for OrderTotal only: smaller answers, same cost."""
    _write(workspace, "capacity.py", '''
def open_order_total(table):
    client = table.meta.client
    kwargs = {"TableName": table.name, "FilterExpression": "#s = :open", "ProjectionExpression": "OrderTotal",
              "ExpressionAttributeNames": {"#s": "Status"}, "ExpressionAttributeValues": {":open": "OPEN"}}
    total = 0
    for page in client.get_paginator("scan").paginate(**kwargs):
        total += sum(int(item["OrderTotal"]) for item in page["Items"] if "OrderTotal" in item)
    return total
''')


def total_gets_each_order(workspace):
    """The index for the keys, then a GetItem per order for its total: the index already holds it."""
    _write(workspace, "capacity.py", '''
from boto3.dynamodb.conditions import Key


def open_order_total(table):
    entries = table.query(IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq("OPEN"))["Items"]
    return sum(table.get_item(Key={"PK": e["PK"], "SK": e["SK"]})["Item"]["OrderTotal"] for e in entries)
''')
