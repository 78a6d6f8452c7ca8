"""Step 6: read the table's change stream (reference solution)."""

import boto3


def shipped_from_stream(table):
    meta = table.meta.client.meta
    streams = boto3.client("dynamodbstreams", endpoint_url=meta.endpoint_url, region_name=meta.region_name)
    arn = table.latest_stream_arn
    shipped = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            for record in page["Records"]:
                change = record["dynamodb"]
                old = change.get("OldImage", {}).get("Status", {}).get("S")
                new = change.get("NewImage", {}).get("Status", {}).get("S")
                if record["eventName"] == "MODIFY" and old == "OPEN" and new == "SHIPPED":
                    order_id = change["NewImage"]["OrderId"]["S"]
                    if order_id not in shipped:
                        shipped.append(order_id)
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return shipped


if __name__ == "__main__":
    import os

    import boto3

    if not (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")):
        raise SystemExit("No local endpoint is set, so this would talk to real AWS.\n"
                         'Run  eval "$(labrunner env)"  first (PowerShell:'
                         "  labrunner env --shell powershell | Invoke-Expression).")
    shop = boto3.resource("dynamodb").Table("Shop")
    print(shipped_from_stream(shop))
