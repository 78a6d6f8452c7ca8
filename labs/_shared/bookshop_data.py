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
