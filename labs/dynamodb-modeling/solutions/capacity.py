"""Step 7: the same answer for less capacity (reference solution)."""

from boto3.dynamodb.conditions import Key


def open_order_total(table):
    kwargs = {"IndexName": "GSI1", "KeyConditionExpression": Key("GSI1PK").eq("OPEN")}
    total = 0
    while True:
        page = table.query(**kwargs)
        total += sum(int(entry["OrderTotal"]) for entry in page["Items"])
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


if __name__ == "__main__":
    import os

    import boto3

    if not (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")):
        raise SystemExit("No local endpoint is set, so this would talk to real AWS.\n"
                         'Run  eval "$(labrunner env)"  first (PowerShell:'
                         "  labrunner env --shell powershell | Invoke-Expression).")
    shop = boto3.resource("dynamodb").Table("Shop")
    print(open_order_total(shop))
