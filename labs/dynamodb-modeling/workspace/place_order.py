"""Step 5: place an order as one transaction: stock and order change together, or not at all.

Write place_order(table, customer_id, order_id, order_date, product_id, qty):
ONE TransactWriteItems call (table.meta.client.transact_write_items) with two
actions:

  1. Update the product  PK="PRODUCT#<product_id>", SK="PRODUCT":
       UpdateExpression     "SET Stock = Stock - :qty"
       ConditionExpression  "Stock >= :qty"        (never sell what is not there)
  2. Put the order       PK="CUST#<customer_id>", SK="ORDER#<order_date>#<order_id>"
     with Type "Order", OrderId, OrderDate, Status "OPEN", ProductId, Qty,
     OrderTotal = qty * the product's Price (read the product first with
     get_item to learn its Price), and the open-order index keys
     GSI1PK "OPEN", GSI1SK "<order_date>#<order_id>";
       ConditionExpression  "attribute_not_exists(PK)" (an order id is placed once)

If either condition fails DynamoDB cancels the whole transaction and raises
TransactionCanceledException: nothing changed. Catch that one error and
return False; return True when the order was placed.

table.meta.client is the Table's own client: it takes plain Python values
(ints, strings), as the Table does, with the TableName in each action.
"""

from botocore.exceptions import ClientError  # noqa: F401 (you will need it)


def place_order(table, customer_id, order_id, order_date, product_id, qty):
    raise NotImplementedError("place_order() is not written yet: write it in place_order.py (step 5)")


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
