"""Correct answers the reference solutions do not take: shared with the other MySQL-family lab
(labs/_shared/mysql_bookshop.py, ROUTES)."""

from labrunner.labs.shared import export

export("mysql_bookshop", "ROUTES", globals(), __file__)
