"""Step 3: two access patterns, each one Query on the table's key (reference solution)."""

from boto3.dynamodb.conditions import Key


def orders_of(table, customer_id, start_date, end_date):
    kwargs = {"KeyConditionExpression": Key("PK").eq(f"CUST#{customer_id}")
              & Key("SK").between(f"ORDER#{start_date}", f"ORDER#{end_date}#~"),
              "ScanIndexForward": False}
    ids = []
    while True:
        page = table.query(**kwargs)
        ids += [item["OrderId"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return ids
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def order_lines(table, order_id):
    page = table.query(KeyConditionExpression=Key("PK").eq(f"ORDER#{order_id}") & Key("SK").begins_with("LINE#"))
    return [{"ProductId": item["ProductId"], "Qty": int(item["Qty"])} for item in page["Items"]]


if __name__ == "__main__":
    import os

    import boto3

    if not (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")):
        raise SystemExit("No local endpoint is set, so this would talk to real AWS.\n"
                         'Run  eval "$(labrunner env)"  first (PowerShell:'
                         "  labrunner env --shell powershell | Invoke-Expression).")
    shop = boto3.resource("dynamodb").Table("Shop")
    print(orders_of(shop, "c100", "2026-09-01", "2026-11-30"))   # ['1030', '1012', '1001']
    print(order_lines(shop, "1027"))
