"""Open the shop of this lab. Run it once, after `eval "$(labrunner env)"`:

    python shop.py

It creates the shop's DynamoDB table `Orders` (one item per order) and its S3 bucket
`shop-invoices` (one JSON invoice per order), with orders made up for this run: every
learner's shop is different. Running it again changes nothing.
"""

import json
import random
import secrets
from decimal import Decimal

import boto3
from boto3.dynamodb.types import TypeSerializer

TABLE, BUCKET = "Orders", "shop-invoices"
CUSTOMERS = ["Amara Okafor", "Bjorn Lund", "Chen Wei", "Dara Walsh", "Emeka Obi", "Farah Haddad",
             "Goran Petrov", "Hana Sato", "Ines Duarte", "Jonas Berg", "Kavya Rao", "Lena Novak"]
PRODUCTS = ["teapot", "mug", "kettle", "tea tin", "strainer", "tray", "cosy", "honey jar"]


def open_shop(dynamodb=None, s3=None, rng=None, say=print):
    dynamodb = dynamodb or boto3.client("dynamodb")
    s3 = s3 or boto3.client("s3")
    rng = rng or random.Random(secrets.randbits(64))
    if TABLE in dynamodb.list_tables()["TableNames"]:
        say(f"The shop is open already: table {TABLE} exists.")
        return
    dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}])
    dynamodb.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    s3.create_bucket(Bucket=BUCKET)
    to_dynamodb = TypeSerializer().serialize
    count = rng.randint(30, 45)
    for _ in range(count):
        order_id = f"o-{rng.randrange(16**6):06x}"
        lines = [{"product": p, "qty": rng.randint(1, 4)} for p in rng.sample(PRODUCTS, rng.randint(1, 3))]
        total = Decimal(rng.randint(500, 25000)) / 100
        order = {"order_id": order_id, "customer": rng.choice(CUSTOMERS), "status": "paid",
                 "total": total, "lines": lines}
        dynamodb.put_item(TableName=TABLE, Item={k: to_dynamodb(v) for k, v in order.items()})
        invoice = dict(order, total=str(total))
        s3.put_object(Bucket=BUCKET, Key=f"invoices/{order_id}.json", Body=json.dumps(invoice, indent=1),
                      ContentType="application/json")
    say(f"The shop is open: {count} orders in table {TABLE}, one invoice each in bucket {BUCKET}.")


if __name__ == "__main__":
    open_shop()
