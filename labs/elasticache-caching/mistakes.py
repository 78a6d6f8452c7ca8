"""Typical wrong answers for elasticache-caching, each proven caught by `labrunner test`.

Each wrong cache.py is a reference version with one change, made here.
"""

LAZY, TTL, INVALIDATE, WRITE_THROUGH = ("cache-2-lazy-loading.py", "cache-3-ttl.py", "cache-4-invalidate.py",
                                        "cache-5-write-through.py")


def order_lines_missing(postgres, lab):
    """The load stopped half way: products are there, order lines are not."""
    lab.modules["solutions"].load_the_shop(postgres, lab)
    postgres.execute("TRUNCATE order_lines")


def database_first(workspace):
    """Asks PostgreSQL on every read, then serves the cached copy: hits, and no faster."""
    workspace.install_variant("cache.py", LAZY, {
        "    cached = cache.get(cache_key(product_id))\n":
        "    report_from_db(db, product_id)\n    cached = cache.get(cache_key(product_id))\n"})


def one_key_for_every_product(workspace):
    workspace.install_variant("cache.py", LAZY, {'return f"report:{product_id}"': 'return "report"'})


def expire_before_set(workspace):
    """EXPIRE on a key that is not there yet does nothing, and the SET after it has no TTL."""
    workspace.install_variant("cache.py", LAZY, {
        "        cache.set(cache_key(product_id), json.dumps(report))\n":
        "        cache.expire(cache_key(product_id), TTL_SECONDS)\n"
        "        cache.set(cache_key(product_id), json.dumps(report))\n"})


def deletes_another_key(workspace):
    workspace.install_variant("cache.py", INVALIDATE,
                              {"cache.delete(cache_key(product_id))": 'cache.delete(f"report-{product_id}")'})


def write_through_before_the_write(workspace):
    """Builds the new report before the UPDATE: it caches the old price."""
    workspace.install_variant("cache.py", WRITE_THROUGH, {
        "    set_price(db, product_id, price)\n    report = report_from_db(db, product_id)\n":
        "    report = report_from_db(db, product_id)\n    set_price(db, product_id, price)\n"})


def write_through_without_ttl(workspace):
    done = "    report = report_from_db(db, product_id)\n    cache.set(cache_key(product_id), json.dumps(report)"
    workspace.install_variant("cache.py", WRITE_THROUGH, {done + ", ex=TTL_SECONDS)\n": done + ")\n"})


def update_without_commit(workspace):
    """Its own UPDATE, never committed: the old report is deleted, the new price never stored.
    (A later read on the same connection would commit it by accident: report_from_db commits.)"""
    workspace.install_variant("cache.py", INVALIDATE, {
        "    set_price(db, product_id, price)\n":
        "    db.execute(\"UPDATE products SET price = %s WHERE id = %s\", (str(price), product_id))\n"})


def deletes_before_the_write(workspace):
    """DEL first, then the UPDATE: a reader in between caches the old price again."""
    workspace.install_variant("cache.py", INVALIDATE, {
        "    set_price(db, product_id, price)\n    cache.delete(cache_key(product_id))\n":
        "    cache.delete(cache_key(product_id))\n    set_price(db, product_id, price)\n"})


def forgets_to_invalidate(workspace):
    """Cache-aside with a TTL, and update_price left as it was: the TTL alone keeps the old price."""
    workspace.install_variant("cache.py", TTL, {})


def ttl_in_milliseconds(workspace):
    """px= where ex= was meant: 300 milliseconds, not 300 seconds."""
    workspace.install_variant("cache.py", LAZY, {
        "        cache.set(cache_key(product_id), json.dumps(report))\n":
        "        cache.set(cache_key(product_id), json.dumps(report), px=TTL_SECONDS)\n"})


def write_through_keeping_the_old_ttl(workspace):
    """SET ... KEEPTTL: fine where the report was cached, no TTL at all where it was not."""
    done = "    report = report_from_db(db, product_id)\n    cache.set(cache_key(product_id), json.dumps(report)"
    workspace.install_variant("cache.py", WRITE_THROUGH, {done + ", ex=TTL_SECONDS)\n": done + ", keepttl=True)\n"})
