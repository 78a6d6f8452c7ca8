"""Checks for documentdb-basics. They read the live engine (pymongo, as the master user) and run the
learner's functions through the answer runner on documents they seed themselves (skus starting
CHK-, removed again), so a hard-coded answer fails.

Fixtures: mongo (pymongo Database `catalog`), answer, lab_dir.
The calls a learner's function made are recorded as "find[$lt,$gt]", "update[$inc]" ... (the
command and its operators), which is how a check tells an $inc from a read-then-write, and how
operators DocumentDB does not support are noticed (a note, never a failure).
"""

import json
import random
import string

from labrunner.checks import expect, fail
from labrunner.services.documentdb_compat import note

WRITE_COMMANDS = ("insert", "update", "delete", "findAndModify")
READ_COMMANDS = ("find", "aggregate", "count", "distinct")
LANTERN = "LANTERN-01"


def _token() -> str:
    return "".join(random.choices(string.ascii_uppercase + string.digits, k=6))


def _call(answer, file, function, *args, timeout=20, connect="documentdb"):
    return answer.call(file, function, *args, connect=connect, timeout=timeout)


def _value(result):
    """The function's value, or a failure naming what went wrong (and what DocumentDB would refuse:
    the local server refuses $where and $function too, with its own words)."""
    if result.ok:
        return result.value
    fail(" — ".join(filter(None, (result.failure(), note(result)))))


def _commands(result, names) -> list[str]:
    return [call for call in result.calls if call.split("[")[0] in names]


def _notes(*results) -> str:
    return " ".join(filter(None, (note(result) for result in results)))


def _dataset(lab_dir, name):
    return json.loads((lab_dir / "workspace" / f"{name}.json").read_text(encoding="utf-8"))


def _cleanup(mongo, token):
    mongo.products.delete_many({"sku": {"$regex": f"^CHK-{token}"}})
    mongo.reviews.delete_many({"sku": {"$regex": f"^CHK-{token}"}})


def _v1(token, suffix, **fields):
    doc = {"sku": f"CHK-{token}-{suffix}", "name": f"Check item {suffix}", "category": f"check-{token.lower()}",
           "brand": f"Brand{token}", "price": 10.0, "currency": "EUR", "stock": 5, "tags": [],
           "specs": {"color": "red"}}
    doc.update(fields)
    return doc


# ---- step 1: load the catalogue, add a document ----------------------------------------------

def catalogue_is_loaded(mongo, lab_dir):
    products, reviews = _dataset(lab_dir, "products"), _dataset(lab_dir, "reviews")
    skus = {doc["sku"] for doc in mongo.products.find({}, {"sku": 1})}
    missing = sorted({p["sku"] for p in products} - skus)
    expect(not missing, f"products is missing {len(missing)} of the catalogue's {len(products)} products "
                        f"(e.g. {missing[:3]}) — run python load_catalog.py in your workspace "
                        '(after eval "$(labrunner env)")')
    count = mongo.reviews.count_documents({})
    expect(count == len(reviews), f"reviews has {count} documents; expected the catalogue's {len(reviews)} — "
                                  "run python load_catalog.py again (it starts both collections over)")
    sample = products[0]
    stored = mongo.products.find_one({"sku": sample["sku"]}, {"_id": 0, "specs": 1, "tags": 1})
    expect(stored and stored.get("specs") == sample["specs"] and stored.get("tags") == sample["tags"],
           f"{sample['sku']} is stored as {stored}; expected specs {sample['specs']} and tags {sample['tags']} "
           "as in products.json — load it again with python load_catalog.py")


