"""A capacity meter for DynamoDB: the read and write units AWS would charge for the calls a
learner's code made, from the items each call touched and AWS's documented rounding rules.

The stand-ins do not throttle and bill nothing, and moto's own ConsumedCapacity figures are
not AWS's (measured with moto 5.2.5: a strongly consistent GetItem is reported as 0.5, a
transactional write as nothing). So the meter works the figures out itself:

- item size: the UTF-8 bytes of every attribute name plus its value (string: UTF-8 bytes;
  number: about 1 byte per two significant digits plus 1; binary: its bytes; boolean and
  null: 1; list and map: 3 bytes plus 1 per element, plus the elements (and a map's names);
  sets: the sum of their members);
- reads: 4 KB units. Strongly consistent 1 unit, eventually consistent half a unit,
  transactional 2 units, per 4 KB. GetItem and every item of BatchGetItem/TransactGetItems
  is rounded up on its own; Query and Scan add up the sizes of every item they *read*
  (before a filter drops any; a ProjectionExpression does not make them smaller) and round
  the sum up once per page. A read that finds nothing still costs the smallest unit. A Query
  or Scan of a global secondary index reads index entries: the table's key, the index's key
  and the projected attributes only, which is why a narrow projection is cheaper;
- writes: 1 KB units, 2 per KB in a transaction. PutItem and UpdateItem are charged on the
  larger of the item before and after, DeleteItem on the item deleted, each item of a batch
  on its own, and a write whose condition fails on the item it left alone (at least 1). A
  ConditionCheck in a transaction is metered as a transactional write of the item it checks,
  and a cancelled transaction like one that ran: labrunner's reading, not an example AWS gives;
- global secondary indexes: each write that changes an index entry costs the index a write
  of that entry's size (a standard write, even inside a transaction); changing an index key
  costs two (the old entry deleted, the new one put); an item without the index's key
  attributes has no entry at all (a sparse index), so it costs the index nothing.

(AWS Developer Guide: "DynamoDB read and write operations", "DynamoDB item sizes and
formats", "Provisioned throughput considerations for Global Secondary Indexes"; checked
November 2026.)

Two halves. `Recorder` runs in the answer runner's child, around the learner's function: it
watches botocore's requests (the same hook the answer runner uses to list operations), keeps
each DynamoDB request and response as sent on the wire (typed DynamoDB JSON, whichever client
the learner used), and with a client of its own reads what each call touched: the items before
and after each write, and each read again without its filter and projection. The records are
plain JSON, returned to labrunner; `meter()` turns them into charges and `report()` into lines.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass, field

READ_BLOCK = 4096
WRITE_BLOCK = 1024
READS = ("GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan")
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
PARTIQL = ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction")
NOTE = ("The stand-ins neither throttle nor bill: these are the units AWS would charge, worked out "
        "from item sizes with AWS's rounding rules.")


# ---- sizes ---------------------------------------------------------------------

def number_size(text: str) -> int:
    """About 1 byte per two significant digits, plus 1 (leading and trailing zeros trimmed)."""
    mantissa = text.strip().lstrip("+-").lower().split("e")[0]
    digits = mantissa.replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict) -> int:
    """The size of one typed attribute value, e.g. {"S": "Folk"} -> 4."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(_bytes(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(_bytes(b)) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())
    raise ValueError(f"not a DynamoDB attribute value: {value!r}")


def _bytes(inner) -> bytes:
    if isinstance(inner, (bytes, bytearray)):
        return bytes(inner)
    return base64.b64decode(inner)


