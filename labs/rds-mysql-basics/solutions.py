"""Reference solutions: shared with the other MySQL-family lab (labs/_shared/mysql_bookshop.py)."""

from labrunner.labs.shared import export

export("mysql_bookshop", "SOLUTIONS", globals(), __file__)
