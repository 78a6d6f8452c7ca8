"""Correct answers the reference solution does not take. `labrunner test` starts each from its
step's start state, applies it, and requires every check of the step to pass.

The aws CLI where the solution uses boto3, ListOfTags where it uses Conditions, another way of
writing a daily cron, the plan run "now" instead of an on-demand job, PartiQL INSERT (which
refuses an existing key) instead of a conditional put: the checks judge the stand-in's state.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

VAULT, PLAN, TABLE, BUCKET = "shop-vault", "shop-daily", "Orders", "shop-invoices"
ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"


def _env(endpoints):
    from labrunner.services import aws_backup

    return dict(os.environ, **aws_backup.exports(endpoints["aws-backup"]))


def _aws(endpoints, workspace, *args, check=True):
    """Run the aws CLI as a learner would after `eval "$(labrunner env)"`, in the lab folder."""
    program = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if not program:
        raise RuntimeError("the aws CLI is not installed here (pip install awscli)")
    done = subprocess.run([program, *args, "--output", "json"], env=_env(endpoints), cwd=str(workspace.path),
                          check=check, capture_output=True, text=True, timeout=60)
    return json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else done


def _until_done(endpoints, workspace, *describe, key):
    for _ in range(120):
        found = _aws(endpoints, workspace, *describe)
        if found[key] in ("COMPLETED", "FAILED", "ABORTED"):
            return found
        time.sleep(0.5)
    raise RuntimeError(f"{' '.join(describe)} never finished")


# ---- step 1 ----------------------------------------------------------------------

def shop_script_and_cli(endpoints, workspace):
    subprocess.run([sys.executable, "shop.py"], env=_env(endpoints), cwd=str(workspace.path), check=True,
                   capture_output=True, timeout=120)
    _aws(endpoints, workspace, "backup", "create-backup-vault", "--backup-vault-name", VAULT)
    _aws(endpoints, workspace, "backup", "put-backup-vault-lock-configuration", "--backup-vault-name", VAULT,
         "--min-retention-days", "7", "--max-retention-days", "3650")


# ---- step 2 ----------------------------------------------------------------------

def plan_from_a_json_file_with_the_cli(endpoints, workspace):
    workspace.file("plan.json").write_text(json.dumps({
        "BackupPlanName": PLAN,
        "Rules": [{"RuleName": "nightly", "TargetBackupVaultName": VAULT,
                   "ScheduleExpression": "cron(30 2 * * ? *)", "StartWindowMinutes": 60,
                   "Lifecycle": {"DeleteAfterDays": 35}}]}), encoding="utf-8")
    _aws(endpoints, workspace, "backup", "create-backup-plan", "--backup-plan", "file://plan.json")


# ---- step 3 ----------------------------------------------------------------------

def list_of_tags_with_the_cli(endpoints, workspace):
    arn = _aws(endpoints, workspace, "dynamodb", "describe-table", "--table-name", TABLE)["Table"]["TableArn"]
    _aws(endpoints, workspace, "dynamodb", "tag-resource", "--resource-arn", arn, "--tags", "Key=backup,Value=daily")
    _aws(endpoints, workspace, "s3api", "put-bucket-tagging", "--bucket", BUCKET,
         "--tagging", "TagSet=[{Key=backup,Value=daily}]")
    plan_id = next(p["BackupPlanId"] for p in _aws(endpoints, workspace, "backup", "list-backup-plans")
                   ["BackupPlansList"] if p["BackupPlanName"] == PLAN)
    workspace.file("selection.json").write_text(json.dumps({
        "SelectionName": "daily-tag", "IamRoleArn": ROLE,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}]}),
        encoding="utf-8")
    _aws(endpoints, workspace, "backup", "create-backup-selection", "--backup-plan-id", plan_id,
         "--backup-selection", "file://selection.json")


# ---- step 4 ----------------------------------------------------------------------

def on_demand_job_with_the_cli(endpoints, workspace):
    arn = _aws(endpoints, workspace, "dynamodb", "describe-table", "--table-name", TABLE)["Table"]["TableArn"]
    job = _aws(endpoints, workspace, "backup", "start-backup-job", "--backup-vault-name", VAULT,
               "--resource-arn", arn, "--iam-role-arn", ROLE, "--lifecycle", "DeleteAfterDays=35")
    _until_done(endpoints, workspace, "backup", "describe-backup-job", "--backup-job-id", job["BackupJobId"],
                key="State")


def run_the_plan_now(endpoints, backup):
    plan_id = next(p["BackupPlanId"] for p in backup.list_backup_plans()["BackupPlansList"]
                   if p["BackupPlanName"] == PLAN)
    request = urllib.request.Request(f"{endpoints['aws-backup'].url}/_labrunner/backup-plans/{plan_id}/run",
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        jobs = json.loads(response.read())["BackupJobIds"]
    for job in jobs:
        for _ in range(120):
            if backup.describe_backup_job(BackupJobId=job)["State"] in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.5)


# ---- step 5 ----------------------------------------------------------------------

def restore_with_the_cli_and_copy_with_partiql(endpoints, workspace, dynamodb):
    subprocess.run([sys.executable, "incident.py"], env=_env(endpoints), cwd=str(workspace.path), check=True,
                   capture_output=True, timeout=120)
    arn = _aws(endpoints, workspace, "dynamodb", "describe-table", "--table-name", TABLE)["Table"]["TableArn"]
    points = _aws(endpoints, workspace, "backup", "list-recovery-points-by-resource", "--resource-arn", arn)
    point = max(points["RecoveryPoints"], key=lambda p: p["CreationDate"])["RecoveryPointArn"]
    job = _aws(endpoints, workspace, "backup", "start-restore-job", "--recovery-point-arn", point,
               "--iam-role-arn", ROLE, "--metadata", "targetTableName=OrdersBeforeIncident")
    _until_done(endpoints, workspace, "backup", "describe-restore-job", "--restore-job-id", job["RestoreJobId"],
                key="Status")
    for page in dynamodb.get_paginator("scan").paginate(TableName="OrdersBeforeIncident"):
        for item in page["Items"]:
            values = [item["order_id"], item["customer"], item["status"], item["total"], item["lines"]]
            try:
                dynamodb.execute_statement(
                    Statement=f'INSERT INTO "{TABLE}" VALUE {{\'order_id\': ?, \'customer\': ?, \'status\': ?, '
                              "'total': ?, 'lines': ?}", Parameters=values)
            except dynamodb.exceptions.DuplicateItemException:
                pass          # INSERT never overwrites: the order is still there


# ---- step 6 ----------------------------------------------------------------------

def delete_with_the_cli(endpoints, workspace):
    points = _aws(endpoints, workspace, "backup", "list-recovery-points-by-backup-vault",
                  "--backup-vault-name", VAULT)["RecoveryPoints"]
    refused = _aws(endpoints, workspace, "backup", "delete-recovery-point", "--backup-vault-name", VAULT,
                   "--recovery-point-arn", points[0]["RecoveryPointArn"], check=False)
    if getattr(refused, "returncode", 0) == 0 or "InvalidRequestException" not in refused.stderr:
        raise RuntimeError(f"expected the delete to be refused: {refused}")