def lantern_is_a_document(mongo):
    doc = mongo.products.find_one({"sku": LANTERN})
    if doc is None:
        elsewhere = [name for name in mongo.list_collection_names()
                     if name != "products" and mongo[name].find_one({"sku": LANTERN}) is not None]
        expect(not elsewhere, f"'{LANTERN}' is in the collection {elsewhere[0] if elsewhere else ''!r}, not in "
                              "products — insert it into db.products (collection names are case-sensitive; a "
                              "misspelt one is created on the first insert)")
        near = mongo.products.find_one({"sku": {"$regex": f"^{LANTERN}$", "$options": "i"}}) or \
            mongo.products.find_one({"name": "Trail lantern"})
        expect(near is None, f"no product with sku '{LANTERN}', but one with sku {near and near.get('sku')!r}; "
                             f"expected the sku exactly '{LANTERN}'")
        fail(f"no product with sku '{LANTERN}' yet — insert it with insert_one (step text); if you inserted it "
             "before running load_catalog.py, insert it again: the loader starts the collection over")
    expect(mongo.products.count_documents({"sku": LANTERN}) == 1,
           f"there are {mongo.products.count_documents({'sku': LANTERN})} products with sku '{LANTERN}'; "
           "keep one (delete_many the others, then insert it once)")
    tags = doc.get("tags")
    expect(isinstance(tags, list), f"{LANTERN}'s tags is {type(tags).__name__} {tags!r}; expected an array of "
                                   'strings, ["camping", "light"] — one value per tag, so a query can match one')
    expect({"camping", "light"} <= set(tags), f"{LANTERN}'s tags are {tags}; expected camping and light")
    specs = doc.get("specs")
    expect(isinstance(specs, dict), f"{LANTERN} has no nested specs object (found {specs!r}); expected "
                                    'specs: {"lumens": 200, "battery": "USB-C"} — one field holding a document')
    expect(specs.get("lumens") == 200 and not isinstance(specs.get("lumens"), (str, bool))
           and specs.get("battery") == "USB-C",
           f"{LANTERN}'s specs are {specs}; expected lumens the number 200 (not the string '200') and battery "
           "'USB-C'")
    price = doc.get("price")
    expect(isinstance(price, (int, float)) and not isinstance(price, bool) and abs(price - 24.5) < 1e-9,
           f"{LANTERN}'s price is {price!r} ({type(price).__name__}); expected the number 24.5, not a string")
    expect(doc.get("category") == "outdoor" and doc.get("stock") == 10 and not isinstance(doc.get("stock"), bool),
           f"{LANTERN} has category {doc.get('category')!r} and stock {doc.get('stock')!r}; expected "
           "'outdoor' (lower case, as the catalogue writes it) and the number 10 (not the string '10')")


# ---- step 2: queries ----------------------------------------------------------------------

def affordable_in_stock_is_right(mongo, answer):
    token = _token()
    category = f"check-{token.lower()}"
    seeded = [_v1(token, "A", price=10.0), _v1(token, "B", price=20.0), _v1(token, "LIMIT", price=30.0),
              _v1(token, "D", price=40.0), _v1(token, "EMPTY", price=15.0, stock=0),
              _v1(token, "ELSEWHERE", price=5.0, category=f"other-{token.lower()}")]
    mongo.products.insert_many([dict(doc) for doc in seeded])
    try:
        result = _call(answer, "queries.py", "affordable_in_stock", category, 30)
        got = _value(result)
    finally:
        _cleanup(mongo, token)
    expect(isinstance(got, list), f"affordable_in_stock returned {type(got).__name__}; expected a list of documents")
    skus = [item.get("sku") if isinstance(item, dict) else item for item in got]
    by_sku = {doc["sku"]: doc for doc in seeded}
    want = [f"CHK-{token}-A", f"CHK-{token}-B"]
    if f"CHK-{token}-LIMIT" in skus:
        fail(f"affordable_in_stock({category!r}, 30) includes a product priced exactly 30; 'below' means $lt, "
             "not $lte")
    if f"CHK-{token}-EMPTY" in skus:
        fail(f"affordable_in_stock({category!r}, 30) includes a product with stock 0; add stock > 0 ($gt) to "
             "the filter")
    if f"CHK-{token}-ELSEWHERE" in skus:
        fail(f"affordable_in_stock({category!r}, 30) includes a product of another category; filter on category")
    expect(sorted(map(str, skus)) == sorted(want),
           f"affordable_in_stock({category!r}, 30) on the check's own products returned {skus}; expected {want}")
    expect(skus == want, f"affordable_in_stock returned {skus}; expected cheapest first, {want} — .sort('price', 1)")
    keys = sorted(got[0]) if got and isinstance(got[0], dict) else []
    expect(keys == ["name", "price", "sku"],
           f"each product came back with the fields {keys}; expected only sku, name and price — a projection "
           "{'_id': 0, 'sku': 1, 'name': 1, 'price': 1}")
    first = by_sku[want[0]]
    expect(got[0].get("price") == first["price"] and got[0].get("name") == first["name"],
           f"the first product came back as {got[0]}; expected its name {first['name']!r} and price {first['price']}")
    return _notes(result)


