"""Step 5: read the past of a system-versioned table."""


def email_at(conn, customer_id, when):
    """The e-mail customer `customer_id` had at `when` (text: 'YYYY-MM-DD HH:MM:SS[.ffffff]'),
    or None if there was no such customer then."""
    with conn.cursor() as cur:
        cur.execute("SELECT email FROM shop.customers FOR SYSTEM_TIME AS OF TIMESTAMP %s "
                    "WHERE customer_id = %s", (when, customer_id))
        row = cur.fetchone()
    return row[0] if row else None
