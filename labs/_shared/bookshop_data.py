"""The bookshop dataset as the checks of several labs compare it (customers.csv, orders.csv)."""

import csv
from decimal import Decimal


def rows(lab_dir, name):
    with open(lab_dir / "workspace" / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def totals(lab_dir):
    """(number of orders, sum of their totals) in orders.csv."""
    orders = rows(lab_dir, "orders.csv")
    return len(orders), sum(Decimal(r["total"]) for r in orders)


def free_orders(lab_dir):
    """How many orders in orders.csv cost nothing (0.00): a CHECK (total > 0) refuses them."""
    return sum(1 for r in rows(lab_dir, "orders.csv") if Decimal(r["total"]) == 0)


def read_export(path):
    """Rows of an exported orders CSV as (order_id, customer_id, total), with or without a header
    line, quoted or not (SQL*Plus CSV markup quotes; bcp does not)."""
    found = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for record in csv.reader(fh):
            cells = [c.strip() for c in record]
            if not any(cells):
                continue
            if not cells[0].lstrip("-").isdigit():
                continue                  # a header line
            found.append((int(cells[0]), int(cells[1]), Decimal(cells[2])))
    return found


def expect_customers(stored: dict, lab_dir, table: str, hint: str = "") -> None:
    """stored: customer_id -> (name, email, country), as read from the engine's `table`."""
    from labrunner.checks import expect

    expected = {int(r["customer_id"]): r for r in rows(lab_dir, "customers.csv")}
    missing = sorted(set(expected) - set(stored))
    expect(not missing, f"{table} has {len(stored)} rows; expected the {len(expected)} of customers.csv "
                        f"(missing e.g. customer {missing[0] if missing else ''}){hint}")
    for cid, row in expected.items():
        for index, name in enumerate(("name", "email", "country")):
            got = stored[cid][index]
            expect(got == row[name], f"customer {cid}'s {name} is {got!r}; customers.csv says {row[name]!r}")


def expect_orders(count: int, total, lab_dir, table: str, hint: str = "") -> None:
    """count and sum(total) of the engine's orders whose ids are those of orders.csv."""
    from labrunner.checks import expect

    want_count, want_total = totals(lab_dir)
    expect(count == want_count, f"{table} has {count} of the {want_count} orders in orders.csv{hint}")
    expect(Decimal(str(total)) == want_total,
           f"the totals of the orders add up to {total}; orders.csv adds up to {want_total}")