def item_size(item: dict | None) -> int:
    """Attribute names plus values, in bytes; 0 for no item."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


# ---- units ----------------------------------------------------------------------

def read_units(size: int, *, consistent: bool = False, transactional: bool = False) -> float:
    """Read units for `size` bytes read in one go (one item, or one Query/Scan page)."""
    blocks = max(1, math.ceil(size / READ_BLOCK))
    if transactional:
        return 2.0 * blocks
    return float(blocks) if consistent else blocks / 2


def write_units(size: int, *, transactional: bool = False) -> float:
    blocks = max(1, math.ceil(size / WRITE_BLOCK))
    return float(2 * blocks if transactional else blocks)


def index_entry(item: dict | None, index: dict, table_keys: list[str]) -> dict | None:
    """The entry `item` has in a secondary index, or None when it lacks the index's keys (sparse)."""
    if not item:
        return None
    index_keys = [k["AttributeName"] for k in index["KeySchema"]]
    if any(name not in item for name in index_keys):
        return None
    projection = index.get("Projection") or {"ProjectionType": "ALL"}
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return dict(item)
    keep = set(table_keys) | set(index_keys)
    if kind == "INCLUDE":
        keep |= set(projection.get("NonKeyAttributes") or [])
    return {name: value for name, value in item.items() if name in keep}


# ---- charges --------------------------------------------------------------------

@dataclass
class Charge:
    operation: str
    target: str                     # "Shop" or "Shop/GSI1"
    rcu: float = 0.0
    wcu: float = 0.0
    detail: str = ""
    engine: float | None = None     # what the engine's ConsumedCapacity said, when it said anything
    index_wcu: dict = field(default_factory=dict)   # index name -> write units

    @property
    def units(self) -> str:
        parts = []
        if self.rcu:
            parts.append(f"{_num(self.rcu)} RCU")
        if self.wcu:
            parts.append(f"{_num(self.wcu)} WCU")
        for name, units in self.index_wcu.items():
            parts.append(f"+{_num(units)} WCU on {name}")
        return ", ".join(parts) or "not metered"

    def line(self) -> str:
        said = ""
        if self.engine is not None:
            said = f" [the stand-in reported {_num(self.engine)}]"
        return f"{self.operation} {self.target}: {self.units} — {self.detail}{said}"


def _num(value: float) -> str:
    return f"{value:g}"


