"""Amazon RDS for MySQL: the official mysql:8.4 image on Docker; without Docker, mysqld on PATH,
and where that is MariaDB (no MySQL server ships in any registry we reach) it says so plainly."""

from labrunner.services import mysql_family

IMAGE = "mysql:8.4.11"

SERVICE = mysql_family.make_service(
    name="mysql", aws_name="Amazon RDS for MySQL", image=IMAGE,
    docker_standin="MySQL 8.4 (the official mysql image)", env_prefix="MYSQL",
    clients=("mysql", "mysqldump"), want_mysql=True,
)