def tagged_or_by_brand_is_right(mongo, answer):
    token = _token()
    t1, t2, brand = f"t1-{token}", f"t2-{token}", f"Maker{token}"
    seeded = [_v1(token, "BOTH", tags=[t1, t2, "extra"]), _v1(token, "ONE", tags=[t1]),
              _v1(token, "BRAND", tags=[], brand=brand), _v1(token, "REVERSED", tags=[t2, t1]),
              _v1(token, "NONE", tags=["unrelated"]), _v1(token, "LOOKALIKE", tags=[], brand=f"{brand.lower()} outlet")]
    mongo.products.insert_many([dict(doc) for doc in seeded])
    try:
        result = _call(answer, "queries.py", "tagged_or_by_brand", [t1, t2], brand)
        got = _value(result)
    finally:
        _cleanup(mongo, token)
    want = sorted([f"CHK-{token}-BOTH", f"CHK-{token}-BRAND", f"CHK-{token}-REVERSED"])
    expect(isinstance(got, list), f"tagged_or_by_brand returned {type(got).__name__}; expected a list of skus")
    got = [item.get("sku") if isinstance(item, dict) else item for item in got]
    mine = [sku for sku in got if isinstance(sku, str) and sku.startswith(f"CHK-{token}")]
    if f"CHK-{token}-ONE" in mine:
        fail("tagged_or_by_brand includes a product carrying only one of the tags: every tag means $all, "
             "not $in")
    if f"CHK-{token}-BRAND" not in mine:
        fail("tagged_or_by_brand left out the product the brand makes (it has none of the tags): either "
             "condition is enough — $or, not $and")
    if f"CHK-{token}-LOOKALIKE" in mine:
        fail(f"tagged_or_by_brand includes a product of brand {brand.lower() + ' outlet'!r}, not {brand!r}: match "
             "the brand exactly, {'brand': brand} (a regex or a case-blind match finds other makers)")
    if f"CHK-{token}-REVERSED" not in mine and f"CHK-{token}-BOTH" not in mine:
        fail(f"tagged_or_by_brand left out every product carrying both tags (one has a third tag, one has them in "
             f"another order): {{'tags': [{t1!r}, {t2!r}]}} matches only that exact array — use "
             "{'tags': {'$all': tags}}")
    if f"CHK-{token}-REVERSED" not in mine and f"CHK-{token}-BOTH" in mine:
        fail("tagged_or_by_brand left out a product with both tags in another order: match with $all, "
             "not the array itself")
    expect(sorted(mine) == want, f"tagged_or_by_brand([{t1!r}, {t2!r}], {brand!r}) on the check's own products "
                                 f"returned {mine}; expected {want}")
    expect(mine == want, f"tagged_or_by_brand returned {mine}; expected them sorted A to Z")
    expect(len(got) == len(mine), f"tagged_or_by_brand returned other products too: "
                                  f"{[s for s in got if s not in mine][:5]}")
    return _notes(result)


# ---- step 3: updates ---------------------------------------------------------------------

def _read_then_write(result) -> bool:
    return bool(_commands(result, READ_COMMANDS))


def restock_adds_in_place(mongo, answer):
    token = _token()
    sku = f"CHK-{token}-R"
    stock = random.randint(3, 30)
    mongo.products.insert_one(_v1(token, "R", stock=stock))
    try:
        result = _call(answer, "updates.py", "restock", sku, 7)
        _value(result)
        after = mongo.products.find_one({"sku": sku})
    finally:
        _cleanup(mongo, token)
    added = sorted(set(after or {}) - set(_v1(token, "R")) - {"_id"})
    expect(after and after.get("stock") == stock + 7,
           f"restock({sku!r}, 7) left its stock at {after and after.get('stock')}; expected {stock} + 7 = {stock + 7}"
           + (f" — it wrote the new field(s) {added} instead: field names are case-sensitive, $inc 'stock'"
              if added else ""))
    expect(not _read_then_write(result),
           f"restock read the product first ({', '.join(_commands(result, READ_COMMANDS))}) and then wrote it: two "
           "restocks at once would lose one — let the server add with $inc in a single update")
    expect(any("$inc" in call for call in result.calls),
           f"restock sent {result.calls}; expected an update with $inc")
    return _notes(result)