def _kb(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KB"


def meter(records: list[dict]) -> list[Charge]:
    """One Charge per recorded call (see Recorder for the record format)."""
    charges = []
    for record in records:
        if "meter_error" in record:
            why = f"not metered: the meter could not read what it touched ({record['meter_error']})"
            charges.append(Charge(record["operation"], record.get("table") or "?", detail=why))
            continue
        handler = _METERS.get(record["operation"], _unmetered)
        charge = handler(record)
        engine = record.get("engine")
        if engine is not None:
            charge.engine = engine
        charges.append(charge)
    return charges


def totals(charges: list[Charge]) -> tuple[float, float]:
    """(read units, write units) over all charges, index writes included."""
    rcu = sum(c.rcu for c in charges)
    wcu = sum(c.wcu + sum(c.index_wcu.values()) for c in charges)
    return rcu, wcu


def report(charges: list[Charge]) -> str:
    rcu, wcu = totals(charges)
    lines = [f"  {i}. {c.line()}" for i, c in enumerate(charges, 1)]
    lines.append(f"  total: {_num(rcu)} RCU, {_num(wcu)} WCU")
    return "\n".join(lines)


def _consistency(record) -> str:
    if record.get("transactional"):
        return "transactional"
    return "strongly consistent" if record.get("consistent") else "eventually consistent"


def _meter_query(record) -> Charge:
    target = record["table"] + (f"/{record['index']}" if record.get("index") else "")
    pages = record["pages"]                 # [[size of each item read], ...] one list per page
    rcu = sum(read_units(sum(page), consistent=record.get("consistent", False)) for page in pages)
    read = sum(len(p) for p in pages)
    size = sum(sum(p) for p in pages)
    what = "index entries" if record.get("index") else "items"
    returned = record.get("returned")
    kept = f", {returned} returned" if returned is not None and returned != read else ""
    detail = (f"read {read} {what} ({_kb(size)}{kept}), {_consistency(record)}, "
              f"{'rounded up to 4 KB once per page' if read else 'found nothing: the smallest unit'}")
    return Charge(record["operation"], target, rcu=rcu, detail=detail)


def _meter_gets(record) -> Charge:
    sizes = record["sizes"]                 # one per item asked for (0: not there)
    transactional = record["operation"] == "TransactGetItems"
    rcu = sum(read_units(s, consistent=record.get("consistent", False), transactional=transactional)
              for s in sizes)
    found = sum(1 for s in sizes if s)
    record = dict(record, transactional=transactional)
    detail = (f"{len(sizes)} item{'s' if len(sizes) != 1 else ''} by key ({found} found, "
              f"{_kb(sum(sizes))}), {_consistency(record)}, each rounded up to 4 KB")
    return Charge(record["operation"], ", ".join(record["tables"]) or "?", rcu=rcu, detail=detail)


def _meter_writes(record) -> Charge:
    transactional = record["operation"] == "TransactWriteItems"
    wcu = 0.0
    index_wcu: dict[str, float] = {}
    parts = []
    for write in record["writes"]:
        before, after = write.get("before"), write.get("after")
        size = max(item_size(before), item_size(after))
        wcu += write_units(size, transactional=transactional)
        outside = [index["IndexName"] for index in write.get("indexes", [])
                   if index_entry(before, index, write["table_keys"]) is None
                   and index_entry(after, index, write["table_keys"]) is None]
        note = f" (no entry in {', '.join(outside)}: sparse)" if outside else ""
        parts.append(f"{write['action']} {_kb(size)}{note}")
        for name, units in _index_writes(write).items():
            index_wcu[name] = index_wcu.get(name, 0.0) + units
    tables = sorted({w["table"] for w in record["writes"]})
    how = "transactional, 2 units per KB" if transactional else "1 unit per KB"
    failed = "; refused (a failed condition still costs its write)" if record.get("failed") else ""
    detail = f"{', '.join(parts) or 'nothing'} ({how}){failed}"
    return Charge(record["operation"], ", ".join(tables), wcu=wcu, detail=detail, index_wcu=index_wcu)


def _index_writes(write) -> dict[str, float]:
    """Write units each secondary index of the table pays for one table write."""
    units = {}
    for index in write.get("indexes", []):
        old = index_entry(write.get("before"), index, write["table_keys"])
        new = index_entry(write.get("after"), index, write["table_keys"])
        if old == new:
            continue
        keys = [k["AttributeName"] for k in index["KeySchema"]]
        if old and new and any(old.get(k) != new.get(k) for k in keys):
            cost = write_units(item_size(old)) + write_units(item_size(new))      # delete + put
        else:
            cost = write_units(max(item_size(old), item_size(new)))
        units[index["IndexName"]] = cost
    return units


def _unmetered(record) -> Charge:
    return Charge(record["operation"], record.get("table", "?"),
                  detail="PartiQL: not metered by labrunner (a SELECT that pins the partition key "
                         "costs what the Query would; one that does not, what a Scan would)"
                  if record["operation"] in PARTIQL else "not metered")


_METERS = {"Query": _meter_query, "Scan": _meter_query, "GetItem": _meter_gets, "BatchGetItem": _meter_gets,
           "TransactGetItems": _meter_gets, **{op: _meter_writes for op in WRITES}}


# ---- the recorder (runs in the answer runner's child) -------------------------------

_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


class Recorder:
    """Watch the DynamoDB calls made inside `with Recorder() as rec:`; rec.records afterwards.

    Each record: {"operation", "table", "index", "consistent", "engine", and "pages" (Query,
    Scan), "sizes"/"tables" (GetItem, BatchGetItem, TransactGetItems), "writes" (writes:
    [{"action", "table", "table_keys", "indexes", "before", "after"}]), "failed"}."""

    def __init__(self):
        from botocore.client import BaseClient

        self.base = BaseClient
        self.original = BaseClient._make_api_call
        self.records: list[dict] = []
        self.own = None
        self.wire: dict = {}
        self.tables: dict[str, dict] = {}
        self.calling = False

    # botocore events: the request and the response as they travel (typed DynamoDB JSON)
    def _sent(self, request=None, **_):
        body = getattr(request, "body", None)
        if body:
            self.wire["request"] = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)

    def _received(self, response_dict=None, **_):
        body = (response_dict or {}).get("body")
        if body:
            try:
                self.wire["response"] = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
            except ValueError:
                pass

    def _hook(self, client) -> None:
        # module-level handlers, registered once per client: a client outlives a Recorder
        client.meta.events.register("before-send.dynamodb", _on_send, unique_id="labrunner-meter-send")
        client.meta.events.register("before-parse.dynamodb", _on_parse, unique_id="labrunner-meter-parse")

    def _client(self, client):
        if self.own is None:
            import boto3

            meta = client.meta
            kwargs = {}
            credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
            if credentials is not None:
                frozen = credentials.get_frozen_credentials()
                kwargs = {"aws_access_key_id": frozen.access_key, "aws_secret_access_key": frozen.secret_key,
                          "aws_session_token": frozen.token}
            self.own = boto3.client("dynamodb", endpoint_url=meta.endpoint_url, region_name=meta.region_name,
                                    **kwargs)
        return self.own

    def __enter__(self):
        recorder = self

        def watched(client, operation, params):
            if client is recorder.own or client.meta.service_model.service_name != "dynamodb":
                return recorder.original(client, operation, params)
            return recorder._call(client, operation, params)

        self.base._make_api_call = watched
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc):
        self.base._make_api_call = self.original
        _ACTIVE.remove(self)

    def _describe(self, own, name: str) -> dict:
        if name not in self.tables:
            table = own.describe_table(TableName=name)["Table"]
            self.tables[name] = {"keys": [k["AttributeName"] for k in table["KeySchema"]],
                                 "indexes": [{"IndexName": i["IndexName"], "KeySchema": i["KeySchema"],
                                              "Projection": i.get("Projection", {})}
                                             for i in (table.get("GlobalSecondaryIndexes") or [])
                                             + (table.get("LocalSecondaryIndexes") or [])]}
        return self.tables[name]

    def _call(self, client, operation, params):
        self._hook(client)
        own = self._client(client)
        if isinstance(params, dict) and operation in READS + WRITES and "ReturnConsumedCapacity" not in params:
            params = dict(params, ReturnConsumedCapacity="TOTAL")
        self.wire = {}
        targets = []
        if operation in WRITES:
            # the keys are known only once the request is serialised: read "before" at send time
            def before(request=None, **_):
                self._sent(request=request)
                if not targets:
                    targets.extend(self._write_targets(own, operation, self.wire.get("request") or {}))
            client.meta.events.register("before-send.dynamodb", before, unique_id="labrunner-meter-before")
        failed = False
        self.calling = True
        try:
            response = self.original(client, operation, params)
        except Exception as exc:
            failed = True
            response, error = None, exc
        else:
            error = None
        finally:
            self.calling = False
            if operation in WRITES:
                client.meta.events.unregister("before-send.dynamodb", unique_id="labrunner-meter-before")
        wire = dict(self.wire)
        try:
            record = self._record(own, operation, wire, targets, failed)
        except Exception as exc:           # the meter must never change what the learner's code sees
            record = {"operation": operation, "table": (wire.get("request") or {}).get("TableName", "?"),
                      "meter_error": f"{type(exc).__name__}: {exc}"}
        if record is not None:
            self.records.append(record)
        if error is not None:
            raise error
        return response

    # -- what each call touched ------------------------------------------------------

    def _write_targets(self, own, operation, request) -> list[dict]:
        def target(action, table, key):
            return {"action": action, "table": table, "key": key,
                    "before": self._get(own, table, key)}

        found = []
        if operation == "PutItem":
            found.append(target("put", request["TableName"], self._key(own, request["TableName"], request["Item"])))
        elif operation in ("UpdateItem", "DeleteItem"):
            found.append(target(operation[:6].lower(), request["TableName"], request["Key"]))
        elif operation == "BatchWriteItem":
            for table, entries in request.get("RequestItems", {}).items():
                for entry in entries:
                    if "PutRequest" in entry:
                        found.append(target("put", table, self._key(own, table, entry["PutRequest"]["Item"])))
                    else:
                        found.append(target("delete", table, entry["DeleteRequest"]["Key"]))
        elif operation == "TransactWriteItems":
            for entry in request.get("TransactItems", []):
                (action, body), = entry.items()
                key = body.get("Key") or self._key(own, body["TableName"], body["Item"])
                found.append(target({"ConditionCheck": "condition-check"}.get(action, action.lower()),
                                    body["TableName"], key))
        return found

    def _key(self, own, table, item) -> dict:
        return {name: item[name] for name in self._describe(own, table)["keys"] if name in item}

    def _get(self, own, table, key):
        return own.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _record(self, own, operation, wire, targets, failed):
        request = wire.get("request") or {}
        response = wire.get("response") or {}
        record = {"operation": operation, "table": request.get("TableName", ""), "index": request.get("IndexName", ""),
                  "consistent": bool(request.get("ConsistentRead")), "failed": failed,
                  "engine": _engine_units(response.get("ConsumedCapacity"))}
        if operation in ("Query", "Scan"):
            record["pages"] = [self._reread(own, operation, request)]
            record["returned"] = response.get("Count")
        elif operation == "GetItem":
            record.update(tables=[request["TableName"]],
                          sizes=[item_size(self._get(own, request["TableName"], request["Key"]))])
        elif operation in ("BatchGetItem", "TransactGetItems"):
            record.update(self._gets(own, operation, request))
        elif operation in WRITES:
            writes = []
            for target in targets:
                info = self._describe(own, target["table"])
                after = target["before"] if target["action"] == "condition-check" else \
                    self._get(own, target["table"], target["key"])
                writes.append({"action": target["action"], "table": target["table"], "table_keys": info["keys"],
                               "indexes": info["indexes"], "before": target["before"], "after": after})
            record["writes"] = writes
        elif operation in PARTIQL:
            batch = request.get("Statements") or request.get("TransactStatements") or []
            statements = [request.get("Statement", "")] + [s.get("Statement", "") for s in batch]
            record.update(table="", statements=[s for s in statements if s])
        else:
            return None                      # DescribeTable, ListTables...: no capacity
        return record

    def _gets(self, own, operation, request) -> dict:
        sizes, tables = [], []
        if operation == "BatchGetItem":
            for table, spec in request.get("RequestItems", {}).items():
                tables.append(table)
                sizes += [item_size(self._get(own, table, key)) for key in spec.get("Keys", [])]
            consistent = any(spec.get("ConsistentRead") for spec in request.get("RequestItems", {}).values())
        else:
            for entry in request.get("TransactItems", []):
                get = entry["Get"]
                tables.append(get["TableName"])
                sizes.append(item_size(self._get(own, get["TableName"], get["Key"])))
            consistent = True
        return {"sizes": sizes, "tables": sorted(set(tables)), "consistent": consistent}

    def _reread(self, own, operation, request) -> list[int]:
        """The sizes of the items (or index entries) the read went through, before any filter."""
        plain = {k: v for k, v in request.items()
                 if k not in ("FilterExpression", "ProjectionExpression", "AttributesToGet", "Select",
                              "QueryFilter", "ScanFilter", "ConditionalOperator", "ReturnConsumedCapacity")}
        used = " ".join(str(plain.get(k, "")) for k in ("KeyConditionExpression",))
        wanted = set(_PLACEHOLDER.findall(used))
        for field_name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            kept = {k: v for k, v in (plain.get(field_name) or {}).items() if k in wanted}
            if kept:
                plain[field_name] = kept
            else:
                plain.pop(field_name, None)
        items = getattr(own, operation.lower())(**plain).get("Items", [])
        index = plain.get("IndexName")
        if not index:
            return [item_size(i) for i in items]
        info = self._describe(own, plain["TableName"])
        spec = next((i for i in info["indexes"] if i["IndexName"] == index), None)
        if spec is None:
            return [item_size(i) for i in items]
        return [item_size(index_entry(i, spec, info["keys"])) for i in items]


_ACTIVE: list[Recorder] = []


def _on_send(request=None, **_):
    if _ACTIVE and _ACTIVE[-1].calling:
        _ACTIVE[-1]._sent(request=request)


def _on_parse(response_dict=None, **_):
    if _ACTIVE and _ACTIVE[-1].calling:
        _ACTIVE[-1]._received(response_dict=response_dict)


def _engine_units(consumed) -> float | None:
    if not consumed:
        return None
    entries = consumed if isinstance(consumed, list) else [consumed]
    units = [e.get("CapacityUnits") for e in entries if isinstance(e, dict) and e.get("CapacityUnits") is not None]
    return float(sum(units)) if units else None
