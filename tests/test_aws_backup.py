"""The AWS Backup stand-in (services/backup_server.py) on both runtimes, driven with boto3 over HTTP
exactly as a learner's code drives it: nothing is mocked. Backups read the real moto DynamoDB
tables and S3 buckets in the same process, restores create new ones, and the data is compared
item by item, object by object.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from labrunner import runtimes
from labrunner.runtimes.base import wait_ready
from labrunner.services import aws_backup

ROLE = aws_backup.ROLE_ARN
ACCOUNT = aws_backup.ACCOUNT


@pytest.fixture(scope="module", params=["local", "docker"])
def runtime(request):
    if request.param == "docker":
        from labrunner.runtimes import docker

        if not docker.available():
            if os.environ.get("LABRUNNER_REQUIRE_DOCKER") == "1":      # CI: a missing daemon is a failure
                pytest.fail("LABRUNNER_REQUIRE_DOCKER=1 but Docker is not reachable")
            pytest.skip("Docker is not reachable")
    return request.param


@pytest.fixture(scope="module")
def started(runtime, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABRUNNER_HOME", str(tmp_path_factory.mktemp(f"backup-{runtime}")))
        engine = runtimes.get(runtime)
        # a session id of its own: every test worker that runs this module starts its own container
        state = engine.launch(aws_backup.SERVICE, lab_id="backup-test", session_id=secrets.token_hex(6), port=None)
        try:
            yield engine, state, wait_ready(engine, aws_backup.SERVICE, state)
        finally:
            engine.remove(state)


@pytest.fixture
def endpoint(started):
    return started[2]


@pytest.fixture
def clients(endpoint):
    return aws_backup.backup(endpoint), aws_backup.dynamodb(endpoint), aws_backup.s3(endpoint)


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def _wait(fetch, key: str, done=("COMPLETED", "FAILED", "ABORTED"), seconds: float = 30) -> dict:
    deadline = time.time() + seconds
    while True:
        found = fetch()
        if found[key] in done or time.time() > deadline:
            return found
        time.sleep(0.3)


def _backup(backup, vault: str, arn: str, **extra) -> dict:
    job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=arn, IamRoleArn=ROLE, **extra)
    return _wait(lambda: backup.describe_backup_job(BackupJobId=job["BackupJobId"]), "State")


def _restore(backup, point: str, metadata: dict) -> dict:
    job = backup.start_restore_job(RecoveryPointArn=point, Metadata=metadata, IamRoleArn=ROLE)
    return _wait(lambda: backup.describe_restore_job(RestoreJobId=job["RestoreJobId"]), "Status")


def _items(dynamodb, table: str) -> list[dict]:
    items, kwargs = [], {}
    while True:
        page = dynamodb.scan(TableName=table, **kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["N"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _table(dynamodb, name: str, tags: list | None = None) -> str:
    return dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "status", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "ByStatus", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        Tags=tags or [])["TableDescription"]["TableArn"]


def _objects(s3, bucket: str) -> dict:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_a_table_restored_from_a_backup_is_the_table_at_backup_time(clients):
    backup, dynamodb, _ = clients
    vault, table = _name("vault"), _name("Orders")
    backup.create_backup_vault(BackupVaultName=vault)
    arn = _table(dynamodb, table)
    for i in range(30):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"c{i % 4}"}, "sk": {"N": str(i)},
                                                  "status": {"S": "open" if i % 3 else "shipped"},
                                                  "lines": {"L": [{"M": {"sku": {"S": f"s{i}"}, "qty": {"N": str(i + 1)}}}]},
                                                  "total": {"N": f"{i}.5"}})
    before = _items(dynamodb, table)
    job = _backup(backup, vault, arn)
    assert job["State"] == "COMPLETED", job.get("StatusMessage")
    point = job["RecoveryPointArn"]
    # the incident after the backup: one order deleted, one changed, one added
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "c1"}, "sk": {"N": "5"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "c2"}, "sk": {"N": "6"}, "status": {"S": "lost"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "c9"}, "sk": {"N": "99"}, "status": {"S": "open"}})
    after = _items(dynamodb, table)
    target = _name("Orders-restored")
    restore = _restore(backup, point, {"targetTableName": target})
    assert restore["Status"] == "COMPLETED", restore.get("StatusMessage")
    assert restore["CreatedResourceArn"].endswith(f":table/{target}")
    assert _items(dynamodb, target) == before != after
    assert _items(dynamodb, table) == after                    # a restore never overwrites the source
    restored = dynamodb.describe_table(TableName=target)["Table"]
    assert restored["KeySchema"] == dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    assert [i["IndexName"] for i in restored["GlobalSecondaryIndexes"]] == ["ByStatus"]
    shipped = dynamodb.query(TableName=target, IndexName="ByStatus", KeyConditionExpression="#s = :v",
                             ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":v": {"S": "shipped"}})
    assert shipped["Count"] == 10
    # restoring onto a table that exists is refused: a restore makes a NEW table
    with pytest.raises(ClientError) as refused:
        backup.start_restore_job(RecoveryPointArn=point, Metadata={"targetTableName": table}, IamRoleArn=ROLE)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    listed = backup.list_recovery_points_by_resource(ResourceArn=arn)["RecoveryPoints"]
    assert [p["RecoveryPointArn"] for p in listed] == [point]
    meta = backup.get_recovery_point_restore_metadata(BackupVaultName=vault, RecoveryPointArn=point)
    assert meta["RestoreMetadata"]["originalTableName"] == table and meta["ResourceType"] == "DynamoDB"


def test_a_bucket_restored_from_a_backup_is_the_bucket_at_backup_time(clients):
    backup, _, s3 = clients
    vault, bucket = _name("vault"), _name("invoices")
    backup.create_backup_vault(BackupVaultName=vault)
    s3.create_bucket(Bucket=bucket)
    for i in range(6):
        s3.put_object(Bucket=bucket, Key=f"2026/11/inv-{i}.json", Body=json.dumps({"n": i, "x": secrets.token_hex(8)}))
    s3.put_object(Bucket=bucket, Key="scan.bin", Body=bytes(range(256)) * 40)
    before = _objects(s3, bucket)
    job = _backup(backup, vault, f"arn:aws:s3:::{bucket}")
    assert job["State"] == "COMPLETED", job.get("StatusMessage")
    assert job["BackupSizeInBytes"] == sum(len(v) for v in before.values())
    s3.delete_object(Bucket=bucket, Key="2026/11/inv-2.json")
    s3.put_object(Bucket=bucket, Key="2026/11/inv-3.json", Body=b"overwritten")
    target = _name("invoices-restored")
    restore = _restore(backup, job["RecoveryPointArn"], {"DestinationBucketName": target, "NewBucket": "true"})
    assert restore["Status"] == "COMPLETED", restore.get("StatusMessage")
    assert _objects(s3, target) == before
    assert _objects(s3, bucket) != before                       # the source is left as it is


def test_vault_lock_refuses_to_delete_a_young_recovery_point(clients):
    backup, dynamodb, _ = clients
    locked, open_vault, table = _name("locked"), _name("open"), _name("Orders")
    arn = _table(dynamodb, table)
    for vault in (locked, open_vault):
        backup.create_backup_vault(BackupVaultName=vault)
    backup.put_backup_vault_lock_configuration(BackupVaultName=locked, MinRetentionDays=7)
    assert backup.describe_backup_vault(BackupVaultName=locked)["Locked"] is True
    kept = _backup(backup, locked, arn)["RecoveryPointArn"]
    free = _backup(backup, open_vault, arn)["RecoveryPointArn"]
    with pytest.raises(ClientError) as refused:
        backup.delete_recovery_point(BackupVaultName=locked, RecoveryPointArn=kept)
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "7 days" in refused.value.response["Error"]["Message"]
    backup.describe_recovery_point(BackupVaultName=locked, RecoveryPointArn=kept)     # still there
    backup.delete_recovery_point(BackupVaultName=open_vault, RecoveryPointArn=free)   # no lock: deleted
    with pytest.raises(ClientError) as gone:
        backup.describe_recovery_point(BackupVaultName=open_vault, RecoveryPointArn=free)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # a job keeping its backup for less than the lock's minimum fails, saying why
    short = _backup(backup, locked, arn, Lifecycle={"DeleteAfterDays": 3})
    assert short["State"] == "FAILED" and "minimum retention of 7 days" in short["StatusMessage"]
    with pytest.raises(ClientError) as not_empty:
        backup.delete_backup_vault(BackupVaultName=locked)
    assert not_empty.value.response["Error"]["Code"] == "InvalidRequestException"


def _run_plan(endpoint, plan_id: str) -> list[str]:
    request = urllib.request.Request(f"{endpoint.url}/_labrunner/backup-plans/{plan_id}/run", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["BackupJobIds"]


@pytest.mark.parametrize("shape", ["conditions", "list_of_tags"])
def test_a_selection_by_tag_backs_up_exactly_the_tagged_resources(clients, endpoint, shape):
    backup, dynamodb, s3 = clients
    tag = secrets.token_hex(3)                # this test's tag value: other tests' resources stay out
    vault = _name("vault")
    backup.create_backup_vault(BackupVaultName=vault)
    tagged_table = _table(dynamodb, _name("Orders"), [{"Key": "backup", "Value": tag}])
    _table(dynamodb, _name("Decoy"))                                                    # untagged
    _table(dynamodb, _name("Weekly"), [{"Key": "backup", "Value": tag + "-weekly"}])     # another value
    bucket, other = _name("invoices"), _name("scratch")
    for name in (bucket, other):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "backup", "Value": tag}]})
    s3.put_bucket_tagging(Bucket=other, Tagging={"TagSet": [{"Key": "owner", "Value": tag}]})
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": _name("daily"), "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": vault, "ScheduleExpression": "cron(0 5 ? * * *)",
        "Lifecycle": {"DeleteAfterDays": 35}}]})["BackupPlanId"]
    if shape == "conditions":
        selection = {"Resources": ["*"], "Conditions": {"StringEquals": [
            {"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": tag}]}}
    else:
        selection = {"ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": tag}]}
    backup.create_backup_selection(BackupPlanId=plan, BackupSelection={"SelectionName": "tagged", "IamRoleArn": ROLE,
                                                                       **selection})
    jobs = [_wait(lambda j=j: backup.describe_backup_job(BackupJobId=j), "State") for j in _run_plan(endpoint, plan)]
    assert sorted(j["ResourceArn"] for j in jobs) == sorted([tagged_table, f"arn:aws:s3:::{bucket}"])
    assert {j["State"] for j in jobs} == {"COMPLETED"}
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"]
    assert len(points) == 2 and {p["CreatedBy"]["BackupPlanId"] for p in points} == {plan}
    assert {p["Lifecycle"]["DeleteAfterDays"] for p in points} == {35}


def test_a_backup_of_a_missing_table_fails_and_says_why(clients):
    backup, _, _ = clients
    vault = _name("vault")
    backup.create_backup_vault(BackupVaultName=vault)
    job = _backup(backup, vault, f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/NoSuchTable")
    assert job["State"] == "FAILED" and "NoSuchTable does not exist" in job["StatusMessage"]
    assert "RecoveryPointArn" not in job


@pytest.mark.parametrize("call, code", [
    (lambda b: b.describe_backup_vault(BackupVaultName="no-such-vault"), "ResourceNotFoundException"),
    (lambda b: b.create_backup_vault(BackupVaultName="bad name!"), "InvalidParameterValueException"),
    (lambda b: b.get_backup_plan(BackupPlanId="00000000-0000-0000-0000-000000000000"), "ResourceNotFoundException"),
    (lambda b: b.start_backup_job(BackupVaultName="no-such-vault", ResourceArn="arn:aws:s3:::x", IamRoleArn=ROLE),
     "ResourceNotFoundException"),
    (lambda b: b.describe_restore_job(RestoreJobId="nope"), "ResourceNotFoundException"),
])
def test_bad_input_gets_aws_error_codes(clients, call, code):
    with pytest.raises(ClientError) as err:
        call(clients[0])
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["Error"]["Message"]


def test_errors_of_a_vault_that_exists(clients):
    backup, _, _ = clients
    vault = _name("vault")
    backup.create_backup_vault(BackupVaultName=vault)
    cases = [
        (lambda: backup.create_backup_vault(BackupVaultName=vault), "AlreadyExistsException"),
        (lambda: backup.start_backup_job(BackupVaultName=vault, ResourceArn="arn:aws:rds:us-east-1:1:db:x",
                                         IamRoleArn=ROLE), "InvalidParameterValueException"),
        (lambda: backup.put_backup_vault_lock_configuration(BackupVaultName=vault, MinRetentionDays=30,
                                                            MaxRetentionDays=7), "InvalidParameterValueException"),
        (lambda: backup.create_backup_plan(BackupPlan={"BackupPlanName": "p", "Rules": [{
            "RuleName": "r", "TargetBackupVaultName": "no-such-vault"}]}), "ResourceNotFoundException"),
    ]
    for call, code in cases:
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == code


def test_it_listens_on_loopback_only(started):
    engine, state, endpoint = started
    state = state if isinstance(state, dict) else vars(state)
    assert endpoint.host == "127.0.0.1"
    if state["runtime"] == "local":
        import psutil

        listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(state["pid"]).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening == {("127.0.0.1", state["port"])}
    else:
        container = engine.client.containers.get(state["container"])
        bindings = [b for ports in container.attrs["NetworkSettings"]["Ports"].values() for b in ports or []]
        assert bindings and {b["HostIp"] for b in bindings} == {"127.0.0.1"}


def test_a_bucket_made_again_under_an_old_name_has_no_tags(clients, endpoint):
    """moto alone hands a deleted bucket's tags to the next bucket of that name: a selection by
    tag would back up a bucket nobody tagged (backup_server.forget_tags_of_deleted_buckets)."""
    backup, _, s3 = clients
    bucket, tag = _name("reused"), secrets.token_hex(3)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "backup", "Value": tag}]})
    s3.delete_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as none:
        s3.get_bucket_tagging(Bucket=bucket)
    assert none.value.response["Error"]["Code"] == "NoSuchTagSet"
    vault = _name("vault")
    backup.create_backup_vault(BackupVaultName=vault)
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": _name("p"), "Rules": [{
        "RuleName": "r", "TargetBackupVaultName": vault}]})["BackupPlanId"]
    backup.create_backup_selection(BackupPlanId=plan, BackupSelection={
        "SelectionName": "t", "IamRoleArn": ROLE,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": tag}]})
    assert _run_plan(endpoint, plan) == []


def test_the_image_serves_backup_and_restore_without_labrunner(docker_runtime, monkeypatch):
    """The locally built image (LABRUNNER_IMAGE_AWS_BACKUP) started by testcontainers, not by
    labrunner: one port answers AWS Backup, DynamoDB and S3, and its label names moto's version."""
    from testcontainers.core.config import ConnectionMode, testcontainers_config
    from testcontainers.core.container import DockerContainer

    image = os.environ.get("LABRUNNER_IMAGE_AWS_BACKUP")
    if not image:
        pytest.skip("LABRUNNER_IMAGE_AWS_BACKUP is not set (source images/overrides.env)")
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", True)
    monkeypatch.setenv("DOCKER_HOST", docker_runtime.host.url)
    monkeypatch.setattr(testcontainers_config, "connection_mode_override", ConnectionMode.docker_host)
    monkeypatch.setattr(testcontainers_config, "tc_host_override", "127.0.0.1")
    from labrunner.services import moto_dynamodb
    from labrunner.services.base import Endpoint

    label = docker_runtime.client.images.get(image).labels.get("org.labrunner.engine", "")
    assert f"moto {moto_dynamodb.MOTO_VERSION}" in label
    container = DockerContainer(image)
    container.ports["5000"] = ("127.0.0.1", None)          # published on loopback only
    with container:
        endpoint = Endpoint("aws-backup", "127.0.0.1", int(container.get_exposed_port(5000)))
        deadline = time.time() + 60
        while True:
            try:
                aws_backup.probe(endpoint)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        backup, dynamodb = aws_backup.backup(endpoint), aws_backup.dynamodb(endpoint)
        backup.create_backup_vault(BackupVaultName="v1")
        arn = _table(dynamodb, "Tab1")
        dynamodb.put_item(TableName="Tab1", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "status": {"S": "x"}})
        job = _backup(backup, "v1", arn)
        assert job["State"] == "COMPLETED", job.get("StatusMessage")
        dynamodb.delete_item(TableName="Tab1", Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
        assert _restore(backup, job["RecoveryPointArn"], {"targetTableName": "Tab2"})["Status"] == "COMPLETED"
        assert [i["pk"]["S"] for i in dynamodb.scan(TableName="Tab2")["Items"]] == ["a"]


def test_reset_forgets_backups_tables_and_buckets(endpoint):
    backup, dynamodb, s3 = aws_backup.backup(endpoint), aws_backup.dynamodb(endpoint), aws_backup.s3(endpoint)
    vault = _name("vault")
    backup.create_backup_vault(BackupVaultName=vault)
    backup.put_backup_vault_lock_configuration(BackupVaultName=vault, MinRetentionDays=7)
    _backup(backup, vault, _table(dynamodb, _name("Orders")))
    s3.create_bucket(Bucket=_name("invoices"))
    aws_backup.reset(endpoint)
    assert backup.list_backup_vaults()["BackupVaultList"] == []
    assert dynamodb.list_tables()["TableNames"] == [] and s3.list_buckets()["Buckets"] == []
