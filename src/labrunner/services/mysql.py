"""Amazon RDS for MySQL: the official mysql:8.4 image on Docker; without Docker, mysqld on PATH,
and where that is MariaDB (no MySQL server ships in any registry we reach) it says so plainly."""

from labrunner.services import mysql_family as family
from labrunner.services.base import Service

IMAGE = "mysql:8.4.11"

SERVICE = Service(
    name="mysql",
    aws_name="Amazon RDS for MySQL",
    image=IMAGE,
    docker_standin="MySQL 8.4 (the official mysql image)",
    container_port=3306,
    command=family.DOCKER_COMMAND,
    probe=family.probe,
    reset=family.reset,
    exports=family.exports,
    fixtures={"mysql": family.connection, "db": family.connection, "db_connect": family.connector},
    scheme="mysql",
    username=family.MASTER_USER,
    database=family.DATABASE,
    needs_password=True,
    docker_environment=family.docker_environment("MYSQL"),
    workspace_in_container="/workspace",
    clients=("mysql", "mysqldump"),
    client_args=family.client_args,
    shell="mysql",
    initialize=family.initialize,
    local=family.PrivateServer(want_mysql=True),
    start_timeout=120.0,
)
