"""Checks for this lab: shared with the other MySQL-family lab (labs/_shared/mysql_bookshop.py)."""

from labrunner.labs.shared import export

export("mysql_bookshop", "CHECKS", globals(), __file__)
