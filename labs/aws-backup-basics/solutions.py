"""Reference solutions for aws-backup-basics, one per step (what `labrunner solve` applies)."""

import importlib.util
import time

VAULT, PLAN, TABLE, BUCKET = "shop-vault", "shop-daily", "Orders", "shop-invoices"
ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"


def _quiet(*_):
    """The scripts' lines are for the learner's terminal, not for `labrunner solve`."""


def _workspace_module(lab_dir, name):
    spec = importlib.util.spec_from_file_location(f"aws_backup_basics_{name}", lab_dir / "workspace" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wait(fetch, key, seconds=60):
    deadline = time.time() + seconds
    while True:
        found = fetch()
        if found[key] in ("COMPLETED", "FAILED", "ABORTED") or time.time() > deadline:
            return found
        time.sleep(0.5)


def open_shop_and_lock_a_vault(backup, dynamodb, s3, lab_dir):
    _workspace_module(lab_dir, "shop").open_shop(dynamodb, s3, say=_quiet)
    backup.create_backup_vault(BackupVaultName=VAULT)
    backup.put_backup_vault_lock_configuration(BackupVaultName=VAULT, MinRetentionDays=7)


def create_daily_plan(backup):
    backup.create_backup_plan(BackupPlan={
        "BackupPlanName": PLAN,
        "Rules": [{"RuleName": "daily", "TargetBackupVaultName": VAULT,
                   "ScheduleExpression": "cron(0 5 ? * * *)", "Lifecycle": {"DeleteAfterDays": 35}}],
    })


def _plan_id(backup):
    return next(p["BackupPlanId"] for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == PLAN)


def tag_and_select(backup, dynamodb, s3):
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "backup", "Value": "daily"}])
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "backup", "Value": "daily"}]})
    backup.create_backup_selection(BackupPlanId=_plan_id(backup), BackupSelection={
        "SelectionName": "tagged-daily", "IamRoleArn": ROLE, "Resources": ["*"],
        "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "daily"}]},
    })


def back_up_orders_now(backup, dynamodb):
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    job = backup.start_backup_job(BackupVaultName=VAULT, ResourceArn=arn, IamRoleArn=ROLE)
    _wait(lambda: backup.describe_backup_job(BackupJobId=job["BackupJobId"]), "State")


def restore_and_copy_back(backup, dynamodb, s3, lab_dir, workspace):
    incident = _workspace_module(lab_dir, "incident")
    if not any(b["Name"] == incident.TRUTH for b in s3.list_buckets()["Buckets"]):
        incident.happen(dynamodb, s3, backup, log_dir=workspace.path, say=_quiet)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    points = backup.list_recovery_points_by_resource(ResourceArn=arn)["RecoveryPoints"]
    newest = max((p for p in points if p["Status"] == "COMPLETED"), key=lambda p: p["CreationDate"])
    job = backup.start_restore_job(RecoveryPointArn=newest["RecoveryPointArn"], IamRoleArn=ROLE,
                                   Metadata={"targetTableName": "Orders-restored"})
    _wait(lambda: backup.describe_restore_job(RestoreJobId=job["RestoreJobId"]), "Status")
    for page in dynamodb.get_paginator("scan").paginate(TableName="Orders-restored"):
        for item in page["Items"]:
            try:
                dynamodb.put_item(TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(order_id)")
            except dynamodb.exceptions.ConditionalCheckFailedException:
                pass          # still in Orders, maybe changed since the backup: keep it as it is


def try_to_delete_a_locked_recovery_point(backup):
    point = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)["RecoveryPoints"][0]
    try:
        backup.delete_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=point["RecoveryPointArn"])
    except backup.exceptions.InvalidRequestException:
        pass          # refused: the vault lock keeps it for at least 7 days