def retag_adds_once_and_removes(mongo, answer):
    token = _token()
    sku = f"CHK-{token}-T"
    keep, drop, new = f"keep{token}", f"drop{token}", f"new{token}"
    mongo.products.insert_one(_v1(token, "T", tags=[keep, drop]))
    try:
        first = _call(answer, "updates.py", "retag", sku, new, drop)
        if not first.ok and "would create a conflict" in (first.error_message or ""):
            fail(f"retag({sku!r}, {new!r}, {drop!r}) sent $addToSet and $pull on tags in one update, which the "
                 "server refuses (two operators may not change one field in one update): send them as two "
                 "update_one calls, or two UpdateOne in one bulk_write")
        _value(first)
        second = _call(answer, "updates.py", "retag", sku, new, "absent")
        _value(second)
        tags = (mongo.products.find_one({"sku": sku}) or {}).get("tags")
    finally:
        _cleanup(mongo, token)
    expect(isinstance(tags, list), f"retag left tags as {tags!r}; expected an array")
    expect(drop not in tags, f"after retag({sku!r}, {new!r}, {drop!r}) the tags are {tags}; {drop!r} should be "
                             "gone — $pull removes it")
    expect(tags.count(new) == 1, f"after retag added {new!r} twice the tags are {tags}; expected it once — "
                                 "$addToSet adds only what is not there, $push always adds")
    expect(keep in tags, f"retag lost the tag {keep!r}: tags are {tags}; change only the two tags asked for")
    expect(not _read_then_write(first), "retag read the product and wrote the whole tag list back; update it in "
                                        "place with $addToSet and $pull")
    return _notes(first, second)


def set_price_upserts(mongo, answer):
    token = _token()
    known, new = f"CHK-{token}-P", f"CHK-{token}-NEW"
    mongo.products.insert_one(_v1(token, "P", price=10.0, stock=4))
    try:
        a = _call(answer, "updates.py", "set_price", known, "Renamed", 12.5)
        _value(a)
        b = _call(answer, "updates.py", "set_price", new, "Brand new", 99.0)
        _value(b)
        c = _call(answer, "updates.py", "set_price", new, "Brand new", 98.0)
        _value(c)
        old = mongo.products.find_one({"sku": known})
        created = list(mongo.products.find({"sku": new}))
    finally:
        _cleanup(mongo, token)
    expect(old and old.get("price") == 12.5 and old.get("name") == "Renamed",
           f"set_price({known!r}, 'Renamed', 12.5) left {old and {k: old.get(k) for k in ('name', 'price')}}")
    expect(old.get("stock") == 4 and old.get("tags") == [] and old.get("category") == f"check-{token.lower()}",
           f"set_price changed more than name and price: {known} now reads {old} — $set only those two fields; the new product's category and stock go in $setOnInsert, "
           "which applies only when the upsert inserts")
    expect(created, f"set_price({new!r}, ...) on a sku the catalogue does not have created nothing; pass "
                    "upsert=True so the update inserts when nothing matches")
    expect(len(created) == 1, f"set_price called twice made {len(created)} products {new}; an upsert on "
                              "{'sku': ...} makes one and then updates it")
    doc = created[0]
    expect(doc.get("price") == 98.0 and doc.get("name") == "Brand new",
           f"the new product reads {doc}; expected name 'Brand new' and the last price, 98.0")
    expect(doc.get("category") == "new" and doc.get("stock") == 0,
           f"the new product has category {doc.get('category')!r} and stock {doc.get('stock')!r}; expected 'new' "
           "and 0 — $setOnInsert sets them only when the upsert inserts")
    return _notes(a, b, c)


# ---- step 4: indexes and explain ----------------------------------------------------------

def _stages(plan) -> list[dict]:
    """Every stage of a winning plan, top first (classic plans, and SBE's queryPlan)."""
    found, todo = [], [plan]
    while todo:
        node = todo.pop(0)
        if not isinstance(node, dict):
            continue
        if "queryPlan" in node:
            todo.append(node["queryPlan"])
            continue
        if node.get("stage"):
            found.append(node)
        todo += [node.get("inputStage")] + list(node.get("inputStages") or [])
    return found


