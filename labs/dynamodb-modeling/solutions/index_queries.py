"""Step 4: one index, two questions (GSI1 is overloaded), and a sparse index (reference solution)."""

from boto3.dynamodb.conditions import Key


def open_orders(table):
    kwargs = {"IndexName": "GSI1", "KeyConditionExpression": Key("GSI1PK").eq("OPEN")}
    ids = []
    while True:
        page = table.query(**kwargs)
        ids += [entry["SK"].rsplit("#", 1)[1] for entry in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return ids
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def customer_by_email(table, email):
    page = table.query(IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq(f"EMAIL#{email}"))
    for entry in page["Items"]:
        return entry["PK"].split("#", 1)[1]
    return None


def ship_order(table, customer_id, order_date, order_id):
    table.update_item(Key={"PK": f"CUST#{customer_id}", "SK": f"ORDER#{order_date}#{order_id}"},
                      UpdateExpression="SET #s = :shipped REMOVE GSI1PK, GSI1SK",
                      ConditionExpression="attribute_exists(PK)",
                      ExpressionAttributeNames={"#s": "Status"},
                      ExpressionAttributeValues={":shipped": "SHIPPED"})


if __name__ == "__main__":
    import os

    import boto3

    if not (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")):
        raise SystemExit("No local endpoint is set, so this would talk to real AWS.\n"
                         'Run  eval "$(labrunner env)"  first (PowerShell:'
                         "  labrunner env --shell powershell | Invoke-Expression).")
    shop = boto3.resource("dynamodb").Table("Shop")
    print(open_orders(shop))                        # ['1019', '1027', '1030']
    print(customer_by_email(shop, "aiko@example.com"))   # c300
