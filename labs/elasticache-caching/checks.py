"""Checks for elasticache-caching: each calls the learner's cache.py in a child process and
reads the live servers: PostgreSQL (the source of truth) and the ElastiCache stand-in.

Fixtures: postgres (psycopg, autocommit), elasticache (redis-py client), answer, lab_dir.
The truth comes from the lab's own copy of shop.py, never the learner's.
"""

import importlib.util
import random
import statistics
import threading
import time
from decimal import Decimal

from labrunner.checks import expect, fail

READ_PRODUCTS = 5          # products read through the cache by the step 2 checks ...
READS_EACH = 8             # ... this many times each: 5 misses and 35 hits at best
MIN_HIT_RATIO = 0.8
MIN_SPEED_UP = 5          # cached p50 at least this many times below the database's (~100× here)
MAX_TTL = 3600
MIN_TTL = 5                # seconds: a report gone sooner is no cache (a TTL meant in seconds, given in ms)
CACHE_FUNCTIONS = {"file": "cache.py", "connect": ["postgres", "elasticache"], "shared": True,
                   "timeout": 40}

_modules: dict = {}


def starter_module(lab_dir, name):
    """The lab's own copy of a starter file (workspace/<name>.py), loaded once (solutions.py
    uses it too)."""
    if name not in _modules:
        spec = importlib.util.spec_from_file_location(f"elasticache_caching_{name}",
                                                      lab_dir / "workspace" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


def _run(answer, *calls):
    """Call cache.py's functions in order, in one child process with one db and one cache."""
    return answer.run(calls=list(calls), **CACHE_FUNCTIONS)


def _truth(postgres, lab_dir, product_id):
    return starter_module(lab_dir, "shop").report_from_db(postgres, product_id)


def _products(postgres):
    import psycopg

    try:
        products = postgres.execute("SELECT id, name FROM products ORDER BY id").fetchall()
    except psycopg.errors.UndefinedTable:
        products = []
    expect(products, "the shop has no products yet — run python load_shop.py in your workspace (step 1)")
    return products


def _cached_texts(cache) -> dict:
    """Every string or hash key in the cache with its value as text, read in two round trips."""
    keys = list(cache.scan_iter(count=1000))
    pipe = cache.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
    kinds = dict(zip(keys, pipe.execute())) if keys else {}
    readable = [key for key in keys if kinds[key] in ("string", "hash")]
    for key in readable:
        if kinds[key] == "string":
            pipe.get(key)
        else:
            pipe.hvals(key)
    values = pipe.execute() if readable else []
    return {key: value if isinstance(value, str) else " ".join(value or [])
            for key, value in zip(readable, values)}


def _report_keys(cache, name, texts: dict | None = None):
    """Keys whose value holds the report of the product called `name` (strings or hashes)."""
    texts = _cached_texts(cache) if texts is None else texts
    return [key for key, text in texts.items() if name in (text or "")]


def _uncached_product(postgres, cache):
    """A random product with no cached report yet (so a check sees its key being made)."""
    products = _products(postgres)
    texts = _cached_texts(cache)
    for _ in range(20):
        product_id, name = random.choice(products)
        if not _report_keys(cache, name, texts):
            return product_id, name
    return product_id, name


def _same(report, truth) -> bool:
    """Equal field by field, as text: a report cached in a hash comes back as strings."""
    if not isinstance(report, dict) or truth is None:
        return report == truth
    return {k: str(v) for k, v in report.items()} == {k: str(v) for k, v in truth.items()}


def _price(report):
    return str(report.get("price")) if isinstance(report, dict) else repr(report)


def _restore(postgres, cache, product_id, name, price):
    """Put the check's product back as it was: its price, and no cached report."""
    postgres.execute("UPDATE products SET price = %s WHERE id = %s", (price, product_id))
    for key in _report_keys(cache, name):
        cache.delete(key)


# ---- step 1: load ---------------------------------------------------------------------

def shop_is_loaded(postgres, lab_dir):
    loader = starter_module(lab_dir, "load_shop")
    tables = {row[0] for row in postgres.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    expect({"products", "order_lines"} <= tables,
           "the tables products and order_lines are not there yet — run python load_shop.py in your workspace "
           '(after eval "$(labrunner env)")')
    for table, want in (("products", loader.PRODUCTS), ("order_lines", loader.ORDER_LINES)):
        have = postgres.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        expect(have == want, f"{table} has {have:,} of {want:,} rows — run python load_shop.py again")


# ---- step 2: cache-aside -------------------------------------------------------------------

def _read_through_cache(answer, postgres):
    """product_report for READ_PRODUCTS random products, READS_EACH times each; (ids, results)."""
    ids = [row[0] for row in random.sample(_products(postgres), READ_PRODUCTS)]
    calls = [("product_report", (product_id,)) for product_id in ids for _ in range(READS_EACH)]
    return [args[0] for _, args in calls], _run(answer, *calls)


def reports_come_from_the_cache(answer, elasticache, postgres, lab_dir):
    elasticache.config_resetstat()
    ids, results = _read_through_cache(answer, postgres)
    stats = elasticache.info("stats")
    truths = {product_id: _truth(postgres, lab_dir, product_id) for product_id in set(ids)}
    for product_id, result in zip(ids, results):
        report = result.value_or_fail()
        expect(_same(report, truths[product_id]),
               f"product_report(db, cache, {product_id}) returned {str(report)[:160]}; "
               f"the database says {truths[product_id]}")
    hits, misses = stats["keyspace_hits"], stats["keyspace_misses"]
    reads = f"{len(results)} reads of {READ_PRODUCTS} products"
    expect(hits + misses, f"none of the {reads} asked the cache (INFO stats: keyspace_hits 0, "
                          "keyspace_misses 0) — product_report should GET the report's key first")
    ratio = hits / (hits + misses)
    expect(ratio >= MIN_HIT_RATIO,
           f"only {hits} of {hits + misses} cache lookups hit (hit ratio {ratio:.0%} in INFO stats) for {reads}: "
           "after a miss, product_report should SET the report, so the next read of that product hits")
    return f"hit ratio {ratio:.0%} (keyspace_hits {hits}, keyspace_misses {misses}) for {reads}"


def cached_reads_are_faster(answer, elasticache, postgres, lab_dir):
    ids, results = _read_through_cache(answer, postgres)
    for result in results:
        result.value_or_fail()
    # The database alone, timed the same way: in a child process, through shop.py's own function.
    direct = answer.run("shop.py", [("report_from_db", (product_id,)) for product_id in ids[::READS_EACH] * 2],
                        connect="postgres", shared=True, timeout=40)
    for result in direct:
        result.value_or_fail()
    cached_ms = statistics.median(r.seconds for r in results) * 1000
    direct_ms = statistics.median(r.seconds for r in direct) * 1000
    chart = starter_module(lab_dir, "measure").chart([
        (f"p50 of {len(results)} reads through cache.py", cached_ms),
        (f"p50 of {len(direct)} reads from PostgreSQL", direct_ms)])
    shown = "\n   " + "\n   ".join(chart)
    expect(cached_ms * MIN_SPEED_UP < direct_ms,
           f"reads through product_report take {cached_ms:.1f} ms at p50 and the database alone {direct_ms:.1f} ms: "
           "the cache saves nothing — does product_report ask PostgreSQL before it looks in the cache?" + shown)
    return f"{direct_ms / cached_ms:.0f}× faster at p50" + shown


# ---- step 3: ttl --------------------------------------------------------------------------

def _ttl_problem(cache, key, when: str) -> str:
    ttl_ms = cache.pttl(key)
    if ttl_ms == -1:
        return (f"{key} has no TTL{when} (TTL {key} says -1): a cached report would stay, stale, until memory "
                "runs out — SET it with ex=TTL_SECONDS")
    if ttl_ms > MAX_TTL * 1000:
        return (f"{key} expires in {ttl_ms // 1000:,} s{when}: that is more than an hour of stale prices; use "
                "TTL_SECONDS (300)")
    if 0 <= ttl_ms < MIN_TTL * 1000:
        return (f"{key} expires in {ttl_ms:,} ms{when}: gone before the next visitor comes. px= (PX, PEXPIRE) "
                "counts milliseconds, ex= (EX, EXPIRE) seconds — use ex=TTL_SECONDS")
    return ""


def cached_reports_expire(answer, elasticache, postgres):
    product_id, name = _uncached_product(postgres, elasticache)
    expired = elasticache.info("stats")["expired_keys"]
    (result,) = _run(answer, ("product_report", (product_id,)))
    result.value_or_fail()
    keys = _report_keys(elasticache, name)
    if not keys and elasticache.info("stats")["expired_keys"] > expired:
        fail(f"product_report(db, cache, {product_id}) cached the report of {name}, and it had expired already "
             "when the check looked a moment later (expired_keys in INFO stats went up): a TTL of milliseconds? "
             "px= (PX) counts milliseconds, ex= (EX) seconds — use ex=TTL_SECONDS")
    expect(keys, f"product_report(db, cache, {product_id}) left no copy of the report of {name} in the cache")
    for key in keys:
        problem = _ttl_problem(elasticache, key, "")
        if problem:
            fail(problem)
    return f"{keys[0]} expires in {elasticache.ttl(keys[0])} s"


# ---- steps 4 and 5: invalidate, write-through ----------------------------------------------------

def _price_change(postgres, product_id):
    before = postgres.execute("SELECT price FROM products WHERE id = %s", (product_id,)).fetchone()[0]
    return before, str(before + Decimal("1.25"))


def _stale_read(product_id, new_price, report) -> str:
    return (f"stale read: after update_price(db, cache, {product_id}, '{new_price}'), product_report(db, cache, "
            f"{product_id}) still says price {_price(report)!r} — the cache was never invalidated: delete the "
            "product's key once the database has the new price")


def _written(postgres, product_id, new_price, update) -> None:
    """Read through the check's own connection once update_price's connection is closed: only a
    committed price is there (a pending UPDATE was rolled back with its connection)."""
    update.value_or_fail()
    now = postgres.execute("SELECT price FROM products WHERE id = %s", (product_id,)).fetchone()[0]
    expect(str(now) == new_price, f"update_price(db, cache, {product_id}, '{new_price}') left the price at {now} "
                                  "in PostgreSQL once its connection closed: it must write the database, the source "
                                  "of truth, first, and commit (set_price commits; a bare UPDATE needs db.commit())")


def _update_while_a_reader_waits(answer, elasticache, postgres, product_id, new_price, name):
    """update_price with the product's row locked by the check, so its UPDATE waits; once it
    waits, anything it did first is done. If the cached report is already gone by then, the
    delete came before the write: the check reads through product_report (the reader who slips
    in between, and sees the old price), then lets the UPDATE go. Returns (update, early)."""
    box: dict = {}

    def update():
        try:
            (box["result"],) = _run(answer, ("update_price", (product_id, new_price)))
        except Exception as exc:                        # noqa: BLE001 — raised again below, in the check
            box["error"] = exc

    worker = threading.Thread(target=update, daemon=True)
    early = False
    try:
        with postgres.transaction():
            postgres.execute("SELECT 1 FROM products WHERE id = %s FOR UPDATE", (product_id,))
            worker.start()
            deadline = time.monotonic() + CACHE_FUNCTIONS["timeout"]
            while worker.is_alive() and time.monotonic() < deadline:
                if postgres.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
                    break                               # update_price waits for the check's lock
                time.sleep(0.02)
            if worker.is_alive() and not _report_keys(elasticache, name):
                early = True
                (reader,) = _run(answer, ("product_report", (product_id,)))
                reader.value_or_fail()
    finally:
        if worker.ident is not None:
            worker.join()                               # the lock is gone: update_price ends
    if "error" in box:
        raise box["error"]
    return box["result"], early


def no_stale_read_after_update(answer, elasticache, postgres):
    """Each call in a process of its own, with its own connections: nothing the check runs can
    commit what update_price left pending."""
    product_id, name = _uncached_product(postgres, elasticache)
    before, new_price = _price_change(postgres, product_id)
    try:
        (first,) = _run(answer, ("product_report", (product_id,)))
        first.value_or_fail()
        update, early = _update_while_a_reader_waits(answer, elasticache, postgres, product_id, new_price, name)
        _written(postgres, product_id, new_price, update)
        (again,) = _run(answer, ("product_report", (product_id,)))
        report = again.value_or_fail()
        if early and _price(report) != new_price:
            fail(f"stale read: update_price(db, cache, {product_id}, '{new_price}') deleted the cached report before "
                 "the new price was in PostgreSQL. A reader in between (the check read the product while the UPDATE "
                 f"waited) missed, read the old price and cached it again: product_report now says {_price(report)!r} "
                 "and will until the TTL ends — delete the key after set_price, not before")
        expect(_price(report) == new_price, _stale_read(product_id, new_price, report))
    finally:
        _restore(postgres, elasticache, product_id, name, before)


def read_after_update_hits_the_cache(answer, elasticache, postgres):
    product_id, name = _uncached_product(postgres, elasticache)
    before, new_price = _price_change(postgres, product_id)
    try:
        (first,) = _run(answer, ("product_report", (product_id,)))
        first.value_or_fail()
        (update,) = _run(answer, ("update_price", (product_id, new_price)))
        _written(postgres, product_id, new_price, update)
        elasticache.config_resetstat()
        (again,) = _run(answer, ("product_report", (product_id,)))
        stats = elasticache.info("stats")
        report = again.value_or_fail()
        expect(_price(report) == new_price, _stale_read(product_id, new_price, report))
        hits, misses = stats["keyspace_hits"], stats["keyspace_misses"]
        expect(hits and not misses,
               f"the read after update_price missed the cache (INFO stats: keyspace_misses {misses}, keyspace_hits "
               f"{hits}): that is lazy loading, which loads the new report on the next read — write-through puts "
               "it in the cache as update_price writes")
        for key in _report_keys(elasticache, name):
            problem = _ttl_problem(elasticache, key, " after update_price")
            if problem:
                fail(problem + " (write-through must set the TTL too)")
    finally:
        _restore(postgres, elasticache, product_id, name, before)
    _written_through_uncached_has_a_ttl(answer, elasticache, postgres)


def _written_through_uncached_has_a_ttl(answer, elasticache, postgres):
    """A price change of a product nobody has read: a report written through now has no old TTL
    to keep (SET ... KEEPTTL), so it needs its own."""
    product_id, name = _uncached_product(postgres, elasticache)
    before, new_price = _price_change(postgres, product_id)
    try:
        (update,) = _run(answer, ("update_price", (product_id, new_price)))
        _written(postgres, product_id, new_price, update)
        for key in _report_keys(elasticache, name):
            problem = _ttl_problem(elasticache, key, f" after update_price of product {product_id}, which was "
                                                     "not cached before")
            if problem:
                fail(problem + " (KEEPTTL keeps a TTL only where the key had one: the write-through SET needs "
                               "ex=TTL_SECONDS)")
    finally:
        _restore(postgres, elasticache, product_id, name, before)