def _winning(cursor) -> list[dict]:
    explained = cursor.explain()
    planner = explained.get("queryPlanner") or {}
    return _stages(planner.get("winningPlan"))


def _plan_text(stages) -> str:
    if not stages:
        return "not a plan in MongoDB's shape (no stages)"
    return " → ".join(s["stage"] + (f"({s.get('indexName')})" if s.get("indexName") else "") for s in stages)


def _ixscans(stages) -> list[dict]:
    return [s for s in stages if s["stage"] == "IXSCAN"]


def _a_value(mongo, field):
    values = [v for v in mongo.products.distinct(field) if isinstance(v, str) and not v.startswith("check")]
    expect(values, f"products has no {field} values — load the catalogue again (step 1)")
    return random.choice(values)


def brand_query_uses_an_index(mongo):
    brand = _a_value(mongo, "brand")
    stages = _winning(mongo.products.find({"brand": brand}))
    expect(_ixscans(stages), f"the winning plan for find({{'brand': {brand!r}}}) is {_plan_text(stages)}: a "
                             "COLLSCAN reads every product — create an index on brand")


def category_by_price_uses_a_compound_index(mongo):
    category = _a_value(mongo, "category")
    stages = _winning(mongo.products.find({"category": category}).sort("price", 1))
    scans = _ixscans(stages)
    query = f"find({{'category': {category!r}}}).sort('price', 1)"
    expect(scans, f"the winning plan for {query} is {_plan_text(stages)}: a COLLSCAN then a sort in memory — "
                  "create a compound index whose keys are category first, then price")
    keys = list((scans[0].get("keyPattern") or {}).keys())
    expect(keys[:2] == ["category", "price"],
           f"the winning plan for {query} scans index {scans[0].get('indexName')} on {keys}; expected one whose "
           "keys are category first, then price (equality first, then the sort)")


def tag_query_uses_a_multikey_index(mongo):
    tag = random.choice([t for t in mongo.products.distinct("tags") if isinstance(t, str)] or ["camping"])
    stages = _winning(mongo.products.find({"tags": tag}))
    scans = _ixscans(stages)
    expect(scans, f"the winning plan for find({{'tags': {tag!r}}}) is {_plan_text(stages)}: create an index on "
                  "tags (an index on an array field is multikey: one entry per element)")
    expect(scans[0].get("isMultiKey") is True,
           f"the winning plan for find({{'tags': {tag!r}}}) scans {scans[0].get('indexName')}, which is not "
           "multikey; index the tags array itself")


# ---- step 5: aggregation ------------------------------------------------------------------

def _report_truth(mongo) -> list[dict]:
    stars: dict = {}
    for review in mongo.reviews.find({}, {"sku": 1, "stars": 1}):
        if isinstance(review.get("stars"), (int, float)):
            stars.setdefault(review.get("sku"), []).append(review["stars"])
    rows: dict = {}
    for product in mongo.products.find({"stock": {"$gt": 0}}, {"sku": 1, "category": 1, "price": 1}):
        row = rows.setdefault(product.get("category"), {"prices": [], "stars": []})
        row["prices"].append(product.get("price"))
        row["stars"] += stars.get(product.get("sku"), [])
    out = []
    for category, row in rows.items():
        prices = [p for p in row["prices"] if isinstance(p, (int, float))]
        out.append({"category": category, "products": len(row["prices"]),
                    "avg_price": sum(prices) / len(prices) if prices else None,
                    "avg_stars": sum(row["stars"]) / len(row["stars"]) if row["stars"] else None})
    return sorted(out, key=lambda r: (-r["products"], str(r["category"])))


_SECANTUS_PATHS = (" — on the local SecantusDB server, a path through an array of documents such as "
                   "\"$reviews.stars\" gives nothing inside an expression (MongoDB gives the array): use "
                   "{\"$map\": {\"input\": \"$reviews\", \"as\": \"r\", \"in\": \"$$r.stars\"}}, or $unwind")


