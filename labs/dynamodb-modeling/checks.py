"""Checks for dynamodb-modeling. Each reads the live engine; none reads the learner's text.

Fixtures: dynamodb (boto3 client), dynamodb_resource, answer (runs a function from the
learner's workspace in a child process), lab_dir.

The learner's access patterns are called through the answer runner against data each check
seeds with fresh ids (so a hard-coded answer fails), and removed afterwards. Where a step
teaches how (a Query, not a Scan; one transaction, not two writes; a cheap read), the check
also watches the calls the function made: the answer runner's list of operations, or, for
PartiQL statements and capacity, labrunner's capacity meter run around the function in the
answer runner's child (_probe_metered at the end of this file).
"""

import os
import secrets

from labrunner.checks import expect, fail

TABLE = "Shop"
INDEX = "GSI1"
TYPE_WORDS = {"S": "string", "N": "number", "B": "binary"}


# ---- helpers -------------------------------------------------------------------

def _describe(dynamodb):
    try:
        return dynamodb.describe_table(TableName=TABLE)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        fail("there is no table named 'Shop' yet — step 1 creates it")


def _table(dynamodb_resource):
    _describe(dynamodb_resource.meta.client)
    return dynamodb_resource.Table(TABLE)


def _token():
    return secrets.token_hex(3)


def _seed(table, items):
    with table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)


def _unseed(table, keys):
    with table.batch_writer() as batch:
        for key in keys:
            batch.delete_item(Key={"PK": key["PK"], "SK": key["SK"]})


def _partition(table, pk):
    from boto3.dynamodb.conditions import Key

    items, kwargs = [], {"KeyConditionExpression": Key("PK").eq(pk), "ConsistentRead": True}
    while True:
        page = table.query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _order(customer, order_id, date, total, status="OPEN", **extra):
    item = {"PK": f"CUST#{customer}", "SK": f"ORDER#{date}#{order_id}", "Type": "Order", "OrderId": order_id,
            "OrderDate": date, "Status": status, "OrderTotal": total, **extra}
    if status == "OPEN":
        item.update(GSI1PK="OPEN", GSI1SK=f"{date}#{order_id}")
    return item


def _value(result):
    """The learner's return value, or fail with the runner's one line."""
    if not result.ok and "<!doctype html" in result.error_message.lower():
        fail(f"{result.describe_call()} in {result.file}: the DynamoDB stand-in answered with an HTTP 500 error "
             "page, an emulator's internal error, not your mistake — write it with query, put_item, update_item "
             "or transact_write_items instead")
    return result.value_or_fail()


def _probe(lab_dir):
    return str(lab_dir / "checks.py")      # its _probe_ functions run in the answer runner's child


def _metered(answer, lab_dir, file, function, *args):
    """The learner's function run under the capacity meter: (outcome, records)."""
    result = answer.call(_probe(lab_dir), "_probe_metered", file, function, *args, table=TABLE)
    outcome = _value(result)
    return outcome, outcome.get("records", [])


def _fail_raised(call, file, raised):
    if raised["type"] == "NotImplementedError":
        fail(f"{call.split('(')[0]}() in {file} is not written yet (it still raises NotImplementedError)")
    where = f" at {raised['where']}" if raised["where"] else ""
    fail(f"{call} raised {raised['type']}{where}: {raised['message']}")


def _scans(records, key):
    """Scans among the records, and PartiQL SELECTs that do not pin `key` (DynamoDB runs them as Scans)."""
    from labrunner.services.moto_dynamodb import pins_key

    found = [f"Scan of {r['table']}" for r in records if r["operation"] == "Scan"]
    for record in records:
        for statement in record.get("statements", []):
            if statement.lstrip().upper().startswith("SELECT") and not pins_key(statement, key):
                found.append(f"the PartiQL statement {statement!r}, which does not pin {key} with =")
    return found


