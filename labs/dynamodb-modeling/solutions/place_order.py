"""Step 5: place an order as one transaction (reference solution)."""

from botocore.exceptions import ClientError


def place_order(table, customer_id, order_id, order_date, product_id, qty):
    product_key = {"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT"}
    product = table.get_item(Key=product_key).get("Item")
    if product is None:
        return False
    try:
        table.meta.client.transact_write_items(TransactItems=[
            {"Update": {"TableName": table.name, "Key": product_key,
                        "UpdateExpression": "SET Stock = Stock - :qty",
                        "ConditionExpression": "Stock >= :qty",
                        "ExpressionAttributeValues": {":qty": qty}}},
            {"Put": {"TableName": table.name,
                     "Item": {"PK": f"CUST#{customer_id}", "SK": f"ORDER#{order_date}#{order_id}", "Type": "Order",
                              "OrderId": order_id, "OrderDate": order_date, "Status": "OPEN",
                              "ProductId": product_id, "Qty": qty, "OrderTotal": qty * product["Price"],
                              "GSI1PK": "OPEN", "GSI1SK": f"{order_date}#{order_id}"},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
        ])
    except ClientError as err:
        if err.response["Error"]["Code"] == "TransactionCanceledException":
            return False
        raise
    return True


if __name__ == "__main__":
    import os

    import boto3

    if not (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")):
        raise SystemExit("No local endpoint is set, so this would talk to real AWS.\n"
                         'Run  eval "$(labrunner env)"  first (PowerShell:'
                         "  labrunner env --shell powershell | Invoke-Expression).")
    shop = boto3.resource("dynamodb").Table("Shop")
    print(place_order(shop, "c300", "1040", "2026-11-30", "p-tea", 2))   # True: 3 in stock
    print(place_order(shop, "c300", "1041", "2026-11-30", "p-tea", 2))   # False: 1 left
