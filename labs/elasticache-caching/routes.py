"""Correct answers the reference solutions do not take, one or more per step: the loader run as
a learner runs it, a report cached as a hash under another key, SETEX, UNLINK after a commit of
one's own, a MULTI/EXEC write-through. `labrunner test` applies each from the step's start and
requires every check of the step to pass."""

LAZY, TTL, INVALIDATE, WRITE_THROUGH = ("cache-2-lazy-loading.py", "cache-3-ttl.py", "cache-4-invalidate.py",
                                        "cache-5-write-through.py")

AS_A_HASH = '''

def product_report(db, cache, product_id):
    """Cache-aside with the report kept as a hash: its fields come back as strings."""
    key = f"product:{product_id}:report"
    fields = cache.hgetall(key)
    if fields:
        return fields
    report = report_from_db(db, product_id)
    if report is not None:
        cache.hset(key, mapping={name: str(value) for name, value in report.items()})
    return report
'''


def load_shop_as_a_learner_does(session, workspace):
    """python load_shop.py in the lab folder, after eval "$(labrunner env)"."""
    import os
    import subprocess
    import sys

    from labrunner import services

    env = dict(os.environ, **services.get("postgres").exports(session.endpoint("postgres")))
    subprocess.run([sys.executable, "load_shop.py"], cwd=workspace.path, env=env, check=True,
                   capture_output=True, timeout=300)


def report_cached_as_a_hash(workspace):
    text = (workspace.lab.path / "solutions" / LAZY).read_text(encoding="utf-8")
    start = text.index("def product_report(")
    end = text.index("\ndef update_price(") if "\ndef update_price(" in text else len(text)
    workspace.file("cache.py").write_text(text[:start] + AS_A_HASH.lstrip("\n") + text[end:], encoding="utf-8")


def ttl_with_setex(workspace):
    workspace.install_variant("cache.py", TTL, {
        "cache.set(cache_key(product_id), json.dumps(report), ex=TTL_SECONDS)":
        "cache.setex(cache_key(product_id), TTL_SECONDS, json.dumps(report))"})


def invalidate_after_an_update_of_ones_own(workspace):
    """Its own UPDATE and commit instead of set_price, then UNLINK (a delete that frees memory
    in the background)."""
    workspace.install_variant("cache.py", INVALIDATE, {
        "    set_price(db, product_id, price)\n    cache.delete(cache_key(product_id))\n":
        "    with db.cursor() as cur:\n"
        "        cur.execute(\"UPDATE products SET price = %s WHERE id = %s\", (str(price), product_id))\n"
        "    db.commit()\n"
        "    cache.unlink(cache_key(product_id))\n"})


def write_through_in_a_transaction(workspace):
    workspace.install_variant("cache.py", WRITE_THROUGH, {
        "    report = report_from_db(db, product_id)\n"
        "    cache.set(cache_key(product_id), json.dumps(report), ex=TTL_SECONDS)\n":
        "    report = report_from_db(db, product_id)\n"
        "    with cache.pipeline(transaction=True) as pipe:        # MULTI ... EXEC\n"
        "        pipe.set(cache_key(product_id), json.dumps(report))\n"
        "        pipe.expire(cache_key(product_id), TTL_SECONDS)\n"
        "        pipe.execute()\n"})


def invalidate_twice_around_the_write(workspace):
    """Delete, write, delete again (a "double delete"): the first delete changes nothing, the
    second removes whatever a reader cached in between."""
    workspace.install_variant("cache.py", INVALIDATE, {
        "    set_price(db, product_id, price)\n    cache.delete(cache_key(product_id))\n":
        "    cache.delete(cache_key(product_id))\n"
        "    set_price(db, product_id, price)\n"
        "    cache.delete(cache_key(product_id))\n"})


def write_through_already_in_step_4(workspace):
    """Reading ahead: the new report replaces the old one instead of a delete."""
    workspace.install_solution("cache.py", source=WRITE_THROUGH)


def ttl_with_set_then_expire(workspace):
    """SET, then EXPIRE in a second command; and the TTL counted in milliseconds, as PX wants."""
    workspace.install_variant("cache.py", TTL, {
        "        cache.set(cache_key(product_id), json.dumps(report), ex=TTL_SECONDS)\n":
        "        cache.set(cache_key(product_id), json.dumps(report))\n"
        "        cache.pexpire(cache_key(product_id), TTL_SECONDS * 1000)\n"})
