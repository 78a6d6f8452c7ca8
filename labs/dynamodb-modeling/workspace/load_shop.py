"""Step 2: load the shop into the one table, Shop.

    python load_shop.py        (after  eval "$(labrunner env)")

Read it first: it is the lab's data model, written down. Four kinds of item share
the table, told apart by their keys (and a Type attribute, for people reading it):

    item         PK                  SK                          other attributes
    customer     CUST#<id>           PROFILE                     Name, Email, GSI1PK=EMAIL#<email>, GSI1SK=PROFILE
    order        CUST#<id>           ORDER#<yyyy-mm-dd>#<order>  OrderId, OrderDate, Status, OrderTotal (+ GSI1 keys when OPEN)
    order line   ORDER#<order>       LINE#<product>              ProductId, Qty, Price
    product      PRODUCT#<id>        PRODUCT                     Name, Price, Stock

Orders are written by YOUR save_order (shop_keys.py); everything else here.
"""

import json
import os
from pathlib import Path

import boto3

from shop_keys import save_order

DATA = Path(__file__).resolve().parent / "shop.json"


def load(table, path=DATA):
    shop = json.loads(path.read_text(encoding="utf-8"))
    with table.batch_writer() as batch:
        for c in shop["customers"]:
            batch.put_item(Item={"PK": f"CUST#{c['CustomerId']}", "SK": "PROFILE", "Type": "Customer",
                                 "Name": c["Name"], "Email": c["Email"],
                                 # the overloaded index (step 4): look a customer up by email
                                 "GSI1PK": f"EMAIL#{c['Email']}", "GSI1SK": "PROFILE"})
        for p in shop["products"]:
            batch.put_item(Item={"PK": f"PRODUCT#{p['ProductId']}", "SK": "PRODUCT", "Type": "Product",
                                 "Name": p["Name"], "Price": p["Price"], "Stock": p["Stock"]})
        for o in shop["orders"]:
            for product, qty, price in o["Lines"]:
                batch.put_item(Item={"PK": f"ORDER#{o['OrderId']}", "SK": f"LINE#{product}", "Type": "OrderLine",
                                     "ProductId": product, "Qty": qty, "Price": price})
    for o in shop["orders"]:
        save_order(table, o["CustomerId"], o["OrderId"], o["OrderDate"], o["OrderTotal"], o["Status"])
    return shop


if __name__ == "__main__":
    if not (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")):
        raise SystemExit("No local endpoint is set, so this would talk to real AWS.\n"
                         'Run  eval "$(labrunner env)"  first (PowerShell:'
                         "  labrunner env --shell powershell | Invoke-Expression).")
    shop_table = boto3.resource("dynamodb").Table("Shop")
    shop = load(shop_table)
    print(f"Loaded {len(shop['customers'])} customers, {len(shop['products'])} products, "
          f"{len(shop['orders'])} orders and their lines.")
