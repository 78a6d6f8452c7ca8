"""Checks for aws-backup-basics. Each reads the live stand-in: AWS Backup's vaults, plans,
selections, jobs and recovery points, and the DynamoDB table and S3 bucket they protect. None
reads the learner's text.

Fixtures: backup, dynamodb, s3 (boto3 clients on the one endpoint), endpoints, lab_dir.

Where the end state cannot tell (which resources a selection picks, a refused delete), the
checks ask the stand-in's labrunner routes: what the plan's selections pick now (after the check
adds a tagged and an untagged table of its own), and the AWS Backup calls made.
"""

import json
import re
import secrets
import time
import urllib.request

from labrunner.checks import expect, fail

VAULT, PLAN, TABLE, BUCKET, TRUTH = "shop-vault", "shop-daily", "Orders", "shop-invoices", "shop-lab-truth"
MIN_DAYS, KEEP_DAYS = 7, 35
ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"


# ---- helpers -------------------------------------------------------------

def _labrunner(endpoints, path, method="GET"):
    request = urllib.request.Request(endpoints["aws-backup"].url + "/_labrunner/" + path, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _vault(backup):
    try:
        return backup.describe_backup_vault(BackupVaultName=VAULT)
    except backup.exceptions.ResourceNotFoundException:
        names = [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]
        fail(f"there is no backup vault named '{VAULT}' yet (found: {', '.join(names) or 'none'}) — step 1 creates it")


def _table_arn(dynamodb):
    try:
        return dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    except dynamodb.exceptions.ResourceNotFoundException:
        fail(f"there is no table '{TABLE}': open the shop first (python shop.py in your lab folder)")


def _plan(backup):
    plans = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == PLAN]
    expect(plans, f"there is no backup plan named '{PLAN}' yet — step 2 creates it")
    return backup.get_backup_plan(BackupPlanId=plans[0]["BackupPlanId"])


def _tags_of_table(dynamodb, arn):
    return {t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(ResourceArn=arn).get("Tags", [])}


def _tags_of_bucket(s3):
    try:
        return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchTagSet", "NoSuchTagSetError"):
            return {}
        if exc.response["Error"]["Code"] == "NoSuchBucket":
            fail(f"there is no bucket '{BUCKET}': open the shop first (python shop.py in your lab folder)")
        raise


