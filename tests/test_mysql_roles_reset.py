"""A learner who gives the reporting user its rights through a role (CREATE ROLE, GRANT role TO
user, SET DEFAULT ROLE) must not break every later reset: MariaDB keeps roles beside the users
in mysql.user and refuses DROP USER of a role (1396)."""

import pytest

from labrunner import sessions
from labrunner.services import mysql_family


@pytest.mark.parametrize("runtime", ["local", "docker"])
@pytest.mark.parametrize("service, lab", [("mariadb", "rds-mariadb-basics"), ("mysql", "rds-mysql-basics")])
def test_reset_drops_roles_a_learner_made(cli, service, lab, runtime):
    result = cli("run", lab, "--runtime", runtime, "--no-input")
    try:
        assert result.code == 0, result
        endpoint = sessions.find(lab).endpoint(service)
        conn = mysql_family.connect(endpoint)
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            mariadb = "mariadb" in cur.fetchone()[0].lower()
            cur.execute("CREATE DATABASE shop")
            cur.execute("CREATE ROLE shop_reader")
            cur.execute("GRANT SELECT ON shop.* TO shop_reader")
            cur.execute("CREATE USER 'reporting'@'%' IDENTIFIED BY 'read-only-please'")
            cur.execute("GRANT shop_reader TO 'reporting'@'%'")
            cur.execute(f"SET DEFAULT ROLE shop_reader {'FOR' if mariadb else 'TO'} 'reporting'@'%'")
        conn.close()

        mysql_family.reset(endpoint)          # raised OperationalError 1396 on MariaDB before
        mysql_family.reset(endpoint)          # and stays repeatable

        conn = mysql_family.connect(endpoint)
        with conn.cursor() as cur:
            cur.execute("SELECT User FROM mysql.user WHERE User IN ('shop_reader', 'reporting')")
            assert cur.fetchall() == ()
            cur.execute("SHOW DATABASES LIKE 'shop'")
            assert cur.fetchall() == ()
        conn.close()
    finally:
        cli("down", "--all", "--wipe")
