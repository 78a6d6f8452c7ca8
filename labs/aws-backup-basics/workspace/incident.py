"""The incident of this lab. Run it once, after step 4's backup has COMPLETED:

    python incident.py

A clean-up script with a bad filter deletes a handful of orders from Orders (different ones on
every run). Before and after it, the shop goes on: a few orders ship (their status changes)
and new orders arrive. None of that is in your backup, and all of it must survive your repair.
What happened is written to incident.log beside this file. labrunner keeps its own record in
the bucket shop-lab-truth, for `labrunner check`: leave that bucket alone.
"""

import json
import random
import secrets
import sys
from decimal import Decimal
from pathlib import Path

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

TABLE, VAULT, TRUTH = "Orders", "shop-vault", "shop-lab-truth"


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def happen(dynamodb=None, s3=None, backup=None, rng=None, log_dir=None, say=print):
    dynamodb = dynamodb or boto3.client("dynamodb")
    s3 = s3 or boto3.client("s3")
    backup = backup or boto3.client("backup")
    rng = rng or random.Random(secrets.randbits(64))
    if any(b["Name"] == TRUTH for b in s3.list_buckets()["Buckets"]):
        sys.exit("The incident has happened already (see incident.log): repair it.")
    table_arn = dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    points = backup.list_recovery_points_by_resource(ResourceArn=table_arn)["RecoveryPoints"]
    if not any(p["Status"] == "COMPLETED" for p in points):
        sys.exit("There is no COMPLETED backup of Orders yet: finish step 4 first.")
    to_dynamodb, from_dynamodb = TypeSerializer().serialize, TypeDeserializer().deserialize

    def scan():
        found = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
            found += [{k: from_dynamodb(v) for k, v in item.items()} for item in page["Items"]]
        return sorted(found, key=lambda i: i["order_id"])

    items = scan()
    picked = rng.sample(items, rng.randint(5, 8) + 3)
    lost, shipped = picked[:-3], picked[-3:]
    for order in shipped:                      # shipped after the backup: the new status must stay
        dynamodb.update_item(TableName=TABLE, Key={"order_id": {"S": order["order_id"]}},
                             UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":s": {"S": "shipped"}})
    for order in lost:                         # the bad clean-up
        dynamodb.delete_item(TableName=TABLE, Key={"order_id": {"S": order["order_id"]}})
    arrived = []
    for _ in range(rng.randint(3, 5)):         # new orders after the incident: not in any backup
        order = {"order_id": f"o-{rng.randrange(16**6):06x}", "customer": "New Customer", "status": "paid",
                 "total": Decimal(rng.randint(500, 9000)) / 100, "lines": [{"product": "mug", "qty": 1}]}
        dynamodb.put_item(TableName=TABLE, Item={k: to_dynamodb(v) for k, v in order.items()})
        arrived.append(order)
    expected = {i["order_id"]: _plain(i) for i in scan()}
    for order in lost:
        expected[order["order_id"]] = _plain(order)
    s3.create_bucket(Bucket=TRUTH)
    s3.put_object(Bucket=TRUTH, Key="incident.json", Body=json.dumps({
        "lost": [o["order_id"] for o in lost], "shipped": [o["order_id"] for o in shipped],
        "arrived": [o["order_id"] for o in arrived], "expected": expected}))
    lines = ["The clean-up script deleted these orders:"] + [f"  {o['order_id']}" for o in lost]
    lines += ["These orders shipped after your backup (status is now 'shipped'):"]
    lines += [f"  {o['order_id']}" for o in shipped]
    lines += ["These orders arrived after the clean-up:"] + [f"  {o['order_id']}" for o in arrived]
    log = Path(log_dir or Path(__file__).parent) / "incident.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    say(f"Incident: {len(lost)} orders deleted from {TABLE}; {len(shipped)} shipped and {len(arrived)} new "
          f"orders since your backup. The record is in {log}.")


if __name__ == "__main__":
    happen()
