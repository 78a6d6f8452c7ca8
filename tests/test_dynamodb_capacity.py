"""The DynamoDB capacity meter (checks/dynamodb_capacity.py).

The unit rules are tested against the examples AWS gives in its Developer Guide, each test
naming its page; the recorder is tested on a real moto server (started by the local runtime,
as `labrunner run --runtime local` starts it), with boto3's resource and client, so that the
sizes it reads back and the units it charges come from requests that really ran.
"""

from __future__ import annotations

import base64

import pytest

from labrunner.checks import dynamodb_capacity as cap

KB = 1024


# ---- item sizes -----------------------------------------------------------------------

def test_item_size_is_names_plus_values():
    """AWS Developer Guide, "DynamoDB item sizes and formats" (CapacityUnitCalculations.html,
    checked November 2026): an item's size is the sum of its attribute names' and values'
    lengths; strings are UTF-8 bytes, binary its raw bytes, booleans and null 1 byte."""
    item = {"shirtColor": {"S": "R"}, "shirtSize": {"S": "M"}}
    assert cap.item_size(item) == len("shirtColor") + 1 + len("shirtSize") + 1 == 21
    assert cap.item_size({"név": {"S": "Ödön"}}) == 4 + 6           # UTF-8 bytes, not characters
    assert cap.item_size({"b": {"B": base64.b64encode(b"\x00" * 10).decode()}}) == 1 + 10
    assert cap.item_size({"ok": {"BOOL": True}, "n": {"NULL": True}}) == 2 + 1 + 1 + 1


def test_number_size_one_byte_per_two_significant_digits_plus_one():
    """Same page: a number is about 1 byte per two significant digits, plus 1; leading and
    trailing zeros do not count."""
    assert cap.number_size("7") == 2
    assert cap.number_size("12") == 2
    assert cap.number_size("123") == 3
    assert cap.number_size("1000000") == 2            # one significant digit
    assert cap.number_size("-0.00125") == 3           # 125
    assert cap.number_size("12345678901234567890123456789012345678") == 20


def test_list_and_map_have_three_bytes_plus_one_per_element():
    """Same page: a List or Map needs 3 bytes of overhead plus 1 byte per element; an empty one
    is 3 bytes."""
    assert cap.value_size({"L": []}) == 3
    assert cap.value_size({"M": {}}) == 3
    assert cap.value_size({"L": [{"S": "ab"}, {"N": "5"}]}) == 3 + (1 + 2) + (1 + 2)
    assert cap.value_size({"M": {"k": {"S": "ab"}}}) == 3 + 1 + 1 + 2
    assert cap.value_size({"SS": ["ab", "c"]}) == 3


# ---- read units ---------------------------------------------------------------------------

def test_reads_strong_eventual_and_transactional():
    """AWS Developer Guide, "DynamoDB read and write operations" (read-write-operations.html,
    checked November 2026): an item up to 4 KB costs 1 unit strongly consistent, half eventually
    consistent, 2 transactional; an 8 KB item 2, 1 and 4; a 3,500-byte item costs as 4 KB."""
    assert cap.read_units(4 * KB, consistent=True) == 1
    assert cap.read_units(4 * KB) == 0.5
    assert cap.read_units(4 * KB, transactional=True) == 2
    assert cap.read_units(8 * KB, consistent=True) == 2
    assert cap.read_units(8 * KB) == 1
    assert cap.read_units(8 * KB, transactional=True) == 4
    assert cap.read_units(3500, consistent=True) == cap.read_units(4 * KB, consistent=True)


def test_getitem_rounds_each_item_up_to_4kb():
    """Same page, GetItem: a 3.5 KB item is rounded to 4 KB, a 10 KB one to 12 KB."""
    assert cap.read_units(int(3.5 * KB), consistent=True) == 1
    assert cap.read_units(10 * KB, consistent=True) == 3


def test_batch_get_rounds_each_item_query_rounds_the_sum():
    """Same page: BatchGetItem reading 1.5 KB and 6.5 KB items counts 12 KB (4 + 8), not 8 KB; a
    Query returning 10 items of 40.8 KB in all counts 44 KB (rounded once), and 1,500 items of
    64 bytes count 96 KB."""
    batch = cap.meter([{"operation": "BatchGetItem", "tables": ["T"], "consistent": True,
                        "sizes": [int(1.5 * KB), int(6.5 * KB)]}])[0]
    assert batch.rcu == 12 // 4
    query = cap.meter([{"operation": "Query", "table": "T", "consistent": True,
                        "pages": [[int(40.8 * KB / 10)] * 10]}])[0]
    assert query.rcu == 44 // 4
    many = cap.meter([{"operation": "Query", "table": "T", "consistent": True, "pages": [[64] * 1500]}])[0]
    assert many.rcu == 96 // 4
    assert cap.meter([{"operation": "Query", "table": "T", "pages": [[64] * 1500]}])[0].rcu == 12