def _scan(dynamodb, table):
    items, kwargs = [], {}
    while True:
        page = dynamodb.scan(TableName=table, **kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return {i["order_id"]["S"]: i for i in items}
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _plain(attr):
    """DynamoDB JSON -> the plain value incident.py recorded (numbers as strings)."""
    (kind, value), = attr.items()
    if kind == "L":
        return [_plain(v) for v in value]
    if kind == "M":
        return {k: _plain(v) for k, v in value.items()}
    return value


def _wait(fetch, key, seconds=30):
    deadline = time.time() + seconds
    while True:
        found = fetch()
        if found[key] in ("COMPLETED", "FAILED", "ABORTED") or time.time() > deadline:
            return found
        time.sleep(0.3)


# ---- step 1: a locked vault ---------------------------------------------------

def shop_is_open(dynamodb, s3):
    orders = _scan(dynamodb, TABLE) if _table_arn(dynamodb) else {}
    expect(orders, f"table {TABLE} is empty: run python shop.py in your lab folder")
    try:
        invoices = s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
    except s3.exceptions.NoSuchBucket:
        fail(f"there is no bucket '{BUCKET}': run python shop.py in your lab folder")
    expect(invoices, f"bucket {BUCKET} holds no invoices: run python shop.py in your lab folder")


def vault_exists(backup):
    _vault(backup)


def vault_is_locked_for_seven_days(backup):
    vault = _vault(backup)
    expect(vault.get("Locked"), f"vault '{VAULT}' has no Vault Lock: put-backup-vault-lock-configuration adds it")
    low = vault.get("MinRetentionDays")
    expect(low is not None, f"the Vault Lock on '{VAULT}' has no minimum retention (MinRetentionDays); "
                            f"the shop's policy is to keep every backup at least {MIN_DAYS} days")
    expect(low == MIN_DAYS, f"the Vault Lock on '{VAULT}' keeps backups at least {low} days; the policy says "
                            f"{MIN_DAYS} (MinRetentionDays {MIN_DAYS})")
    high = vault.get("MaxRetentionDays")
    expect(high is None or high >= KEEP_DAYS,
           f"the Vault Lock on '{VAULT}' allows at most {high} days (MaxRetentionDays); step 2's plan keeps "
           f"backups {KEEP_DAYS} days, and every job would fail: leave MaxRetentionDays out")
    expect("LockDate" not in vault,
           f"the Vault Lock on '{VAULT}' has a LockDate (ChangeableForDays): after it the lock is in compliance "
           "mode and nobody can remove it. For this lab, lock in governance mode: leave ChangeableForDays out")


# ---- step 2: a daily plan -------------------------------------------------------

DAILY = re.compile(r"cron\(\s*(\d{1,2})\s+(\d{1,2})\s+([*?])\s+\*\s+([*?])\s+\*\s*\)")


def plan_exists(backup):
    _plan(backup)


def plan_runs_daily_into_the_vault(backup):
    rules = _plan(backup)["BackupPlan"]["Rules"]
    expect(len(rules) == 1, f"plan '{PLAN}' has {len(rules)} rules; expected one daily rule")
    rule = rules[0]
    expect(rule["TargetBackupVaultName"] == VAULT,
           f"rule '{rule['RuleName']}' stores its backups in vault '{rule['TargetBackupVaultName']}'; expected '{VAULT}'")
    schedule = rule.get("ScheduleExpression", "")
    match = DAILY.fullmatch(schedule)
    if not match or "?" not in (match.group(3), match.group(4)):
        if re.search(r"cron\(\s*\S+\s+\*", schedule):
            fail(f"rule '{rule['RuleName']}' runs on '{schedule}', which fires every hour; a daily backup names "
                 "one hour: cron(0 5 ? * * *) runs at 05:00 UTC every day")
        fail(f"rule '{rule['RuleName']}' runs on '{schedule}'; expected once a day, "
             "e.g. cron(0 5 ? * * *) (minute, hour, day of month, month, day of week, year)")
    expect(int(match.group(1)) < 60 and int(match.group(2)) < 24, f"'{schedule}' is not a valid time of day")


def plan_keeps_backups_35_days(backup):
    rule = _plan(backup)["BackupPlan"]["Rules"][0]
    keep = (rule.get("Lifecycle") or {}).get("DeleteAfterDays")
    expect(keep is not None, f"rule '{rule['RuleName']}' has no Lifecycle.DeleteAfterDays: its backups would be kept "
                             f"forever (and billed forever); expected {KEEP_DAYS} days")
    expect(keep >= MIN_DAYS, f"rule '{rule['RuleName']}' keeps backups {keep} days, less than the {MIN_DAYS} days the "
                             f"vault lock demands: every job of this plan would FAIL; expected {KEEP_DAYS}")
    expect(keep == KEEP_DAYS, f"rule '{rule['RuleName']}' keeps backups {keep} days; expected {KEEP_DAYS}")


# ---- step 3: pick resources by tag ------------------------------------------------

def orders_and_invoices_are_tagged(dynamodb, s3):
    table_tags = _tags_of_table(dynamodb, _table_arn(dynamodb))
    expect(table_tags.get("backup") == "daily",
           f"table {TABLE} has tags {table_tags or 'none'}; expected backup=daily")
    bucket_tags = _tags_of_bucket(s3)
    expect(bucket_tags.get("backup") == "daily",
           f"bucket {BUCKET} has tags {bucket_tags or 'none'}; expected backup=daily")


def selection_picks_exactly_the_daily_tagged_resources(backup, dynamodb, endpoints):
    plan = _plan(backup)
    selections = backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]
    expect(selections, f"plan '{PLAN}' has no resource assignment (backup selection) yet")
    # the check's own resources: a new tagged table must be picked, an untagged one must not
    suffix = secrets.token_hex(3)
    returns, archive = f"Returns-{suffix}", f"OrdersArchive-{suffix}"
    created = []
    try:
        for name, tags in ((returns, [{"Key": "backup", "Value": "daily"}]),
                           (archive, [{"Key": "backup", "Value": "weekly"}])):
            created.append(name)
            dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", Tags=tags,
                                  AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        picked = set(_labrunner(endpoints, f"backup-plans/{plan['BackupPlanId']}/resources")["ResourceArns"])
    finally:
        for name in created:
            dynamodb.delete_table(TableName=name)
    names = {arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: arn for arn in picked}
    expect(archive not in names, f"the selection picks '{archive}', a table the check just made with the tag "
                                 "backup=weekly: pick only resources tagged backup=daily")
    others = sorted(n for n in names if n not in (TABLE, BUCKET, returns))
    expect(not others, f"the selection picks {', '.join(others)}, which are not tagged backup=daily")
    expect(returns in names, f"the selection does not pick '{returns}', a table the check just made with the tag "
                             "backup=daily: select by the tag (Conditions or ListOfTags), not by naming resources")
    expect(TABLE in names, f"the selection does not pick table {TABLE}: is it tagged backup=daily?")
    expect(BUCKET in names, f"the selection does not pick bucket {BUCKET}: is it tagged backup=daily?")


