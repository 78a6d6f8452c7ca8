"""Amazon DynamoDB: DynamoDB Local on Docker, moto's server without Docker."""

from __future__ import annotations

import sys

from labrunner.errors import RuntimeUnavailable
from labrunner.services.base import Endpoint, Service

IMAGE = "amazon/dynamodb-local:3.0.0"
REGION = "us-east-1"
# DynamoDB Local accepts any credentials whose key id is letters and digits only.
ACCESS_KEY = "labrunner"
SECRET_KEY = "labrunner"


def _client_kwargs(endpoint: Endpoint) -> dict:
    return {
        "endpoint_url": endpoint.url,
        "region_name": REGION,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
    }


def client(endpoint: Endpoint):
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client("dynamodb", config=config, **_client_kwargs(endpoint))


def resource(endpoint: Endpoint):
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.resource("dynamodb", config=config, **_client_kwargs(endpoint))


def probe(endpoint: Endpoint) -> None:
    """Ready when ListTables answers: a real request, not just an open port."""
    import json
    import urllib.request

    request = urllib.request.Request(
        endpoint.url,
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/{REGION}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        json.loads(response.read() or b"{}")


def reset(endpoint: Endpoint) -> None:
    ddb = client(endpoint)
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page.get("TableNames", []):
            ddb.delete_table(TableName=name)


def exports(endpoint: Endpoint) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint.url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


class MotoServer:
    """moto's DynamoDB emulator as a local process: pip-installable, starts in about a second."""

    standin = "moto server (a DynamoDB emulator, not AWS's engine; PartiQL fixed by labrunner)"
    refuses_root = False

    def find(self) -> str:
        """Cheap presence check (no imports): the engine is the `moto` package in this Python."""
        from importlib.util import find_spec

        missing = [name for name in ("moto", "flask", "flask_cors") if find_spec(name) is None]
        if missing:
            raise RuntimeUnavailable(
                f"the local DynamoDB stand-in (moto's server) is not installed (missing: {', '.join(missing)})",
                'install it: pip install "labrunner[local]" — or use Docker: --runtime docker',
            )
        from importlib.metadata import version

        from labrunner.services.moto_dynamodb import MOTO_VERSION

        found = version("moto")
        if found != MOTO_VERSION:
            raise RuntimeUnavailable(
                f"moto {found} is installed; the local DynamoDB stand-in needs moto {MOTO_VERSION} "
                "(labrunner fixes its PartiQL for that version)",
                f'install it: pip install "moto[dynamodb]=={MOTO_VERSION}" — or use Docker: --runtime docker',
            )
        return "moto"

    def version(self) -> str:
        from importlib.metadata import version

        return f"moto {version('moto')}"

    def argv(self, port: int, data_dir: str) -> list[str]:
        # moto's server through labrunner's launcher: PartiQL fixed, errors as JSON (moto_dynamodb.py)
        return [sys.executable, "-m", "labrunner.services.moto_dynamodb", "-H", "127.0.0.1", "-p", str(port)]


SERVICE = Service(
    name="dynamodb",
    aws_name="Amazon DynamoDB",
    image=IMAGE,
    docker_standin="DynamoDB Local (AWS's own local engine)",
    container_port=8000,
    command=("-jar", "DynamoDBLocal.jar", "-sharedDb", "-inMemory", "-disableTelemetry"),
    environment={"DDB_LOCAL_TELEMETRY": "0"},
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"dynamodb": client, "dynamodb_resource": resource},
    shared_fixtures=("dynamodb", "dynamodb_resource"),
    local=MotoServer(),
    start_timeout=60.0,
    keeps_data=False,      # DynamoDB Local runs -inMemory and moto keeps nothing: `run` rebuilds
    learner_client="labrunner.services.dynamodb:resource",
)

