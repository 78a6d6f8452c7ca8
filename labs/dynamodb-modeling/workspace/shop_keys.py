"""Step 2: write one order item, with a sort key that sorts by date.

Write save_order(table, customer_id, order_id, order_date, total, status): put
ONE item for the order in the Shop table:

    PK          "CUST#<customer_id>"                 e.g. "CUST#c100"
    SK          "ORDER#<order_date>#<order_id>"      e.g. "ORDER#2026-11-28#1030"
    Type        "Order"
    OrderId, OrderDate (the "yyyy-mm-dd" string), Status, OrderTotal (a number)

and, ONLY while the order is OPEN, the keys of the index you add in step 4:

    GSI1PK      "OPEN"
    GSI1SK      "<order_date>#<order_id>"

A shipped order has no GSI1PK and no GSI1SK at all: that is what keeps the
index sparse (it holds open orders only).

order_date is already "yyyy-mm-dd": keep it that way. Sort keys compare as
strings, character by character, so only a date written year first sorts in
time order.
"""


def save_order(table, customer_id, order_id, order_date, total, status):
    """Put the order item; return nothing.

    table       -- a boto3 DynamoDB Table resource (Shop)
    customer_id -- e.g. "c100";  order_id -- e.g. "1030"
    order_date  -- e.g. "2026-11-28";  total -- an int;  status -- "OPEN" or "SHIPPED"
    """
    raise NotImplementedError("save_order() is not written yet: write it in shop_keys.py (step 2)")


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
