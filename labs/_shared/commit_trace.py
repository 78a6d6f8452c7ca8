"""What a PostgreSQL writer saw of a learner's client run (aurora-failover, rds-postgres-replicas).

Triggers on shop.orders record when each order's INSERT was stored, and refuse one chosen
order's COMMIT for a while (a serialization failure, as a busy writer gives), counting the
attempts. Sequences are not transactional, so the count and the first refusal's time survive
the rollbacks. A client that counts an order before its COMMIT returned is seen by the
refusal, and one that retries without waiting longer each time by the count.

    commit_trace = load("commit_trace", __file__)
    commit_trace.install(conn, refused="o-17", refuse_for=1.0)
    ...                                    # the learner's run
    commit_trace.tries(conn), commit_trace.written(conn)
    commit_trace.remove(conn)
"""

_TRACE = """
CREATE TABLE IF NOT EXISTS public.labrunner_written (order_id text, at timestamptz DEFAULT clock_timestamp());
CREATE SEQUENCE IF NOT EXISTS public.labrunner_refusals;
CREATE SEQUENCE IF NOT EXISTS public.labrunner_refused_since;
CREATE OR REPLACE FUNCTION public.labrunner_trace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.labrunner_written (order_id) VALUES (NEW.order_id::text);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION public.labrunner_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
BEGIN
  IF NEW.order_id::text <> '{refused}' THEN
    RETURN NULL;
  END IF;
  IF nextval('public.labrunner_refusals') = 1 THEN
    PERFORM setval('public.labrunner_refused_since', now_ms);
  ELSIF now_ms - (SELECT last_value FROM public.labrunner_refused_since) >= {refuse_ms} THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'could not serialize access due to a concurrent update' USING ERRCODE = '40001';
END $$;
CREATE TRIGGER labrunner_trace AFTER INSERT ON shop.orders FOR EACH ROW EXECUTE FUNCTION public.labrunner_trace();
CREATE CONSTRAINT TRIGGER labrunner_refuse AFTER INSERT ON shop.orders DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION public.labrunner_refuse();
"""

_UNTRACE = """
DROP TRIGGER IF EXISTS labrunner_trace ON shop.orders;
DROP TRIGGER IF EXISTS labrunner_refuse ON shop.orders;
DROP TRIGGER IF EXISTS labrunner_refuse_once ON shop.orders;
DROP FUNCTION IF EXISTS public.labrunner_trace();
DROP FUNCTION IF EXISTS public.labrunner_refuse();
DROP FUNCTION IF EXISTS public.labrunner_refuse_once();
DROP SEQUENCE IF EXISTS public.labrunner_refusals;
DROP SEQUENCE IF EXISTS public.labrunner_refused_since;
DROP TABLE IF EXISTS public.labrunner_written;
"""


def install(conn, refused: str, refuse_for: float) -> None:
    """The trace on shop.orders, in place of any left from an earlier run; `refused` is the order
    id whose COMMIT is refused for `refuse_for` seconds from its first attempt."""
    conn.execute(_UNTRACE)
    conn.execute(_TRACE.replace("{refused}", refused).replace("{refuse_ms}", str(int(refuse_for * 1000))))


def remove(conn) -> None:
    conn.execute(_UNTRACE)


def tries(conn) -> int:
    """How many times the refused order has reached COMMIT so far."""
    found = conn.execute("SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
                         "FROM public.labrunner_refusals").fetchall()
    return found[0][0] if found else 0


def written(conn) -> dict[str, float]:
    """order id -> when its last INSERT was stored (seconds since the epoch)."""
    found: dict[str, float] = {}
    for order_id, at in conn.execute("SELECT order_id, extract(epoch FROM at)::float8 "
                                     "FROM public.labrunner_written").fetchall():
        found[order_id] = max(found.get(order_id, 0.0), at)
    return found
