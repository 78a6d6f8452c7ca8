"""Typical mistakes: shared with the other MySQL-family lab (labs/_shared/mysql_bookshop.py)."""

from labrunner.labs.shared import export

export("mysql_bookshop", "MISTAKES", globals(), __file__)