def _secantus(mongo) -> bool:
    """The local SecantusDB server (its buildInfo says so), for its known differences."""
    return "secantusVersion" in mongo.client.admin.command("buildInfo")


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return isinstance(a, (int, float)) and abs(a - b) < 1e-6


def category_report_is_right(mongo, answer):
    token = _token()
    busy, quiet = f"check-{token.lower()}", f"check-{token.lower()}-quiet"
    seeded = [_v1(token, "A", category=busy, price=10.0, stock=3), _v1(token, "B", category=busy, price=20.0, stock=1),
              _v1(token, "C", category=busy, price=60.0, stock=8), _v1(token, "OUT", category=busy, price=1000.0, stock=0),
              _v1(token, "Q", category=quiet, price=7.0, stock=2)]
    reviews = [{"sku": f"CHK-{token}-A", "stars": 5}, {"sku": f"CHK-{token}-A", "stars": 4},
               {"sku": f"CHK-{token}-A", "stars": 3},
               {"sku": f"CHK-{token}-B", "stars": 1}, {"sku": f"CHK-{token}-OUT", "stars": 1}]
    mongo.products.insert_many([dict(doc) for doc in seeded])
    mongo.reviews.insert_many([dict(doc) for doc in reviews])
    try:
        truth = _report_truth(mongo)
        result = _call(answer, "report.py", "category_report")
        got = _value(result)
    finally:
        _cleanup(mongo, token)
    expect(isinstance(got, list) and all(isinstance(row, dict) for row in got),
           f"category_report returned {type(got).__name__}; expected a list of rows (dicts)")
    rows = {row.get("category"): row for row in got}
    for category in (busy, quiet):
        want = next(r for r in truth if r["category"] == category)
        row = rows.get(category)
        expect(row is not None, f"category_report has no row for the check's category {category!r}; rows: "
                                f"{sorted(map(str, rows))[:8]} — name the group's field 'category'")
        if category == busy and row.get("products") == 4:
            fail(f"category_report counts 4 products in {category!r}, where 3 are in stock: $match stock > 0 "
                 "before grouping")
        expect(row.get("products") == want["products"],
               f"category_report counts {row.get('products')} products in {category!r}; expected "
               f"{want['products']} — count products, not reviews: $unwind before $group counts each review")
        expect(_close(row.get("avg_price"), want["avg_price"]),
               f"category_report gives {category!r} an avg_price of {row.get('avg_price')}; expected {want['avg_price']}")
        if category == busy and _close(row.get("avg_stars"), (4 + 1) / 2):   # A's average 4, B's 1
            fail(f"category_report gives {category!r} avg_stars {row.get('avg_stars')}, the average of its "
                 f"products' averages; expected {want['avg_stars']}, the average over all their reviews (a "
                 "product with three reviews weighs three times one with a single review): add up the stars "
                 "and count the reviews per category, then divide")
        expect(_close(row.get("avg_stars"), want["avg_stars"]),
               f"category_report gives {category!r} avg_stars {row.get('avg_stars')}; expected {want['avg_stars']} "
               "(the average over all the reviews of its in-stock products; None when they have none)"
               + (_SECANTUS_PATHS if row.get("avg_stars") in (0, None) and _secantus(mongo) else ""))
    order = [row.get("category") for row in got]
    want_order = [row["category"] for row in truth]
    expect(order == want_order, f"category_report's rows come in the order {order[:6]}...; expected "
                                f"{want_order[:6]}... — most products first, then by category name")
    joined = [call for call in result.calls if call.startswith("aggregate[") and "$lookup" in call]
    expect(joined, f"category_report sent {result.calls or 'no commands'}; expected one aggregate with $lookup "
                   "(the join happens in the database, not in Python)")
    return _notes(result)


# ---- steps 6 and 7: schema evolution --------------------------------------------------------

def _expected_v2(v1: dict) -> dict:
    doc = {k: v for k, v in v1.items() if k not in ("currency", "_id")}
    doc["price"] = {"amount": v1["price"], "currency": v1["currency"]}
    doc["schema_version"] = 2
    return doc


def _differences(got: dict, want: dict) -> str:
    got = {k: v for k, v in (got or {}).items() if k != "_id"}
    lost = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    wrong = sorted(k for k in set(want) & set(got) if got[k] != want[k])
    parts = []
    if lost:
        parts.append(f"lost {lost}")
    if extra:
        parts.append(f"kept or added {extra}")
    if wrong:
        parts.append("; ".join(f"{k} is {got[k]!r}, expected {want[k]!r}" for k in wrong[:3]))
    return ", ".join(parts)


