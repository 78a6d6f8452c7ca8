"""Step 6: read the table's change stream.

Write shipped_from_stream(table): the OrderId of every order that the stream
shows going from Status "OPEN" to "SHIPPED", in stream order, each once.

- The stream's ARN: table.latest_stream_arn (None until the stream is on).
- A streams client on the same endpoint as the table:
      streams = boto3.client("dynamodbstreams",
                             endpoint_url=table.meta.client.meta.endpoint_url,
                             region_name=table.meta.client.meta.region_name)
- describe_stream(StreamArn=arn)["StreamDescription"]["Shards"] lists the
  shards; for each, get_shard_iterator(..., ShardIteratorType="TRIM_HORIZON")
  starts at its oldest record, and get_records(ShardIterator=it) returns
  "Records" and a "NextShardIterator": keep calling until a call returns no
  records.
- A record's eventName is INSERT, MODIFY or REMOVE; record["dynamodb"] holds
  "OldImage" and "NewImage" in DynamoDB JSON: {"Status": {"S": "OPEN"}, ...}.
"""

import boto3  # noqa: F401 (you will need it)


def shipped_from_stream(table):
    raise NotImplementedError("shipped_from_stream() is not written yet: write it in stream_reader.py (step 6)")


if __name__ == "__main__":
    import os

    import boto3

    if not (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")):
        raise SystemExit("No local endpoint is set, so this would talk to real AWS.\n"
                         'Run  eval "$(labrunner env)"  first (PowerShell:'
                         "  labrunner env --shell powershell | Invoke-Expression).")
    shop = boto3.resource("dynamodb").Table("Shop")
    print(shipped_from_stream(shop))