# ---- step 4: an on-demand backup ------------------------------------------------

def _completed_jobs(backup, arn):
    return [j for j in backup.list_backup_jobs(ByResourceArn=arn)["BackupJobs"]]


def orders_backup_completed(backup, dynamodb):
    arn = _table_arn(dynamodb)
    jobs = _completed_jobs(backup, arn)
    expect(jobs, f"no backup job for table {TABLE} yet: start-backup-job with its ARN ({arn})")
    in_vault = [j for j in jobs if j["BackupVaultName"] == VAULT]
    expect(in_vault, f"the backup of {TABLE} went to vault '{jobs[-1]['BackupVaultName']}'; expected '{VAULT}', "
                     "the locked one")
    done = [j for j in in_vault if j["State"] == "COMPLETED"]
    if not done:
        last = in_vault[-1]
        if last["State"] == "FAILED":
            fail(f"backup job {last['BackupJobId']} FAILED: {last.get('StatusMessage', '')}")
        fail(f"backup job {last['BackupJobId']} is {last['State']}: wait until describe-backup-job says COMPLETED")


def recovery_point_holds_every_order(backup, dynamodb):
    """Restore the newest recovery point of Orders into a scratch table and compare it with Orders."""
    arn = _table_arn(dynamodb)
    points = [p for p in backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT, ByResourceArn=arn)
              ["RecoveryPoints"] if p["Status"] == "COMPLETED"]
    expect(points, f"vault '{VAULT}' holds no COMPLETED recovery point of {TABLE} yet")
    newest = max(points, key=lambda p: p["CreationDate"])
    scratch = f"labrunner-check-{secrets.token_hex(3)}"
    job = backup.start_restore_job(RecoveryPointArn=newest["RecoveryPointArn"], IamRoleArn=ROLE,
                                   Metadata={"targetTableName": scratch})
    done = _wait(lambda: backup.describe_restore_job(RestoreJobId=job["RestoreJobId"]), "Status")
    try:
        expect(done["Status"] == "COMPLETED", f"a trial restore of the recovery point failed: {done.get('StatusMessage')}")
        restored, now = _scan(dynamodb, scratch), _scan(dynamodb, TABLE)
    finally:
        try:
            dynamodb.delete_table(TableName=scratch)
        except dynamodb.exceptions.ResourceNotFoundException:
            pass
    missing = sorted(set(now) - set(restored))
    expect(not missing, f"the newest recovery point of {TABLE} lacks {len(missing)} orders that are in the table now "
                        f"(e.g. {missing[0] if missing else ''}): back it up again")


