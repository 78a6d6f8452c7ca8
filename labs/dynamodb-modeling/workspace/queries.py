"""Step 3: two access patterns, each one Query on the table's key.

orders_of(table, customer_id, start_date, end_date)
    The OrderId of each of the customer's orders dated start_date..end_date
    (both included, "yyyy-mm-dd"), NEWEST FIRST. One Query:
        PK = "CUST#<customer_id>" AND SK BETWEEN "ORDER#<start>" AND "ORDER#<end>#~"
    ("~" sorts after every digit, so every order of end_date is inside), with
    ScanIndexForward=False for newest first. The customer's PROFILE item shares
    the partition: the sort key condition keeps it out.

order_lines(table, order_id)
    The lines of one order as [{"ProductId": ..., "Qty": int}, ...], in
    sort-key order. One Query: PK = "ORDER#<order_id>" AND begins_with(SK, "LINE#").
"""

from boto3.dynamodb.conditions import Key  # noqa: F401 (you will need it)


def orders_of(table, customer_id, start_date, end_date):
    raise NotImplementedError("orders_of() is not written yet: write it in queries.py (step 3)")


def order_lines(table, order_id):
    raise NotImplementedError("order_lines() is not written yet: write it in queries.py (step 3)")


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
