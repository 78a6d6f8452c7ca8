"""AWS Backup: labrunner's own AWS Backup API in one process with moto's DynamoDB and S3.

No registry publishes an AWS Backup server, and moto has vaults and plans only, so
services/backup_server.py serves AWS Backup's REST-JSON API itself, beside moto's DynamoDB and S3
in the same process, like one AWS account's endpoint: its backup jobs read the real tables and
buckets there, and its restores create new ones. One endpoint for the three services.
"""

from __future__ import annotations

import sys

from labrunner.errors import RuntimeUnavailable
from labrunner.services.base import Endpoint, Service

IMAGE = "labrunner-local/aws-backup:5.2.5"
REGION = "us-east-1"
ACCOUNT = "123456789012"          # moto's account: ARNs name it
ACCESS_KEY = "labrunner"
SECRET_KEY = "labrunner"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"


def _client(name: str, endpoint: Endpoint):
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client(name, endpoint_url=endpoint.url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, config=config)


def backup(endpoint: Endpoint):
    return _client("backup", endpoint)


def dynamodb(endpoint: Endpoint):
    return _client("dynamodb", endpoint)


def s3(endpoint: Endpoint):
    return _client("s3", endpoint)


def probe(endpoint: Endpoint) -> None:
    """Ready when both halves answer: AWS Backup's ListBackupVaults and DynamoDB's ListTables."""
    import json
    import urllib.request

    def signed(service: str) -> str:
        return (f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/{REGION}/{service}/aws4_request, "
                "SignedHeaders=host, Signature=0")

    request = urllib.request.Request(endpoint.url + "/backup-vaults/", headers={"Authorization": signed("backup")})
    with urllib.request.urlopen(request, timeout=2) as response:
        json.loads(response.read())
    request = urllib.request.Request(endpoint.url, data=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": signed("dynamodb")})
    with urllib.request.urlopen(request, timeout=2) as response:
        json.loads(response.read() or b"{}")


def reset(endpoint: Endpoint) -> None:
    """Wipe everything: AWS Backup's state first (recovery points in locked vaults included, which
    the API itself refuses: labrunner's reset route), then every table and bucket."""
    import urllib.request

    request = urllib.request.Request(endpoint.url + "/_labrunner/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    ddb = dynamodb(endpoint)
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page.get("TableNames", []):
            ddb.delete_table(TableName=name)
    bucket_client = s3(endpoint)
    for bucket in bucket_client.list_buckets().get("Buckets", []):
        for page in bucket_client.get_paginator("list_object_versions").paginate(Bucket=bucket["Name"]):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                bucket_client.delete_object(Bucket=bucket["Name"], Key=entry["Key"], VersionId=entry["VersionId"])
        bucket_client.delete_bucket(Bucket=bucket["Name"])


def exports(endpoint: Endpoint) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint.url,        # backup, dynamodb and s3: one endpoint, like one account
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "BACKUP_ROLE_ARN": ROLE_ARN,
    }


class BackupServer:
    """labrunner's AWS Backup server with moto's DynamoDB and S3, as a local process."""

    standin = "labrunner's AWS Backup server with moto's DynamoDB and S3 (an emulator, not AWS)"
    refuses_root = False

    def find(self) -> str:
        from importlib.util import find_spec

        missing = [name for name in ("moto", "flask", "flask_cors", "yaml", "py_partiql_parser")
                   if find_spec(name) is None]
        if missing:
            raise RuntimeUnavailable(
                f"the local AWS Backup stand-in needs moto's DynamoDB and S3 (missing: {', '.join(missing)})",
                'install it: pip install "labrunner[local]" — or use Docker: --runtime docker',
            )
        from importlib.metadata import version

        from labrunner.services.moto_dynamodb import MOTO_VERSION

        found = version("moto")
        if found != MOTO_VERSION:
            raise RuntimeUnavailable(
                f"moto {found} is installed; the local AWS Backup stand-in needs moto {MOTO_VERSION}",
                f'install it: pip install "moto[dynamodb,s3]=={MOTO_VERSION}" — or use Docker: --runtime docker',
            )
        return "moto"

    def version(self) -> str:
        from importlib.metadata import version

        return f"moto {version('moto')} + labrunner's AWS Backup"

    def argv(self, port: int, data_dir: str) -> list[str]:
        return [sys.executable, "-m", "labrunner.services.backup_server", "-H", "127.0.0.1", "-p", str(port)]


SERVICE = Service(
    name="aws-backup",
    aws_name="AWS Backup",
    image=IMAGE,
    docker_standin="labrunner's AWS Backup server with moto's DynamoDB and S3 (an emulator, not AWS)",
    container_port=5000,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"backup": backup, "dynamodb": dynamodb, "s3": s3},
    shared_fixtures=("backup", "dynamodb", "s3"),
    local=BackupServer(),
    start_timeout=60.0,
    image_published=False,
    keeps_data=False,      # all in memory: `run` after `down` replays the solved steps
    learner_client="labrunner.services.aws_backup:backup",
)