def _variant_v1(token, suffix) -> dict:
    return _v1(token, suffix, price=round(random.uniform(5, 500), 2), currency=random.choice(["EUR", "NOK", "SEK"]),
               tags=[f"t{random.randint(1, 99)}"], specs={"weight_kg": random.randint(1, 9), "color": "teal"},
               warranty_years=random.randint(1, 5))


def upgrade_keeps_every_field(answer):
    token = _token()
    v1 = _variant_v1(token, "U")
    v2 = _expected_v2(_variant_v1(token, "V"))
    result = _call(answer, "migrate.py", "upgrade", dict(v1), connect=None)
    got = _value(result)
    want = _expected_v2(v1)
    expect(isinstance(got, dict), f"upgrade returned {type(got).__name__}; expected the document (a dict)")
    problems = _differences(got, want)
    expect(not problems, f"upgrade of a v1 document {problems} — every field stays, price becomes "
                         "{'amount', 'currency'}, currency moves into it, schema_version 2")
    again = _value(_call(answer, "migrate.py", "upgrade", dict(v2), connect=None))
    problems = _differences(again, v2)
    expect(not problems, f"upgrade of a document already in v2 {problems}; a v2 document comes back unchanged")
    return _notes(result)


def get_product_migrates_on_read(mongo, answer):
    token = _token()
    old, current = _variant_v1(token, "OLD"), _expected_v2(_variant_v1(token, "CUR"))
    mongo.products.insert_many([dict(old), dict(current)])
    try:
        result = _call(answer, "migrate.py", "get_product", old["sku"])
        got = _value(result)
        stored = mongo.products.find_one({"sku": old["sku"]})
        unchanged = _value(_call(answer, "migrate.py", "get_product", current["sku"]))
        stored_current = mongo.products.find_one({"sku": current["sku"]})
        nothing = _value(_call(answer, "migrate.py", "get_product", f"CHK-{token}-MISSING"))
        count = mongo.products.count_documents({"sku": old["sku"]})
    finally:
        _cleanup(mongo, token)
    want = _expected_v2(old)
    problems = _differences(got, want)
    expect(not problems, f"get_product({old['sku']!r}) of a v1 document returned one that {problems}")
    problems = _differences(stored, want)
    if stored and stored.get("schema_version") != 2:
        fail(f"get_product({old['sku']!r}) returned the v2 shape but left the stored document in v1 — a lazy "
             "migration writes the upgraded document back as it reads it")
    expect(not problems, f"after get_product({old['sku']!r}) the stored document {problems}")
    expect(count == 1, f"after get_product there are {count} documents for {old['sku']}; replace the one read "
                       "(by its _id), do not insert another")
    expect(not _differences(unchanged, current), f"get_product of a v2 document returned one that "
                                                 f"{_differences(unchanged, current)}")
    expect(not _differences(stored_current, current), "get_product changed a document already in v2: "
                                                      f"{_differences(stored_current, current)}")
    expect(nothing is None, f"get_product of a sku that does not exist returned {nothing!r}; expected None")
    return _notes(result)


BULK = 40