def _wait_for_index(dynamodb, seconds=60):
    import time

    for _ in range(seconds * 2):
        indexes = dynamodb.describe_table(TableName=TABLE)["Table"].get("GlobalSecondaryIndexes") or []
        if any(i["IndexName"] == INDEX and i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
            return
        time.sleep(0.5)


# ---- step 1: create-table ------------------------------------------------------------

def shop_table_exists(dynamodb):
    names = dynamodb.list_tables()["TableNames"]
    if TABLE in names:
        return
    close = [n for n in names if n.lower() == TABLE.lower()]
    if close:
        fail(f"found a table '{close[0]}' but not 'Shop' — table names are case-sensitive")
    fail(f"no table named 'Shop' yet; found {', '.join(names) if names else 'no tables at all'}")


def shop_keys_are_pk_and_sk(dynamodb):
    table = _describe(dynamodb)
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    hint = (" — one table holds customers, orders, order lines and products, so its keys carry no one "
            "item type's name: call them PK and SK, and delete and re-create the table (keys cannot change)")
    expect(keys.get("HASH") == "PK", f"Shop's partition key is '{keys.get('HASH')}'; expected 'PK'{hint}")
    expect("RANGE" in keys, "Shop has no sort key; expected 'SK' as its sort (RANGE) key: it holds "
                            "'PROFILE', 'ORDER#2026-11-28#1030', 'LINE#p-mug'... under one partition key")
    expect(keys["RANGE"] == "SK", f"Shop's sort key is '{keys['RANGE']}'; expected 'SK'{hint}")
    unlisted = [name for name in ("PK", "SK") if name not in types]
    for name in ("PK", "SK"):
        kind = types.get(name)
        expect(kind in ("S", None), f"Shop's key '{name}' has type {kind} ({TYPE_WORDS.get(kind, kind)}); expected S "
                            "(string): its values are like 'CUST#c100' — delete the table and create it again")
    if unlisted:      # moto 5.2.5 replaces a table's AttributeDefinitions with those of an update-table
        return f"the engine no longer lists the type of {' and '.join(unlisted)} (moto forgets it after update-table)"


def shop_is_on_demand(dynamodb):
    table = _describe(dynamodb)
    mode = (table.get("BillingModeSummary") or {}).get("BillingMode")
    if mode:
        expect(mode == "PAY_PER_REQUEST", f"Shop uses {mode} capacity; expected on-demand (PAY_PER_REQUEST)")
        return None
    throughput = table.get("ProvisionedThroughput") or {}
    reads, writes = throughput.get("ReadCapacityUnits", 0), throughput.get("WriteCapacityUnits", 0)
    expect(not reads and not writes, f"Shop has provisioned capacity ({reads} reads, {writes} writes per second); "
                                     "expected on-demand: --billing-mode PAY_PER_REQUEST")
    return "this engine does not report a billing mode; judged by its provisioned capacity being zero"


# ---- step 2: item-types ---------------------------------------------------------------

def _saved_orders(answer, table, orders):
    """Call save_order for each (customer, id, date, total, status); return what is stored under
    the customer's partition, and where else the orders went when not there."""
    customer = orders[0][0]
    results = answer.call_many("shop_keys.py", "save_order", orders, table=TABLE)
    try:
        for result in results:
            _value(result)
        stored = [i for i in _partition(table, f"CUST#{customer}") if i["SK"] != "PROFILE"]
        if not stored:
            elsewhere = [i for i in table.scan(ConsistentRead=True)["Items"]
                         if i.get("OrderId") in {o[1] for o in orders}]
            _unseed(table, elsewhere)
            where = (f"it wrote them under PK {elsewhere[0]['PK']!r}" if elsewhere else "nothing was written")
            fail(f"save_order(table, {customer!r}, ...) wrote no order under PK 'CUST#{customer}'; {where} — "
                 f"the partition key of a customer's orders is 'CUST#<customer_id>'")
    except Exception:
        _unseed(table, [{"PK": f"CUST#{customer}", "SK": i["SK"]} for i in _partition(table, f"CUST#{customer}")])
        raise
    _unseed(table, stored)
    for item in stored:
        oid = item.get("OrderId")
        expect(oid is None or isinstance(oid, str),
               f"save_order stored OrderId as {oid}, a {'number' if not isinstance(oid, (str, bytes)) else 'binary'}; "
               f"expected the string {str(oid)!r}, as it was given — it is the same id as in the sort key "
               "'ORDER#<date>#<order_id>', and lookups compare it as text")
    return stored


def save_order_writes_the_order(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    customer = f"chk{_token()}"
    # as text, the 2026 order's id sorts before the 2025 order's: a key led by the id does not sort by date
    first, second = str(secrets.randbelow(1000) + 1000), str(secrets.randbelow(10000) + 20000)
    orders = [(customer, first, "2026-02-03", 120, "OPEN"), (customer, second, "2025-12-31", 35, "SHIPPED")]
    stored = _saved_orders(answer, table, orders)
    by_id = {i.get("OrderId"): i for i in stored}
    expect(len(stored) == 2, f"save_order wrote {len(stored)} items for 2 orders of {customer!r}: "
                             f"{[i['SK'] for i in stored]}; expected one item per order")
    wanted = {oid: f"ORDER#{date}#{oid}" for _, oid, date, _, _ in orders}
    sort_keys = {oid: by_id[oid]["SK"] for oid in wanted if oid in by_id}
    if sort_keys != wanted:
        got = [sort_keys.get(first), sort_keys.get(second)]
        if all(got) and sorted(got) != [got[1], got[0]]:
            fail(f"save_order wrote the sort keys {got[0]!r} (2026-02-03) and {got[1]!r} (2025-12-31): they do not "
                 "sort by date — the 2025 order sorts after the 2026 one, so 'newest first' and date ranges cannot "
                 f"be a Query. Put the date first, year first: {wanted[first]!r}")
        fail(f"save_order wrote the sort keys {sorted(i['SK'] for i in stored)}; expected "
             f"{sorted(wanted.values())} ('ORDER#<order_date>#<order_id>')")
    for _, oid, date, total, status in orders:
        item = by_id[oid]
        for name, want in (("Type", "Order"), ("OrderId", oid), ("OrderDate", date), ("Status", status)):
            expect(item.get(name) == want, f"order {oid}'s {name} is {item.get(name)!r}; expected {want!r}")
        expect(not isinstance(item.get("OrderTotal"), str) and item.get("OrderTotal") == total,
               f"order {oid}'s OrderTotal is {item.get('OrderTotal')!r}; expected the number {total}")


def save_order_keeps_shipped_orders_out_of_gsi1(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    customer = f"chk{_token()}"
    open_id, shipped_id = str(secrets.randbelow(9000) + 1000), str(secrets.randbelow(9000) + 10000)
    stored = _saved_orders(answer, table, [(customer, open_id, "2026-06-07", 10, "OPEN"),
                                           (customer, shipped_id, "2026-05-01", 11, "SHIPPED")])
    by_id = {i.get("OrderId"): i for i in stored}
    expect(open_id in by_id and shipped_id in by_id, f"save_order stored {sorted(by_id)}; expected orders "
                                                     f"{open_id} and {shipped_id} with their OrderId attribute")
    opened, shipped = by_id[open_id], by_id[shipped_id]
    expect(opened.get("GSI1PK") == "OPEN" and opened.get("GSI1SK") == f"2026-06-07#{open_id}",
           f"the OPEN order {open_id} has GSI1PK={opened.get('GSI1PK')!r}, GSI1SK={opened.get('GSI1SK')!r}; "
           f"expected 'OPEN' and '2026-06-07#{open_id}' (its place in the open-orders index)")
    leaked = {k: shipped[k] for k in ("GSI1PK", "GSI1SK") if k in shipped}
    expect(not leaked, f"the SHIPPED order {shipped_id} carries {leaked}: every order would be in the index, "
                       "which is then not sparse — write GSI1PK and GSI1SK only while the order is OPEN")


def shop_loaded(dynamodb_resource, lab_dir):
    import json

    table = _table(dynamodb_resource)
    shop = json.loads((lab_dir / "workspace" / "shop.json").read_text(encoding="utf-8"))
    items = {(i["PK"], i["SK"]): i for i in table.scan(ConsistentRead=True)["Items"]}
    for c in shop["customers"]:
        expect((f"CUST#{c['CustomerId']}", "PROFILE") in items,
               f"customer {c['CustomerId']} is not in Shop yet — run `python load_shop.py` in your lab folder")
    for o in shop["orders"]:
        key = (f"CUST#{o['CustomerId']}", f"ORDER#{o['OrderDate']}#{o['OrderId']}")
        expect(key in items, f"order {o['OrderId']} of shop.json is not in Shop under {key}; run `python "
                             "load_shop.py` (it calls your save_order) after step 2's save_order passes")
    for p in shop["products"]:
        expect((f"PRODUCT#{p['ProductId']}", "PRODUCT") in items, f"product {p['ProductId']} is not in Shop yet")


# ---- step 3: query-by-key ------------------------------------------------------------------

def orders_of_matches_data(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    customer = f"chk{_token()}"
    dates = ["2025-12-31", "2026-01-15", "2026-02-03", "2026-02-03", "2026-03-10"]
    base = 1000 + secrets.randbelow(8000)      # ids out of date order: sorting by id is not sorting by date
    seeded = [_order(customer, str(base + step), date, 10 + n)
              for n, (date, step) in enumerate(zip(dates, (40, 5, 31, 12, 3)))]
    seeded.append({"PK": f"CUST#{customer}", "SK": "PROFILE", "Type": "Customer", "Name": "Check Customer",
                   "Email": f"{customer}@example.com"})
    cases = [(customer, "2026-01-15", "2026-02-03"), (customer, "2020-01-01", "2030-12-31"),
             ("c100", "2026-09-01", "2026-11-30"), (customer, "2027-01-01", "2027-12-31")]
    _seed(table, seeded)
    try:
        partitions = {who: _partition(table, f"CUST#{who}") for who in {c[0] for c in cases}}
        results = answer.call_many("queries.py", "orders_of", cases, table=TABLE)
    finally:
        _unseed(table, seeded)
    for (who, start, end), result in zip(cases, results):
        call = f"orders_of(table, {who!r}, {start!r}, {end!r})"
        if result.error_type == "KeyError" and "OrderId" in result.error_message:
            fail(f"{call} raised KeyError 'OrderId': its Query returned the customer's PROFILE item too — add a "
                 "sort key condition, SK BETWEEN 'ORDER#<start>' AND 'ORDER#<end>#~', so only orders come back")
        got = _value(result)
        orders = [i for i in partitions[who] if i["SK"].startswith("ORDER#") and start <= i["OrderDate"] <= end]
        want = [i["OrderId"] for i in sorted(orders, key=lambda i: i["SK"], reverse=True)]
        if got == want:
            continue
        expect(isinstance(got, list), f"{call} returned {got!r}; expected a list of OrderIds: {want!r}")
        if got == want[::-1]:
            fail(f"{call} returned the orders oldest first: {got!r}; expected newest first, {want!r} — "
                 "pass ScanIndexForward=False so DynamoDB reads the sort key backwards")
        if sorted(got, key=str) == sorted(want):
            fail(f"{call} returned the right orders in another order: {got!r}; expected newest first by date, "
                 f"{want!r} — the sort key holds the date, so Query with ScanIndexForward=False and keep the order "
                 "DynamoDB gives (sorting by OrderId is not sorting by date)")
        missed = [i for i in orders if i["OrderId"] not in got]
        if missed and all(i["OrderDate"] == start for i in missed):
            fail(f"{call} missed the orders dated {start} (the start date): the range must include it — begin "
                 f"it at 'ORDER#{start}' (BETWEEN includes both ends)")
        if missed and all(i["OrderDate"] == end for i in missed):
            fail(f"{call} missed the orders dated {end} (the end date): 'ORDER#{end}#...' sorts after "
                 f"'ORDER#{end}', so a range that ends there leaves them out — end it with 'ORDER#{end}#~'")
        note = (" — that customer was added by the check just now, so the answer must come from the table"
                if who == customer else "")
        fail(f"{call} returned {got!r}; expected {want!r}{note}")


def orders_of_uses_one_query(answer, lab_dir):
    outcome, records = _metered(answer, lab_dir, "queries.py", "orders_of", "c100", "2026-09-01", "2026-11-30")
    if "raised" in outcome:
        _fail_raised("orders_of(table, 'c100', '2026-09-01', '2026-11-30')", "queries.py", outcome["raised"])
    scans = _scans(records, "PK")
    expect(not scans, f"orders_of used a {scans[0] if scans else ''}: it reads every item of the table (every "
                      "customer, product and line) to find one customer's orders — Query PK = 'CUST#<id>' instead")
    reads = [r["operation"] for r in records if r["operation"] in ("Query", "ExecuteStatement", "GetItem")]
    expect(reads, f"orders_of made no Query (calls made: {[r['operation'] for r in records] or 'none'})")


def order_lines_matches_data(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    order_id = f"chk{_token()}"
    seeded = [{"PK": f"ORDER#{order_id}", "SK": f"LINE#{product}", "Type": "OrderLine", "ProductId": product,
               "Qty": qty, "Price": 5} for product, qty in (("p-zeta", 4), ("p-alpha", 1), ("p-mid", 7))]
    seeded.append({"PK": f"ORDER#{order_id}", "SK": "NOTE", "Type": "Note", "Text": "gift wrap"})
    cases = [(order_id,), ("1027",), ("no-such-order",)]
    _seed(table, seeded)
    try:
        partitions = {c[0]: _partition(table, f"ORDER#{c[0]}") for c in cases}
        results = answer.call_many("queries.py", "order_lines", cases, table=TABLE)
    finally:
        _unseed(table, seeded)
    for (which,), result in zip(cases, results):
        call = f"order_lines(table, {which!r})"
        if result.error_type == "KeyError":
            fail(f"{call} raised KeyError {result.error_message}: the Query returned an item that is not an order "
                 "line (the check added a 'NOTE' item to the order) — add begins_with(SK, 'LINE#')")
        got = _value(result)
        want = [{"ProductId": i["ProductId"], "Qty": int(i["Qty"])}
                for i in sorted(partitions[which], key=lambda i: i["SK"]) if i["SK"].startswith("LINE#")]
        expect(got == want, f"{call} returned {got!r}; expected {want!r} (in sort-key order)")


# ---- step 4: overloaded-index -----------------------------------------------------------------

def _index(dynamodb):
    table = _describe(dynamodb)
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes") or []}
    found = ", ".join(indexes) or "no global secondary indexes"
    expect(INDEX in indexes, f"Shop has no index 'GSI1' yet; found {found} — create it first (update-table, "
                             "this step's first part)")
    return table, indexes[INDEX]


def gsi1_has_the_keys(dynamodb):
    table, index = _index(dynamodb)
    keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    expect(keys.get("HASH") == "GSI1PK", f"GSI1 has partition key '{keys.get('HASH')}'; expected 'GSI1PK'")
    expect(keys.get("RANGE") == "GSI1SK", f"GSI1 has sort key '{keys.get('RANGE')}'; expected 'GSI1SK'")
    for name in ("GSI1PK", "GSI1SK"):
        expect(types.get(name) == "S", f"{name} is defined as type {types.get(name)}; expected S (string)")
    projection = index.get("Projection") or {}
    kind = projection.get("ProjectionType")
    included = projection.get("NonKeyAttributes") or []
    expect(kind == "INCLUDE" and "OrderTotal" in included,
           f"GSI1 projects {kind}{' ' + str(included) if included else ''}; expected INCLUDE with "
           "NonKeyAttributes ['OrderTotal']: every entry then holds the keys and the total only, so reading "
           "it costs less (step 7 shows how much)" + (" — an index's projection cannot change: delete it "
                                                      "(update-table ... Delete) and create it again"
                                                      if kind else ""))
    status = index.get("IndexStatus", "ACTIVE")
    expect(status == "ACTIVE", f"GSI1 is {status}; check again in a moment, when it is ACTIVE")


def open_orders_matches_data(answer, dynamodb, dynamodb_resource):
    from boto3.dynamodb.conditions import Key

    _index(dynamodb)
    table = _table(dynamodb_resource)
    customer = f"chk{_token()}"
    seeded = [_order(customer, f"9{_token()}", date, 5, status)
              for date, status in (("2024-01-02", "OPEN"), ("2024-01-01", "SHIPPED"), ("2023-12-30", "OPEN"))]
    _seed(table, seeded)
    try:
        entries = table.query(IndexName=INDEX, KeyConditionExpression=Key("GSI1PK").eq("OPEN"))["Items"]
        result = answer.call("index_queries.py", "open_orders", table=TABLE)
    finally:
        _unseed(table, seeded)
    got = _value(result)
    want = [e["SK"].rsplit("#", 1)[1] for e in sorted(entries, key=lambda e: e["GSI1SK"])]
    expect(not result.used("Scan"), "open_orders used Scan, which reads every item of the table; Query the "
                                    "index instead: IndexName='GSI1', GSI1PK = 'OPEN'")
    shipped = seeded[1]["OrderId"]
    expect(not isinstance(got, list) or shipped not in got,
           f"open_orders returned the SHIPPED order {shipped} (added by the check just now)")
    if isinstance(got, list) and sorted(got) == sorted(want) and got != want:
        fail(f"open_orders returned the right orders out of date order: {got!r}; expected oldest first, as the "
             f"index gives them: {want!r}")
    expect(got == want, f"open_orders() returned {got!r}; expected {want!r} (the check added open orders "
                        f"{seeded[2]['OrderId']} and {seeded[0]['OrderId']} just now)")
    expect(result.used("Query", INDEX) or result.used("ExecuteStatement"),
           f"open_orders did not query GSI1 (calls made: {result.calls or 'none'})")


def customer_by_email_matches_data(answer, dynamodb, dynamodb_resource):
    _index(dynamodb)
    table = _table(dynamodb_resource)
    customer = f"chk{_token()}"
    email = f"{customer}@example.org"
    seeded = [{"PK": f"CUST#{customer}", "SK": "PROFILE", "Type": "Customer", "Name": "Check", "Email": email,
               "GSI1PK": f"EMAIL#{email}", "GSI1SK": "PROFILE"}]
    cases = [(email,), ("aiko@example.com",), (f"nobody-{customer}@example.org",)]
    _seed(table, seeded)
    try:
        results = answer.call_many("index_queries.py", "customer_by_email", cases, table=TABLE)
    finally:
        _unseed(table, seeded)
    for (which,), want, result in zip(cases, [customer, "c300", None], results):
        got = _value(result)
        expect(got == want, f"customer_by_email(table, {which!r}) returned {got!r}; expected {want!r}"
                            + (" (a customer the check added just now)" if which == email else ""))
        expect(not result.used("Scan"), "customer_by_email used Scan; Query GSI1 with GSI1PK = 'EMAIL#<email>'")


def ship_order_leaves_the_index(answer, dynamodb, dynamodb_resource):
    from boto3.dynamodb.conditions import Key

    _index(dynamodb)
    table = _table(dynamodb_resource)
    customer, order_id = f"chk{_token()}", f"8{_token()}"
    order = _order(customer, order_id, "2026-07-08", 30)
    _seed(table, [order])
    try:
        result = answer.call("index_queries.py", "ship_order", customer, "2026-07-08", order_id, table=TABLE)
        stored = table.get_item(Key={"PK": order["PK"], "SK": order["SK"]}, ConsistentRead=True).get("Item") or {}
        in_index = [e for e in table.query(IndexName=INDEX, KeyConditionExpression=Key("GSI1PK").eq("OPEN"))["Items"]
                    if e["SK"] == order["SK"]]
    finally:
        strays = [i for i in _partition(table, order["PK"]) if i["SK"] != order["SK"]]
        _unseed(table, [order, *strays])
    if result.error_type == "ConditionalCheckFailedException" and stored.get("Status") == "OPEN":
        fail(f"ship_order(table, {customer!r}, '2026-07-08', {order_id!r}) was refused by its own condition "
             f"(ConditionalCheckFailedException), so the open order {order['SK']!r} is unchanged: the key it built "
             "does not name that order — build the key as 'ORDER#<order_date>#<order_id>'")
    _value(result)
    expect(not strays, f"ship_order(table, {customer!r}, '2026-07-08', {order_id!r}) wrote a new item under SK "
                       f"{strays[0]['SK']!r} instead of changing the order {order['SK']!r} (an UpdateItem on a key "
                       "that is not there creates it) — build the key as 'ORDER#<order_date>#<order_id>'; "
                       "ConditionExpression='attribute_exists(PK)' makes a wrong key fail loudly" if strays else "")
    expect(stored.get("Status") == "SHIPPED", f"after ship_order the order's Status is {stored.get('Status')!r}; "
                                              "expected 'SHIPPED'")
    leaked = {k: stored[k] for k in ("GSI1PK", "GSI1SK") if k in stored}
    expect(not leaked, f"the shipped order still carries {leaked}, so it stays in GSI1 — an index holding every "
                       "order is not sparse, and open_orders pays to read past shipped ones: REMOVE GSI1PK, "
                       "GSI1SK in the same UpdateItem")
    expect(not in_index, "the shipped order is still among GSI1's OPEN entries; REMOVE GSI1PK, GSI1SK")


# ---- step 5: transaction ---------------------------------------------------------------------------

def _product(table, stock, price=12):
    product = f"chk-{_token()}"
    item = {"PK": f"PRODUCT#{product}", "SK": "PRODUCT", "Type": "Product", "Name": "Check product",
            "Price": price, "Stock": stock}
    _seed(table, [item])
    return product, item


def _stock(table, item):
    stored = table.get_item(Key={"PK": item["PK"], "SK": item["SK"]}, ConsistentRead=True).get("Item") or {}
    return stored.get("Stock")


def _placed(table, customer, date, order_id):
    return table.get_item(Key={"PK": f"CUST#{customer}", "SK": f"ORDER#{date}#{order_id}"},
                          ConsistentRead=True).get("Item")


def _cleanup_order(table, product_item, customer):
    keys = [{"PK": product_item["PK"], "SK": "PRODUCT"}]
    keys += [{"PK": i["PK"], "SK": i["SK"]} for i in _partition(table, f"CUST#{customer}")]
    _unseed(table, keys)


def place_order_places_the_order(answer, dynamodb_resource, lab_dir):
    table = _table(dynamodb_resource)
    price = 13 + secrets.randbelow(20)      # a price of the check's own: the total must come from the product
    product, item = _product(table, stock=5, price=price)
    customer, order_id, last_id = f"chk{_token()}", f"7{_token()}", f"7{_token()}"
    try:
        outcome, records = _metered(answer, lab_dir, "place_order.py", "place_order", customer, order_id,
                                    "2026-11-30", product, 2)
        stock, placed = _stock(table, item), _placed(table, customer, "2026-11-30", order_id)
        last = None
        if stock == 3:      # then the last 3 in stock: an order that empties the shelf is still an order
            last = answer.call("place_order.py", "place_order", customer, last_id, "2026-11-30", product, 3,
                               table=TABLE)
            last_stock, last_placed = _stock(table, item), _placed(table, customer, "2026-11-30", last_id)
    finally:
        _cleanup_order(table, item, customer)
    if "raised" in outcome:
        _fail_raised(f"place_order(table, {customer!r}, {order_id!r}, '2026-11-30', {product!r}, 2)",
                     "place_order.py", outcome["raised"])
    got = outcome["value"]
    expect(placed, f"place_order(table, {customer!r}, {order_id!r}, '2026-11-30', {product!r}, 2) placed no order "
                   f"under PK 'CUST#{customer}', SK 'ORDER#2026-11-30#{order_id}'")
    expect(stock == 3, f"after an order of 2 from a stock of 5, Stock is {stock}; expected 3")
    expect(got is True, f"place_order returned {got!r} for an order it placed; expected True")
    for name, want in (("Status", "OPEN"), ("OrderTotal", 2 * price), ("GSI1PK", "OPEN"),
                       ("GSI1SK", f"2026-11-30#{order_id}"), ("OrderId", order_id)):
        note = (f" (2 at the product's Price, {price}: read it from the product item)"
                if name == "OrderTotal" else "")
        expect(placed.get(name) == want,
               f"the placed order's {name} is {placed.get(name)!r}; expected {want!r}{note}")
    if last.error_type != "TransactionCanceledException":
        _value(last)
    said = "raised TransactionCanceledException" if not last.ok else f"returned {last.value!r}"
    expect(last.ok and last.value is True and last_stock == 0 and last_placed,
           f"an order of 3 with exactly 3 in stock was refused (place_order {said}, Stock is {last_stock}); "
           "selling the last units is allowed — the condition is 'Stock >= :qty', not 'Stock > :qty'")
    from labrunner.checks import dynamodb_capacity as cap

    return ("what placing it would cost on AWS (a transaction writes each item at 2 units per KB; the new "
            f"order's entry in GSI1 is one more write):\n{cap.report(cap.meter(records))}")


def place_order_refuses_short_stock(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    product, item = _product(table, stock=1)
    customer, order_id = f"chk{_token()}", f"6{_token()}"
    try:
        result = answer.call("place_order.py", "place_order", customer, order_id, "2026-11-30", product, 2, table=TABLE)
        stock, placed = _stock(table, item), _placed(table, customer, "2026-11-30", order_id)
    finally:
        _cleanup_order(table, item, customer)
    if result.error_type == "TransactionCanceledException":
        fail("place_order let TransactionCanceledException escape when stock was short; catch it "
             "(err.response['Error']['Code']) and return False")
    got = _value(result)
    expect(stock == 1 and not placed,
           f"an order of 2 with 1 in stock changed the table: Stock is now {stock}"
           + (" and the order was written" if placed else "") + " — expected nothing changed: "
           + ("add ConditionExpression 'Stock >= :qty' to the stock update" if stock != 1 else
              "the order and the stock update must be one TransactWriteItems, so the failed stock condition "
              "cancels the order too"))
    expect(got is False, f"place_order returned {got!r} for an order it could not place; expected False")


def place_order_is_all_or_nothing(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    product, item = _product(table, stock=5)
    customer, order_id = f"chk{_token()}", f"5{_token()}"
    args = (customer, order_id, "2026-11-30", product, 1)
    try:
        first, again = answer.call_many("place_order.py", "place_order", [args, args], table=TABLE)
        stock = _stock(table, item)
    finally:
        _cleanup_order(table, item, customer)
    _value(first)
    if again.error_type == "TransactionCanceledException":
        fail("place_order let TransactionCanceledException escape for an order id placed before; catch it and "
             "return False")
    _value(again)
    if stock != 4:
        calls = ", ".join(again.calls)
        fail(f"placing order {order_id} a second time was refused, but Stock went from 4 to {stock}: the stock "
             f"update ran although the order was not written (calls made: {calls}) — make both one "
             "TransactWriteItems, with ConditionExpression 'attribute_not_exists(PK)' on the order's Put, so "
             "either both change or neither does")
    expect(again.value is False, f"place_order returned {again.value!r} for an order id placed before; expected "
                                 "False (the order's Put needs ConditionExpression 'attribute_not_exists(PK)')")
    expect(again.used("TransactWriteItems"), f"place_order wrote without TransactWriteItems (calls made: "
                                             f"{', '.join(again.calls)})")


# ---- step 6: streams -----------------------------------------------------------------------------

def stream_is_on_with_both_images(dynamodb):
    table = _describe(dynamodb)
    spec = table.get("StreamSpecification") or {}
    expect(spec.get("StreamEnabled"), "Shop has no stream; turn one on: update-table --stream-specification "
                                      "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES")
    view = spec.get("StreamViewType")
    expect(view == "NEW_AND_OLD_IMAGES", f"Shop's stream records {view}; expected NEW_AND_OLD_IMAGES — the "
                                         "reader compares Status before and after, so it needs both images. A "
                                         "stream's view type cannot change: turn it off (StreamEnabled=false) "
                                         "and on again with the new type")


def shipped_from_stream_matches_changes(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    if not (table.meta.client.describe_table(TableName=TABLE)["Table"].get("StreamSpecification") or {}).get(
            "StreamEnabled"):
        fail("Shop has no stream yet, so there is nothing to read; turn it on first (this step's first part)")
    customer = f"chk{_token()}"
    shipped, edited, born_shipped = (_order(customer, f"4{_token()}", "2026-08-01", 10),
                                     _order(customer, f"3{_token()}", "2026-08-02", 20),
                                     _order(customer, f"2{_token()}", "2026-08-03", 30, "SHIPPED"))
    _seed(table, [shipped, edited, born_shipped])
    try:
        table.update_item(Key={"PK": shipped["PK"], "SK": shipped["SK"]},
                          UpdateExpression="SET #s = :s REMOVE GSI1PK, GSI1SK",
                          ExpressionAttributeNames={"#s": "Status"}, ExpressionAttributeValues={":s": "SHIPPED"})
        table.update_item(Key={"PK": edited["PK"], "SK": edited["SK"]}, UpdateExpression="SET OrderTotal = :t",
                          ExpressionAttributeValues={":t": 21})
        table.update_item(Key={"PK": shipped["PK"], "SK": shipped["SK"]}, UpdateExpression="SET Tracking = :t",
                          ExpressionAttributeValues={":t": "TRK-1"})     # a change after shipping: not a shipping
        table.update_item(Key={"PK": born_shipped["PK"], "SK": born_shipped["SK"]},
                          UpdateExpression="SET Tracking = :t", ExpressionAttributeValues={":t": "TRK-2"})
        result = answer.call("stream_reader.py", "shipped_from_stream", table=TABLE, timeout=30)
    finally:
        _unseed(table, [shipped, edited, born_shipped])
    got = _value(result)
    expect(isinstance(got, list), f"shipped_from_stream returned {got!r}; expected a list of OrderIds")
    expect(shipped["OrderId"] in got, f"shipped_from_stream did not return {shipped['OrderId']!r}, an order the "
                                      "check just changed from OPEN to SHIPPED — read every shard from "
                                      "TRIM_HORIZON and follow NextShardIterator until a page has no records")
    expect(edited["OrderId"] not in got, f"shipped_from_stream returned {edited['OrderId']!r}: the check changed "
                                         "only its OrderTotal (a MODIFY that did not ship it) — compare OldImage's "
                                         "and NewImage's Status")
    expect(born_shipped["OrderId"] not in got,
           f"shipped_from_stream returned {born_shipped['OrderId']!r}, which was inserted already SHIPPED (an INSERT "
           "with no OldImage) and later only got a Tracking number (a MODIFY from SHIPPED to SHIPPED): it never "
           "went from OPEN to SHIPPED — count a MODIFY only when OldImage's Status is OPEN and NewImage's is "
           "SHIPPED")
    expect(got.count(shipped["OrderId"]) == 1, f"shipped_from_stream returned {shipped['OrderId']!r} "
                                               f"{got.count(shipped['OrderId'])} times; expected once — after "
                                               "shipping it the check set its Tracking, a MODIFY whose NewImage "
                                               "is SHIPPED too: count a record only when OldImage's Status is "
                                               "OPEN and NewImage's is SHIPPED")


# ---- step 7: capacity ----------------------------------------------------------------------------

NOTES = "Leave with the neighbour at number 12 if nobody answers. " * 50     # about 2.9 KB per order


def _capacity_seed(table):
    customer = f"chk{_token()}"
    seeded = [_order(customer, f"1{_token()}", f"2026-10-{day:02d}", day * 3, "OPEN" if day % 3 == 0 else "SHIPPED",
                     Notes=NOTES) for day in range(1, 25)]
    _seed(table, seeded)
    return seeded


def open_order_total_matches_data(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    seeded = _capacity_seed(table)
    try:
        orders = [i for i in table.scan(ConsistentRead=True)["Items"]
                  if i["SK"].startswith("ORDER#") and i.get("Status") == "OPEN"]
        result = answer.call("capacity.py", "open_order_total", table=TABLE)
    finally:
        _unseed(table, seeded)
    got = _value(result)
    want = sum(int(o["OrderTotal"]) for o in orders)
    expect(got == want, f"open_order_total() returned {got!r}; expected {want} (the total of the "
                        f"{len(orders)} open orders, {sum(1 for s in seeded if s['Status'] == 'OPEN')} of them added "
                        "by the check just now)")


def open_order_total_is_cheap(answer, dynamodb, dynamodb_resource, lab_dir):
    from boto3.dynamodb.conditions import Attr, Key

    from labrunner.checks import dynamodb_capacity as cap

    _index(dynamodb)
    table = _table(dynamodb_resource)
    seeded = _capacity_seed(table)
    try:
        with cap.Recorder() as recorder:           # what the two ways cost, metered by the check itself
            _every_page(table.query, IndexName=INDEX, KeyConditionExpression=Key("GSI1PK").eq("OPEN"))
            _every_page(table.scan, FilterExpression=Attr("GSI1PK").eq("OPEN"))
        outcome, records = _metered(answer, lab_dir, "capacity.py", "open_order_total")
        open_orders = [i for i in table.scan(ConsistentRead=True)["Items"] if i.get("GSI1PK") == "OPEN"]
    finally:
        _unseed(table, seeded)
    if "raised" in outcome:
        _fail_raised("open_order_total(table)", "capacity.py", outcome["raised"])
    reference = cap.meter(recorder.records)
    by_query = sum(c.rcu for c in reference if c.operation == "Query")
    by_scan = sum(c.rcu for c in reference if c.operation == "Scan")
    charges = cap.meter(records)
    rcu, _ = cap.totals(charges)
    lines = cap.report(charges)
    unmetered = [s for r in records for s in r.get("statements", [])]
    if unmetered:
        from labrunner.services.moto_dynamodb import pins_key, reads_index

        off = [s for s in unmetered if reads_index(s) != INDEX or not pins_key(s, "GSI1PK")]
        expect(not off, f"open_order_total ran {off[0] if off else ''!r}, which is not a Query of GSI1: it reads "
                        f"the table or the whole index. The calls it made:\n{lines}")
        return (f"your PartiQL SELECT on \"Shop\".\"GSI1\" pins GSI1PK, so DynamoDB runs it as a Query of the index: "
                f"about {by_query:g} RCU here, against {by_scan:g} RCU for a Scan. labrunner's meter does not read "
                f"PartiQL statements' items; the calls:\n{lines}")
    fetched = [r for r in records if r["operation"] in ("GetItem", "BatchGetItem")]
    advice = ("Each GetItem after the index reads a whole order, Notes and all, though GSI1's entries already "
              "hold OrderTotal — add up the totals of the index entries themselves" if fetched else
              "A Scan (or a Query of the table) pays for every item it reads, Notes and all; GSI1 "
              "holds only the open orders' keys and OrderTotal — Query IndexName='GSI1', GSI1PK = 'OPEN'")
    expect(rcu <= by_query, f"open_order_total would cost {rcu:g} read capacity units on AWS; the same answer from "
                            f"GSI1 costs {by_query:g} (and a Scan of Shop {by_scan:g}). The calls it made:\n{lines}\n"
                            + advice)
    full = cap.read_units(sum(cap.item_size(_typed(o)) for o in open_orders))
    scan_lines = "\n".join(f"  {c.line()}" for c in reference if c.operation == "Scan")
    per_second = 5 / rcu if rcu else float("inf")
    return (f"what each call would cost on AWS — {cap.NOTE}\n{lines}\n"
            f"  For comparison, metered just now:\n{scan_lines}\n"
            f"  and the same Query of an index projecting ALL would read the whole orders, Notes and all: "
            f"{full:g} RCU.\n"
            f"  On a table provisioned with 5 RCU, AWS would serve about {per_second:.0f} of your calls a second, "
            f"but only {5 / by_scan if by_scan else 0:.1f} such Scans, then throttle "
            "(ProvisionedThroughputExceededException); the stand-in never throttles")


def _typed(item):
    """A resource-layer item (plain Python values) in DynamoDB JSON, for sizing."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {name: serializer.serialize(value) for name, value in item.items()}


def _every_page(read, **kwargs):
    while True:
        page = read(**kwargs)
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# ---- probes: run in the answer runner's child, never by learners ----------------------------------
#
# checks.py passes this file to answer.call, so _probe_metered runs in the child process with
# the Table it made as its first argument: it imports the learner's file from the workspace (the
# child's current folder) and calls the function under labrunner's capacity meter, which records
# each DynamoDB call (operation, table or index, the items it touched and their sizes).

def _probe_metered(table, file, function, *args):
    """{"value" or "raised", "records": the meter's records of the calls made}."""
    import importlib.util

    from labrunner.checks.answer_child import _error
    from labrunner.checks.dynamodb_capacity import Recorder

    path = os.path.abspath(file)
    spec = importlib.util.spec_from_file_location("learner_probe_" + os.path.basename(file)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with Recorder() as recorder:
        try:
            outcome = {"value": getattr(module, function)(table, *args)}
        except Exception as exc:
            error = _error(exc, path)
            outcome = {"raised": {"type": error["error_type"], "message": error["error_message"],
                                  "where": error["where"]}}
    outcome["records"] = recorder.records
    return outcome