def test_transact_get_costs_two_units_per_4kb_item():
    """Same page: a transactional read costs 2 units per 4 KB of each item."""
    charge = cap.meter([{"operation": "TransactGetItems", "tables": ["T"], "sizes": [100, 5 * KB]}])[0]
    assert charge.rcu == 2 + 4


# ---- write units -----------------------------------------------------------------------------

def test_writes_one_unit_per_kb_transactional_two():
    """Same page: a write of an item up to 1 KB costs 1 unit, a 1.5 KB item 2; a transactional
    write costs 2 units per KB. UpdateItem is charged on the larger of before and after."""
    assert cap.write_units(KB) == 1
    assert cap.write_units(int(1.5 * KB)) == 2
    assert cap.write_units(int(1.5 * KB), transactional=True) == 4
    big, small = {"a": {"S": "x" * 2000}}, {"a": {"S": "x"}}
    update = {"operation": "UpdateItem", "writes": [{"action": "update", "table": "T", "table_keys": ["a"],
                                                      "indexes": [], "before": big, "after": small}]}
    assert cap.meter([update])[0].wcu == 2
    tx = dict(update, operation="TransactWriteItems")
    assert cap.meter([tx])[0].wcu == 4


def test_index_writes_follow_the_entry_and_skip_items_without_its_keys():
    """AWS Developer Guide, "Provisioned throughput considerations for Global Secondary
    Indexes": an index pays for a write only when the item's entry in it changes; changing an
    index key attribute is two writes (delete the old entry, put the new one)."""
    index = {"IndexName": "GSI1", "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}}

    def charge(before, after):
        return cap.meter([{"operation": "PutItem", "writes": [
            {"action": "put", "table": "T", "table_keys": ["PK"], "indexes": [index],
             "before": before, "after": after}]}])[0]

    plain = {"PK": {"S": "a"}, "Body": {"S": "x" * 3000}}
    assert charge(None, plain).index_wcu == {}                               # no G: sparse
    assert charge(None, dict(plain, G={"S": "open"})).index_wcu == {"GSI1": 1}
    assert charge(dict(plain, G={"S": "open"}), dict(plain, G={"S": "done"})).index_wcu == {"GSI1": 2}
    assert charge(dict(plain, G={"S": "open"}), plain).index_wcu == {"GSI1": 1}  # entry deleted
    changed_body = dict(plain, G={"S": "open"}, Body={"S": "y"})
    assert charge(dict(plain, G={"S": "open"}), changed_body).index_wcu == {}  # KEYS_ONLY entry unchanged
    assert charge(None, dict(plain, G={"S": "open"})).wcu == 3               # the 2.9 KB table item


def test_index_entry_keeps_keys_and_projected_attributes():
    index = {"IndexName": "I", "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["OrderTotal"]}}
    item = {"PK": {"S": "a"}, "SK": {"S": "b"}, "G": {"S": "g"}, "OrderTotal": {"N": "5"}, "Notes": {"S": "z" * 900}}
    assert cap.index_entry(item, index, ["PK", "SK"]) == {k: item[k] for k in ("PK", "SK", "G", "OrderTotal")}
    assert cap.index_entry({"PK": {"S": "a"}}, index, ["PK"]) is None


# ---- the recorder on a real moto server ------------------------------------------------------

@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    from labrunner import runtimes
    from labrunner.runtimes.base import wait_ready
    from labrunner.services import dynamodb

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABRUNNER_HOME", str(tmp_path_factory.mktemp("meter-home")))
        runtime = runtimes.get("local")
        state = runtime.launch(dynamodb.SERVICE, lab_id="meter-test", session_id="meter", port=None)
        try:
            yield wait_ready(runtime, dynamodb.SERVICE, state)
        finally:
            runtime.remove(state)


@pytest.fixture
def shop(endpoint):
    from labrunner.services import dynamodb

    ddb = dynamodb.client(endpoint)
    for name in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=name)
    ddb.create_table(
        TableName="Shop", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "GSI1PK", "GSI1SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "GSI1", "KeySchema": [
            {"AttributeName": "GSI1PK", "KeyType": "HASH"}, {"AttributeName": "GSI1SK", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["OrderTotal"]}}])
    table = dynamodb.resource(endpoint).Table("Shop")
    for n in range(6):
        item = {"PK": "CUST#1", "SK": f"ORDER#2026-11-0{n + 1}#{n}", "OrderTotal": n, "Notes": "n" * 3000}
        if n % 2 == 0:
            item.update(GSI1PK="OPEN", GSI1SK=f"2026-11-0{n + 1}#{n}")
        table.put_item(Item=item)
    return table


def _low(table):
    """A low-level client (typed DynamoDB JSON) on the table's endpoint."""
    from labrunner.services import dynamodb

    return __import__("boto3").client("dynamodb", endpoint_url=table.meta.client.meta.endpoint_url,
                                      region_name=dynamodb.REGION, aws_access_key_id=dynamodb.ACCESS_KEY,
                                      aws_secret_access_key=dynamodb.SECRET_KEY)