def migrate_all_upgrades_everything(mongo, answer):
    token = _token()
    olds = [_variant_v1(token, f"M{i:02d}") for i in range(BULK)]
    current = _expected_v2(_variant_v1(token, "CUR"))
    mongo.products.insert_many([dict(doc) for doc in olds] + [dict(current)])
    try:
        before = mongo.products.count_documents({"schema_version": {"$ne": 2}})
        result = _call(answer, "migrate.py", "migrate_all", timeout=60)
        changed = _value(result)
        left = mongo.products.count_documents({"schema_version": {"$ne": 2}})
        stored = {doc["sku"]: doc for doc in mongo.products.find({"sku": {"$regex": f"^CHK-{token}"}})}
        again = _call(answer, "migrate.py", "migrate_all", timeout=60)
        changed_again = _value(again)
    finally:
        _cleanup(mongo, token)
    expect(left == 0, f"after migrate_all, {left} of {before} v1 products are still in v1 — every product without "
                      "schema_version 2 is upgraded")
    for old in olds[:5]:
        problems = _differences(stored.get(old["sku"]), _expected_v2(old))
        expect(not problems, f"migrate_all left {old['sku']} a document that {problems}")
    expect(not _differences(stored.get(current["sku"]), current),
           f"migrate_all changed a document already in v2: {_differences(stored.get(current['sku']), current)}")
    expect(changed == before, f"migrate_all returned {changed!r}; it changed {before} documents — return how "
                              "many it upgraded")
    expect(changed_again == 0, f"migrate_all run a second time returned {changed_again!r}; expected 0 (nothing "
                               "left to upgrade: run it again safely)")
    writes = _commands(result, WRITE_COMMANDS)
    expect(len(writes) <= 4, f"migrate_all sent {len(writes)} write commands to upgrade {before} documents, one "
                             "per document — a bulk migration sends them together (bulk_write, or one "
                             "update_many)")
    return _notes(result, again)


# ---- step 8: a validator ------------------------------------------------------------------

def _validator(mongo):
    info = mongo.command("listCollections", filter={"name": "products"})["cursor"]["firstBatch"]
    return (info[0].get("options") if info else {}) or {}


def _inserted(mongo, doc) -> bool:
    from pymongo.errors import WriteError

    try:
        mongo.products.insert_one(doc)
    except WriteError as exc:
        if exc.code == 121:           # DocumentValidationFailure
            return False
        raise
    return True


def validator_rejects_the_old_shape(mongo):
    token = _token()
    options = _validator(mongo)
    expect(options.get("validator"), "products has no validator yet — collMod with a $jsonSchema validator "
                                     "(run python validator.py)")
    try:
        v1_taken = _inserted(mongo, _variant_v1(token, "BAD"))
        negative = _expected_v2(_variant_v1(token, "NEG"))
        negative["price"]["amount"] = -5.0
        negative_taken = _inserted(mongo, negative)
        text_price = _expected_v2(_variant_v1(token, "TXT"))
        text_price["price"]["amount"] = "cheap"
        text_taken = _inserted(mongo, text_price)
    finally:
        _cleanup(mongo, token)
    if v1_taken and options.get("validationAction") == "warn":
        fail("products accepted a v1 document: its validator has validationAction 'warn', which only logs — "
             "set validationAction 'error'")
    expect(not v1_taken, "products accepted a document in the old v1 shape (price a number, no schema_version) "
                         "— the $jsonSchema must require schema_version and a price object")
    expect(not negative_taken, "products accepted a price with amount -5 — add minimum: 0 to price.amount")
    expect(not text_taken, "products accepted a price whose amount is the text 'cheap' — give price.amount a "
                           "numeric bsonType")


def validator_accepts_the_new_shape(mongo):
    token = _token()
    expect(_validator(mongo).get("validator"), "products has no validator yet — collMod with a $jsonSchema "
                                               "validator (run python validator.py)")
    good = _expected_v2(_variant_v1(token, "GOOD"))
    whole = _expected_v2(_variant_v1(token, "INT"))
    whole["price"]["amount"] = random.randint(2, 90)           # a whole number is a number too (int, not double)
    free = _expected_v2(_variant_v1(token, "FREE"))
    free["price"]["amount"] = 0.0                              # not negative: allowed
    try:
        taken = _inserted(mongo, dict(good))
        whole_taken = _inserted(mongo, dict(whole))
        free_taken = _inserted(mongo, dict(free))
    finally:
        _cleanup(mongo, token)
    expect(taken, f"products refused a valid v2 document {good} — the validator is stricter than the v2 shape")
    expect(whole_taken, f"products refused a v2 document whose price amount is the whole number "
                        f"{whole['price']['amount']} (an int, not a double) — a price is any number: bsonType "
                        "['double', 'int', 'long', 'decimal'], or 'number'")
    expect(free_taken, "products refused a v2 document with price amount 0 — only a negative amount is refused: "
                       "minimum: 0 (not exclusiveMinimum)")
    wrong = mongo.products.count_documents({"schema_version": {"$ne": 2}})
    expect(wrong == 0, f"{wrong} products are still in v1 — migrate them (step 7) so the collection matches "
                       "its validator")
