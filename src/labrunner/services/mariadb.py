"""Amazon RDS for MariaDB: the official mariadb image on Docker; Debian's MariaDB as a private
instance without Docker (the real engine)."""

from labrunner.services import mysql_family as family
from labrunner.services.base import Service

IMAGE = "mariadb:11.8.8"

SERVICE = Service(
    name="mariadb",
    aws_name="Amazon RDS for MariaDB",
    image=IMAGE,
    docker_standin="MariaDB 11.8 (the official mariadb image)",
    container_port=3306,
    command=family.DOCKER_COMMAND,
    probe=family.probe,
    reset=family.reset,
    exports=family.exports,
    fixtures={"mariadb": family.connection, "db": family.connection, "db_connect": family.connector},
    scheme="mysql",
    username=family.MASTER_USER,
    database=family.DATABASE,
    needs_password=True,
    docker_environment=family.docker_environment("MARIADB"),
    workspace_in_container="/workspace",
    clients=("mariadb", "mariadb-dump", "mysql", "mysqldump"),
    client_args=family.client_args,
    shell="mariadb",
    initialize=family.initialize,
    local=family.PrivateServer(want_mysql=False),
    start_timeout=90.0,
)