# ---- step 5: the incident ------------------------------------------------------------

def _truth(s3):
    try:
        return json.loads(s3.get_object(Bucket=TRUTH, Key="incident.json")["Body"].read())
    except (s3.exceptions.NoSuchBucket, s3.exceptions.NoSuchKey):
        fail("the incident has not happened yet: run python incident.py in your lab folder (after step 4)")


def restored_into_a_new_table(backup, s3, dynamodb):
    _truth(s3)
    arn = _table_arn(dynamodb)
    jobs = [j for j in backup.list_restore_jobs()["RestoreJobs"] if j["Status"] == "COMPLETED"
            and j.get("CreatedResourceArn", "").split(":table/")[-1] != "" and ":table/" in j.get("CreatedResourceArn", "")
            and not j["CreatedResourceArn"].split(":table/")[-1].startswith("labrunner-check-")]
    expect(jobs, "no completed restore of a table yet: start-restore-job with the recovery point's ARN and "
                 "Metadata targetTableName=<a new table>")
    into_orders = [j for j in jobs if j["CreatedResourceArn"] == arn]
    expect(not into_orders, f"a restore went into {TABLE} itself (after it was deleted): orders that arrived "
                            "after the backup were lost with it. Restore into a NEW table and copy back")


def lost_orders_are_back(dynamodb, s3):
    truth = _truth(s3)
    orders = {k: {a: _plain(v) for a, v in item.items()} for k, item in _scan(dynamodb, TABLE).items()}
    for order_id in truth["lost"]:
        expect(order_id in orders, f"order {order_id}, deleted in the incident, is still missing from {TABLE}")
    for order_id in truth["arrived"]:
        expect(order_id in orders, f"order {order_id}, which arrived after the backup, is gone from {TABLE}: "
                                   "copy back the lost orders, do not replace the table")
    for order_id in truth["shipped"]:
        status = orders.get(order_id, {}).get("status")
        expect(status == "shipped", f"order {order_id} has status '{status}' (from the backup); it shipped after "
                                    "the backup: copy back only the orders that are missing, never overwrite")
    for order_id, want in truth["expected"].items():
        got = orders.get(order_id)
        expect(got == want, f"order {order_id} in {TABLE} is {got}; expected {want}")
    extra = sorted(set(orders) - set(truth["expected"]))
    expect(not extra, f"{TABLE} has orders that were never in the shop: {', '.join(extra[:3])}")


# ---- step 6: the lock holds --------------------------------------------------------

def delete_was_refused_by_the_lock(backup, endpoints, dynamodb):
    calls = _labrunner(endpoints, "calls")["Calls"]
    deletes = [c for c in calls if c["Method"] == "DELETE" and len(c["Path"]) == 4
               and c["Path"][:3] == ["backup-vaults", VAULT, "recovery-points"]]
    expect(deletes, f"no delete-recovery-point call on vault '{VAULT}' yet: try to delete one of its recovery points")
    vault = _vault(backup)
    expect(vault.get("Locked") and vault.get("MinRetentionDays") == MIN_DAYS,
           f"the Vault Lock on '{VAULT}' was removed or changed: put it back ({MIN_DAYS} days) — the point of the "
           "lock is that a delete is refused, not that it is switched off first")
    gone = [c["Path"][3] for c in deletes if not c["Error"]]
    expect(not gone, f"recovery point {gone[0] if gone else ''} was deleted from '{VAULT}': the lock must refuse it")
    refused = [c for c in deletes if c["Error"] == "InvalidRequestException"]
    expect(refused, f"the delete calls on '{VAULT}' failed with {deletes[-1]['Error']}, not with the lock's "
                    "InvalidRequestException: use the ARN of a recovery point that is in the vault")
    arn = _table_arn(dynamodb)
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT, ByResourceArn=arn)["RecoveryPoints"]
    expect(points, f"vault '{VAULT}' holds no recovery point of {TABLE}")
