"""Amazon RDS for MariaDB: the official mariadb image on Docker; Debian's MariaDB as a private
instance without Docker (the real engine)."""

from labrunner.services import mysql_family

IMAGE = "mariadb:11.8.8"

SERVICE = mysql_family.make_service(
    name="mariadb", aws_name="Amazon RDS for MariaDB", image=IMAGE,
    docker_standin="MariaDB 11.8 (the official mariadb image)", env_prefix="MARIADB",
    clients=("mariadb", "mariadb-dump", "mysql", "mysqldump"), want_mysql=False,
)