@pytest.mark.local
def test_recorder_meters_scan_against_gsi_query(shop):
    """A Scan with a filter pays for every item it reads: 6 orders of about 3 KB, 17.9 KB in all,
    rounded up once to 20 KB, 2.5 units eventually consistent (a ProjectionExpression does not
    change that); the same answer from the sparse GSI with a narrow projection reads 3 small
    entries: half a unit."""
    from boto3.dynamodb.conditions import Attr, Key

    with cap.Recorder() as recorder:
        scanned = shop.scan(FilterExpression=Attr("GSI1PK").eq("OPEN"), ProjectionExpression="OrderTotal")["Items"]
        queried = shop.query(IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq("OPEN"))["Items"]
    assert sorted(i["OrderTotal"] for i in scanned) == sorted(i["OrderTotal"] for i in queried) == [0, 2, 4]
    scan, query = cap.meter(recorder.records)
    sizes = [cap.item_size(i) for i in _low(shop).scan(TableName="Shop")["Items"]]
    assert len(sizes) == 6 and all(s > 3000 for s in sizes)
    assert scan.rcu == cap.read_units(sum(sizes)) and scan.rcu >= 2
    assert "read 6 items" in scan.detail and "3 returned" in scan.detail
    assert query.target == "Shop/GSI1" and query.rcu == 0.5 and "read 3 index entries" in query.detail
    assert "RCU" in cap.report([scan, query])


@pytest.mark.local
def test_recorder_meters_writes_transactions_and_failed_conditions(shop):
    """Through the low-level client: a put into the sparse index costs the index a write, one
    without GSI1PK does not; a transaction is charged double; a refused conditional put is charged
    on the item it left alone; a strongly consistent GetItem costs a whole unit."""
    low = _low(shop)
    with cap.Recorder() as recorder:
        low.put_item(TableName="Shop", Item={"PK": {"S": "P#1"}, "SK": {"S": "STOCK"}, "Stock": {"N": "3"}})
        low.put_item(TableName="Shop", Item={"PK": {"S": "O#9"}, "SK": {"S": "ORDER"}, "GSI1PK": {"S": "OPEN"},
                                             "GSI1SK": {"S": "x"}, "OrderTotal": {"N": "5"}})
        low.transact_write_items(TransactItems=[
            {"Update": {"TableName": "Shop", "Key": {"PK": {"S": "P#1"}, "SK": {"S": "STOCK"}},
                        "UpdateExpression": "SET Stock = Stock - :q", "ConditionExpression": "Stock >= :q",
                        "ExpressionAttributeValues": {":q": {"N": "1"}}}},
            {"Put": {"TableName": "Shop", "Item": {"PK": {"S": "O#10"}, "SK": {"S": "ORDER"}}}}])
        with pytest.raises(low.exceptions.ConditionalCheckFailedException):
            low.put_item(TableName="Shop", Item={"PK": {"S": "P#1"}, "SK": {"S": "STOCK"}},
                         ConditionExpression="attribute_not_exists(PK)")
        low.get_item(TableName="Shop", Key={"PK": {"S": "CUST#1"}, "SK": {"S": "ORDER#2026-11-01#0"}},
                     ConsistentRead=True)
    plain, indexed, tx, refused, get = cap.meter(recorder.records)
    assert (plain.wcu, plain.index_wcu) == (1, {})
    assert "no entry in GSI1: sparse" in plain.detail
    assert (indexed.wcu, indexed.index_wcu) == (1, {"GSI1": 1})
    assert tx.wcu == 4 and "transactional" in tx.detail
    assert refused.wcu == 1 and "refused" in refused.detail
    assert get.rcu == 1
    assert low.get_item(TableName="Shop", Key={"PK": {"S": "P#1"}, "SK": {"S": "STOCK"}})["Item"]["Stock"] == {"N": "2"}


@pytest.mark.local
def test_a_client_outliving_a_recorder_is_metered_by_the_next(shop):
    """A check's own client is used under several Recorders in one process: the second must
    still see the wire requests (a first version bound its botocore handlers to the first
    Recorder, and the second recorded 'not metered')."""
    from boto3.dynamodb.conditions import Key

    for _ in range(2):
        with cap.Recorder() as recorder:
            shop.query(KeyConditionExpression=Key("PK").eq("CUST#1"))
        (charge,) = cap.meter(recorder.records)
        assert "meter_error" not in recorder.records[0], recorder.records[0]
        assert charge.rcu == 2.5 and "read 6 items" in charge.detail


@pytest.mark.local
def test_the_meter_leaves_the_learners_answers_alone(shop):
    """What the function sees is what it would see without the meter: the same items, and the
    same exception for a refused write."""
    from botocore.exceptions import ClientError

    plain = shop.get_item(Key={"PK": "CUST#1", "SK": "ORDER#2026-11-01#0"})["Item"]
    with cap.Recorder():
        metered = shop.get_item(Key={"PK": "CUST#1", "SK": "ORDER#2026-11-01#0"})["Item"]
        with pytest.raises(ClientError) as refused:
            shop.put_item(Item={"PK": "CUST#1", "SK": "ORDER#2026-11-01#0"},
                          ConditionExpression="attribute_not_exists(PK)")
    assert metered == plain
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
