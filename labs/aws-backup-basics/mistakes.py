"""Typical wrong answers. `labrunner test` applies each from its step's start state and proves
that a check fails with the message lab.yaml promises."""

import importlib.util
import time

VAULT, PLAN, TABLE, BUCKET = "shop-vault", "shop-daily", "Orders", "shop-invoices"
ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"


def _quiet(*_):
    """The scripts' lines are for the learner's terminal, not for `labrunner solve`."""


def _workspace_module(lab_dir, name):
    spec = importlib.util.spec_from_file_location(f"aws_backup_basics_m_{name}", lab_dir / "workspace" / f"{name}.py")
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


def _orders_arn(dynamodb):
    return dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]


# ---- step 1 ----------------------------------------------------------------------

def _shop_and_vault(backup, dynamodb, s3, lab_dir):
    _workspace_module(lab_dir, "shop").open_shop(dynamodb, s3, say=_quiet)
    backup.create_backup_vault(BackupVaultName=VAULT)


def vault_without_lock(backup, dynamodb, s3, lab_dir):
    _shop_and_vault(backup, dynamodb, s3, lab_dir)


def lock_without_minimum(backup, dynamodb, s3, lab_dir):
    _shop_and_vault(backup, dynamodb, s3, lab_dir)
    backup.put_backup_vault_lock_configuration(BackupVaultName=VAULT, MaxRetentionDays=365)


def lock_in_compliance_mode(backup, dynamodb, s3, lab_dir):
    _shop_and_vault(backup, dynamodb, s3, lab_dir)
    backup.put_backup_vault_lock_configuration(BackupVaultName=VAULT, MinRetentionDays=7, ChangeableForDays=3)


def lock_caps_retention_below_the_plan(backup, dynamodb, s3, lab_dir):
    _shop_and_vault(backup, dynamodb, s3, lab_dir)
    backup.put_backup_vault_lock_configuration(BackupVaultName=VAULT, MinRetentionDays=7, MaxRetentionDays=30)


# ---- step 2 ----------------------------------------------------------------------

def _plan(backup, schedule="cron(0 5 ? * * *)", keep=35, vault=VAULT):
    backup.create_backup_plan(BackupPlan={"BackupPlanName": PLAN, "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": vault, "ScheduleExpression": schedule,
        "Lifecycle": {"DeleteAfterDays": keep}}]})


def plan_keeps_30_days(backup):
    _plan(backup, keep=30)


def plan_keeps_less_than_the_lock(backup):
    _plan(backup, keep=5)


def plan_runs_hourly(backup):
    _plan(backup, schedule="cron(0 * ? * * *)")


def plan_into_another_vault(backup):
    backup.create_backup_vault(BackupVaultName="Default")
    _plan(backup, vault="Default")


# ---- step 3 ----------------------------------------------------------------------

def _plan_id(backup):
    return next(p["BackupPlanId"] for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == PLAN)


def _tag_both(dynamodb, s3):
    dynamodb.tag_resource(ResourceArn=_orders_arn(dynamodb), Tags=[{"Key": "backup", "Value": "daily"}])
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "backup", "Value": "daily"}]})


def _select(backup, **how):
    backup.create_backup_selection(BackupPlanId=_plan_id(backup), BackupSelection={
        "SelectionName": "shop", "IamRoleArn": ROLE, **how})


def select_every_resource(backup, dynamodb, s3):
    _tag_both(dynamodb, s3)
    _select(backup, Resources=["*"])


def select_by_naming_the_two(backup, dynamodb, s3):
    _tag_both(dynamodb, s3)
    _select(backup, Resources=[_orders_arn(dynamodb), f"arn:aws:s3:::{BUCKET}"])


def tag_only_the_table(backup, dynamodb):
    dynamodb.tag_resource(ResourceArn=_orders_arn(dynamodb), Tags=[{"Key": "backup", "Value": "daily"}])
    _select(backup, Resources=["*"], Conditions={"StringEquals": [
        {"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "daily"}]})


# ---- step 4 ----------------------------------------------------------------------

def _backup(backup, vault, arn, **extra):
    job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=arn, IamRoleArn=ROLE, **extra)
    return _wait(lambda: backup.describe_backup_job(BackupJobId=job["BackupJobId"]), "State")


def back_up_into_an_unlocked_vault(backup, dynamodb):
    backup.create_backup_vault(BackupVaultName="Default")
    _backup(backup, "Default", _orders_arn(dynamodb))


def back_up_for_one_day(backup, dynamodb):
    _backup(backup, VAULT, _orders_arn(dynamodb), Lifecycle={"DeleteAfterDays": 1})


def back_up_the_bucket_only(backup):
    _backup(backup, VAULT, f"arn:aws:s3:::{BUCKET}")


# ---- step 5 ----------------------------------------------------------------------

def _incident(backup, dynamodb, s3, lab_dir, workspace):
    _workspace_module(lab_dir, "incident").happen(dynamodb, s3, backup, log_dir=workspace.path, say=_quiet)


def _restore(backup, dynamodb, target):
    points = backup.list_recovery_points_by_resource(ResourceArn=_orders_arn(dynamodb))["RecoveryPoints"]
    job = backup.start_restore_job(RecoveryPointArn=points[-1]["RecoveryPointArn"], IamRoleArn=ROLE,
                                   Metadata={"targetTableName": target})
    return _wait(lambda: backup.describe_restore_job(RestoreJobId=job["RestoreJobId"]), "Status")


def restore_without_copying_back(backup, dynamodb, s3, lab_dir, workspace):
    _incident(backup, dynamodb, s3, lab_dir, workspace)
    _restore(backup, dynamodb, "Orders-restored")


def copy_back_every_order(backup, dynamodb, s3, lab_dir, workspace):
    _incident(backup, dynamodb, s3, lab_dir, workspace)
    _restore(backup, dynamodb, "Orders-restored")
    for page in dynamodb.get_paginator("scan").paginate(TableName="Orders-restored"):
        for item in page["Items"]:
            dynamodb.put_item(TableName=TABLE, Item=item)      # overwrites what changed since the backup


def replace_the_table(backup, dynamodb, s3, lab_dir, workspace):
    _incident(backup, dynamodb, s3, lab_dir, workspace)
    arn = _orders_arn(dynamodb)
    points = backup.list_recovery_points_by_resource(ResourceArn=arn)["RecoveryPoints"]
    dynamodb.delete_table(TableName=TABLE)
    job = backup.start_restore_job(RecoveryPointArn=points[-1]["RecoveryPointArn"], IamRoleArn=ROLE,
                                   Metadata={"targetTableName": TABLE})
    _wait(lambda: backup.describe_restore_job(RestoreJobId=job["RestoreJobId"]), "Status")


# ---- step 6 ----------------------------------------------------------------------

def never_tried(backup):
    backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)


def unlock_then_delete(backup):
    point = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)["RecoveryPoints"][0]
    backup.delete_backup_vault_lock_configuration(BackupVaultName=VAULT)
    backup.delete_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=point["RecoveryPointArn"])


def delete_a_made_up_arn(backup):
    try:
        backup.delete_recovery_point(BackupVaultName=VAULT,
                                     RecoveryPointArn="arn:aws:backup:us-east-1:123456789012:recovery-point:made-up")
    except backup.exceptions.ResourceNotFoundException:
        pass
