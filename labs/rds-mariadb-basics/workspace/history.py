"""Step 5: read the past of a system-versioned table.

`labrunner check` calls email_at with a PyMySQL connection to the lab's server (not autocommit)
and the moments it chose; try it yourself from Python:

    import pymysql, history
    conn = pymysql.connect(host=..., port=..., user=..., password=...)   # `labrunner env` shows them
    print(history.email_at(conn, 1, "2026-11-30 10:15:00"))
"""


def email_at(conn, customer_id, when):
    """The e-mail customer `customer_id` had at `when` (text: 'YYYY-MM-DD HH:MM:SS[.ffffff]'),
    or None if there was no such customer then."""
    raise NotImplementedError("write email_at: SELECT ... FROM shop.customers FOR SYSTEM_TIME AS OF ...")
