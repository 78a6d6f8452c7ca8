"""Step 2: write one order item, with a sort key that sorts by date (reference solution)."""


def save_order(table, customer_id, order_id, order_date, total, status):
    item = {"PK": f"CUST#{customer_id}", "SK": f"ORDER#{order_date}#{order_id}", "Type": "Order",
            "OrderId": order_id, "OrderDate": order_date, "Status": status, "OrderTotal": total}
    if status == "OPEN":
        item["GSI1PK"] = "OPEN"
        item["GSI1SK"] = f"{order_date}#{order_id}"
    table.put_item(Item=item)


if __name__ == "__main__":
    import os

    import boto3

    if not (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")):
        raise SystemExit("No local endpoint is set, so this would talk to real AWS.\n"
                         'Run  eval "$(labrunner env)"  first (PowerShell:'
                         "  labrunner env --shell powershell | Invoke-Expression).")
    shop = boto3.resource("dynamodb").Table("Shop")
    save_order(shop, "c100", "1099", "2026-11-30", 9, "OPEN")
    print(shop.get_item(Key={"PK": "CUST#c100", "SK": "ORDER#2026-11-30#1099"}).get("Item"))
