"""One local "AWS account endpoint": moto's DynamoDB and S3, plus AWS Backup served by labrunner.

`python -m labrunner.services.backup_server -p PORT` (or `python backup_server.py -p PORT` in the
image, beside moto_dynamodb.py) serves on 127.0.0.1:PORT:
- requests signed for the `backup` service (SigV4 scope .../backup/aws4_request): AWS Backup's
  REST-JSON API, answered by the `Backup` class below: vaults and Vault Lock, plans, selections,
  backup jobs, recovery points and restore jobs. Its jobs read moto's DynamoDB and S3 backends in
  this same process (a table's keys, indexes and items; a bucket's objects), and a restore creates
  a NEW table or bucket from the recovery point, as AWS Backup does;
- POST /_labrunner/backup-plans/{planId}/run: labrunner only. Runs the plan's first rule now, for
  every resource its selections pick, as its schedule would (a schedule cannot be waited for on a
  laptop). GET /_labrunner/backup-plans/{planId}/resources lists what the selections pick;
- GET /_labrunner/calls: labrunner only, the AWS Backup calls made and the error each got (checks
  judge a call that must be refused, e.g. deleting a recovery point a Vault Lock protects);
- POST /_labrunner/reset: labrunner only, for `labrunner reset`: forget every vault, plan, job and
  recovery point (locked ones too, which the API itself refuses to delete);
- everything else: moto's server (DynamoDB with labrunner's PartiQL fixes, S3).

State is in memory: a restart forgets every vault, plan, job and recovery point.
This file imports nothing from labrunner but its sibling moto_dynamodb.py.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote

try:                                   # in the package
    from labrunner.services import moto_dynamodb
except ImportError:                    # in the image: the two files side by side
    import moto_dynamodb  # type: ignore[no-redef]

ACCOUNT = "123456789012"               # moto's default account
# How long a job stays CREATED, then RUNNING (seconds each): long enough to see, short enough to wait.
STEP_SECONDS = float(os.environ.get("LABRUNNER_BACKUP_JOB_SECONDS", "1"))
NAME = re.compile(r"^[a-zA-Z0-9\-_]{2,50}$")
DAY = 86400.0


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _bad(message: str) -> ApiError:
    return ApiError("InvalidParameterValueException", message)


def _missing(message: str) -> ApiError:
    return ApiError("ResourceNotFoundException", message, 404)


def _need(body: dict, *names: str) -> None:
    for name in names:
        if body.get(name) in (None, ""):
            raise ApiError("MissingParameterValueException", f"{name} is required")


# ---- the protected services (moto's backends in this process) ------------------

def _dynamodb(region: str):
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][region]


def _s3():
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT]["global"]


def _parse_resource(arn: str) -> tuple[str, str, str]:
    """("DynamoDB", region, table) or ("S3", "", bucket); InvalidParameterValue for anything else."""
    m = re.fullmatch(r"arn:aws:dynamodb:([a-z0-9-]+):(\d{12}):table/([A-Za-z0-9_.-]{3,255})", arn or "")
    if m:
        return "DynamoDB", m.group(1), m.group(3)
    m = re.fullmatch(r"arn:aws:s3:::([a-z0-9.-]{3,63})", arn or "")
    if m:
        return "S3", "", m.group(1)
    raise _bad(f"Invalid ARN '{arn}': this stand-in backs up DynamoDB tables "
               f"(arn:aws:dynamodb:REGION:{ACCOUNT}:table/NAME) and S3 buckets (arn:aws:s3:::BUCKET)")


def _snapshot(kind: str, region: str, name: str) -> dict:
    """What a recovery point holds: the resource as it is now (raises LookupError when it is gone)."""
    if kind == "DynamoDB":
        backend = _dynamodb(region)
        if name not in backend.tables:
            raise LookupError(f"Table {name} does not exist (arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name})")
        table = backend.get_table(name)
        return {
            "schema": copy.deepcopy(table.schema),
            "attr": copy.deepcopy(table.attr),
            "billing_mode": table.billing_mode or "PROVISIONED",
            "throughput": {k: v for k, v in table.throughput.items()
                           if k in ("ReadCapacityUnits", "WriteCapacityUnits")},
            "global_indexes": [{"IndexName": i.name, "KeySchema": copy.deepcopy(i.schema),
                                "Projection": copy.deepcopy(i.projection)} for i in table.global_indexes],
            "indexes": [{"IndexName": i.name, "KeySchema": copy.deepcopy(i.schema),
                         "Projection": copy.deepcopy(i.projection)} for i in table.indexes],
            "items": _items_of(table),
        }
    backend = _s3()
    try:
        bucket = backend.get_bucket(name)
    except Exception:
        raise LookupError(f"Bucket {name} does not exist (arn:aws:s3:::{name})") from None
    objects = []
    for key in list(bucket.keys.values()):
        if not hasattr(key, "value"):        # a delete marker
            continue
        objects.append({"key": key.name, "value": bytes(key.value), "metadata": dict(key.metadata or {})})
    return {"objects": objects}


def _items_of(table) -> list[dict]:
    """Every item, as DynamoDB JSON. moto's server writes from other threads: a table that changed
    size while it was read is read again."""
    for _ in range(20):
        try:
            return [copy.deepcopy(item.to_json()["Attributes"]) for item in list(table.all_items())]
        except RuntimeError:            # "dictionary changed size during iteration"
            time.sleep(0.05)
    raise LookupError(f"Table {table.name} kept changing while it was backed up; start the job again")


def _size(kind: str, data: dict) -> int:
    if kind == "DynamoDB":
        return len(json.dumps(data["items"]))
    return sum(len(o["value"]) for o in data["objects"])


def _restore(kind: str, region: str, data: dict, target: str, metadata: dict) -> str:
    """Create a NEW table/bucket named target from a recovery point; returns its ARN."""
    if kind == "DynamoDB":
        backend = _dynamodb(region)
        if target in backend.tables:
            raise ApiError("InvalidRequestException", f"Table already exists: {target}; restore into a new table name")
        provisioned = data["billing_mode"] == "PROVISIONED"
        throughput = data["throughput"] if provisioned else None
        gsis = copy.deepcopy(data["global_indexes"])
        if provisioned:
            for gsi in gsis:
                gsi["ProvisionedThroughput"] = dict(throughput)
        backend.create_table(target, schema=copy.deepcopy(data["schema"]), throughput=throughput,
                             attr=copy.deepcopy(data["attr"]), global_indexes=gsis or None,
                             indexes=copy.deepcopy(data["indexes"]) or None, streams=None,
                             billing_mode=data["billing_mode"], sse_specification=None, tags=[],
                             deletion_protection_enabled=False, warm_throughput=None)
        for item in data["items"]:
            backend.put_item(target, copy.deepcopy(item))
        return backend.get_table(target).table_arn
    backend = _s3()
    if str(metadata.get("NewBucket", "false")).lower() == "true":
        try:
            backend.create_bucket(target, region or "us-east-1")
        except Exception as exc:
            raise ApiError("InvalidRequestException", f"Bucket {target} cannot be created: {exc}") from None
    else:
        try:
            backend.get_bucket(target)
        except Exception:
            raise _bad(f"Bucket {target} does not exist; set NewBucket=true to create it") from None
    for obj in data["objects"]:
        key = backend.put_object(target, obj["key"], obj["value"])
        key.set_metadata(obj["metadata"])
    return f"arn:aws:s3:::{target}"


def _resources(region: str) -> list[tuple[str, dict]]:
    """Every resource a selection may pick: (arn, tags)."""
    found = []
    backend = _dynamodb(region)
    for table in list(backend.tables.values()):
        found.append((table.table_arn, {t["Key"]: t["Value"] for t in table.tags}))
    s3 = _s3()
    for bucket in list(s3.buckets.values()):
        tags = s3.tagger.list_tags_for_resource(bucket.arn).get("Tags", [])
        found.append((f"arn:aws:s3:::{bucket.name}", {t["Key"]: t["Value"] for t in tags}))
    return found


def _tag_key(key: str) -> str:
    return key[len("aws:ResourceTag/"):] if key.startswith("aws:ResourceTag/") else key


def picks(selection: dict, arn: str, tags: dict) -> bool:
    """Whether a BackupSelection picks a resource: Resources (or all when none) AND every Condition
    AND (any of ListOfTags, when given) AND NOT NotResources."""
    resources = selection.get("Resources") or []
    if resources and not any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources):
        return False
    if any(fnmatch.fnmatchcase(arn, pattern) for pattern in selection.get("NotResources") or []):
        return False
    tests = {
        "StringEquals": lambda have, want: have == want,
        "StringNotEquals": lambda have, want: have != want,
        "StringLike": lambda have, want: have is not None and fnmatch.fnmatchcase(have, want),
        "StringNotLike": lambda have, want: have is None or not fnmatch.fnmatchcase(have, want),
    }
    for operator, conditions in (selection.get("Conditions") or {}).items():
        for condition in conditions or []:
            have = tags.get(_tag_key(condition["ConditionKey"]))
            if not tests[operator](have, condition["ConditionValue"]):
                return False
    listed = selection.get("ListOfTags") or []
    if listed and not any(tags.get(_tag_key(c["ConditionKey"])) == c["ConditionValue"] for c in listed):
        return False
    return bool(resources or listed or selection.get("Conditions"))


# ---- AWS Backup ----------------------------------------------------------------

class Backup:
    def __init__(self, region: str):
        self.region = region
        self.lock = threading.RLock()
        self.vaults: dict[str, dict] = {}
        self.plans: dict[str, dict] = {}
        self.selections: dict[str, dict] = {}      # selection id -> selection record
        self.jobs: dict[str, dict] = {}
        self.points: dict[str, dict] = {}          # recovery point ARN -> record (with "data")
        self.restores: dict[str, dict] = {}
        self.calls: list[dict] = []                # what was asked, and the error answered (for checks)

    # -- vaults
    def _vault(self, name: str) -> dict:
        if name not in self.vaults:
            raise _missing(f"Backup vault {name} does not exist in this account and Region")
        return self.vaults[name]

    def create_vault(self, name: str, body: dict) -> dict:
        if not NAME.match(name):
            raise _bad(f"Invalid backup vault name '{name}': 2 to 50 letters, digits, '-' or '_'")
        if name in self.vaults:
            raise ApiError("AlreadyExistsException", f"Backup vault with the same name {name} already exists")
        vault = {"BackupVaultName": name, "BackupVaultArn": f"arn:aws:backup:{self.region}:{ACCOUNT}:backup-vault:{name}",
                 "CreationDate": time.time(), "EncryptionKeyArn": f"arn:aws:kms:{self.region}:{ACCOUNT}:key/labrunner",
                 "CreatorRequestId": body.get("CreatorRequestId", ""), "Locked": False, "VaultType": "BACKUP_VAULT",
                 "VaultState": "AVAILABLE", "tags": dict(body.get("BackupVaultTags") or {})}
        self.vaults[name] = vault
        return {k: vault[k] for k in ("BackupVaultName", "BackupVaultArn", "CreationDate")}

    def describe_vault(self, vault: dict) -> dict:
        out = {k: v for k, v in vault.items() if k != "tags"}
        out["NumberOfRecoveryPoints"] = sum(1 for p in self.points.values() if p["BackupVaultName"] == vault["BackupVaultName"])
        return out

    def delete_vault(self, name: str) -> dict:
        self._vault(name)
        if any(p["BackupVaultName"] == name for p in self.points.values()):
            raise ApiError("InvalidRequestException", "Backup vault cannot be deleted because it contains recovery points.")
        del self.vaults[name]
        return {}

    def lock_vault(self, name: str, body: dict) -> dict:
        vault = self._vault(name)
        if vault.get("LockDate") and vault["LockDate"] <= time.time():
            raise ApiError("InvalidRequestException", f"Backup vault {name} is locked in compliance mode; "
                           "its Vault Lock can no longer be changed")
        low, high = body.get("MinRetentionDays"), body.get("MaxRetentionDays")
        for label, value in (("MinRetentionDays", low), ("MaxRetentionDays", high)):
            if value is not None and (not isinstance(value, int) or value < 1 or value > 36500):
                raise _bad(f"{label} must be a whole number of days from 1 to 36500; got {value!r}")
        if low is not None and high is not None and low > high:
            raise _bad(f"MinRetentionDays ({low}) is greater than MaxRetentionDays ({high})")
        changeable = body.get("ChangeableForDays")
        if changeable is not None and (not isinstance(changeable, int) or changeable < 3 or changeable > 36500):
            raise _bad(f"ChangeableForDays must be at least 3 (days of cooling-off before the lock is final); got {changeable!r}")
        vault.update(Locked=True, MinRetentionDays=low, MaxRetentionDays=high)
        for key in ("MinRetentionDays", "MaxRetentionDays"):
            if vault[key] is None:
                del vault[key]
        if changeable is not None:
            vault["LockDate"] = time.time() + changeable * DAY
        else:
            vault.pop("LockDate", None)
        return {}

    def unlock_vault(self, name: str) -> dict:
        vault = self._vault(name)
        if vault.get("LockDate") and vault["LockDate"] <= time.time():
            raise ApiError("InvalidRequestException", f"Backup vault {name} is locked in compliance mode")
        for key in ("MinRetentionDays", "MaxRetentionDays", "LockDate"):
            vault.pop(key, None)
        vault["Locked"] = False
        return {}

    # -- plans
    def _plan(self, plan_id: str) -> dict:
        if plan_id not in self.plans or self.plans[plan_id].get("DeletionDate"):
            raise _missing(f"Backup plan with id {plan_id} does not exist")
        return self.plans[plan_id]

    def _check_plan(self, document: dict) -> dict:
        if not isinstance(document, dict):
            raise ApiError("MissingParameterValueException", "BackupPlan is required")
        name = document.get("BackupPlanName") or ""
        if not re.fullmatch(r"[a-zA-Z0-9\-_.]{1,50}", name):
            raise _bad(f"Invalid BackupPlanName '{name}': 1 to 50 letters, digits, '-', '_' or '.'")
        rules = document.get("Rules") or []
        if not rules:
            raise _bad("A backup plan needs at least one rule (Rules)")
        out = []
        for rule in rules:
            if not rule.get("RuleName"):
                raise ApiError("MissingParameterValueException", "RuleName is required in every rule")
            vault = rule.get("TargetBackupVaultName") or ""
            self._vault(vault)
            schedule = rule.get("ScheduleExpression", "")
            if schedule and not re.fullmatch(r"(cron|rate)\(.+\)", schedule):
                raise _bad(f"Invalid ScheduleExpression '{schedule}': write cron(...) such as cron(0 5 ? * * *) or rate(...)")
            lifecycle = rule.get("Lifecycle") or {}
            delete_after = lifecycle.get("DeleteAfterDays")
            cold_after = lifecycle.get("MoveToColdStorageAfterDays")
            if delete_after is not None and (not isinstance(delete_after, int) or delete_after < 1):
                raise _bad(f"Lifecycle.DeleteAfterDays must be a whole number of days, at least 1; got {delete_after!r}")
            if cold_after is not None and delete_after is not None and delete_after < cold_after + 90:
                raise _bad("Lifecycle.DeleteAfterDays must be at least 90 days more than MoveToColdStorageAfterDays")
            stored = {"RuleName": rule["RuleName"], "TargetBackupVaultName": vault,
                      "ScheduleExpression": schedule or "cron(0 5 ? * * *)",
                      "ScheduleExpressionTimezone": rule.get("ScheduleExpressionTimezone", "Etc/UTC"),
                      "StartWindowMinutes": rule.get("StartWindowMinutes", 480),
                      "CompletionWindowMinutes": rule.get("CompletionWindowMinutes", 10080),
                      "RuleId": str(uuid.uuid4())}
            if lifecycle:
                stored["Lifecycle"] = dict(lifecycle)
            out.append(stored)
        return {"BackupPlanName": name, "Rules": out}

    def create_plan(self, body: dict) -> dict:
        document = self._check_plan(body.get("BackupPlan"))
        if any(p["BackupPlan"]["BackupPlanName"] == document["BackupPlanName"] and not p.get("DeletionDate")
               for p in self.plans.values()):
            raise ApiError("AlreadyExistsException", f"Backup plan with the same name {document['BackupPlanName']} already exists")
        plan_id = str(uuid.uuid4())
        plan = {"BackupPlanId": plan_id, "BackupPlanArn": f"arn:aws:backup:{self.region}:{ACCOUNT}:backup-plan:{plan_id}",
                "VersionId": uuid.uuid4().hex[:40], "CreationDate": time.time(), "BackupPlan": document,
                "CreatorRequestId": body.get("CreatorRequestId", "")}
        self.plans[plan_id] = plan
        return {k: plan[k] for k in ("BackupPlanId", "BackupPlanArn", "CreationDate", "VersionId")}

    def update_plan(self, plan_id: str, body: dict) -> dict:
        plan = self._plan(plan_id)
        plan["BackupPlan"] = self._check_plan(body.get("BackupPlan"))
        plan["VersionId"] = uuid.uuid4().hex[:40]
        return {k: plan[k] for k in ("BackupPlanId", "BackupPlanArn", "CreationDate", "VersionId")}

    def delete_plan(self, plan_id: str) -> dict:
        plan = self._plan(plan_id)
        if any(s["BackupPlanId"] == plan_id for s in self.selections.values()):
            raise ApiError("InvalidRequestException", "Related backup plan selections must be deleted prior to backup plan deletion")
        plan["DeletionDate"] = time.time()
        return {"BackupPlanId": plan_id, "BackupPlanArn": plan["BackupPlanArn"], "DeletionDate": plan["DeletionDate"],
                "VersionId": plan["VersionId"]}

    def list_plans(self) -> dict:
        return {"BackupPlansList": [{"BackupPlanId": p["BackupPlanId"], "BackupPlanArn": p["BackupPlanArn"],
                                     "BackupPlanName": p["BackupPlan"]["BackupPlanName"], "VersionId": p["VersionId"],
                                     "CreationDate": p["CreationDate"]}
                                    for p in self.plans.values() if not p.get("DeletionDate")]}

    # -- selections
    def create_selection(self, plan_id: str, body: dict) -> dict:
        self._plan(plan_id)
        selection = body.get("BackupSelection")
        if not isinstance(selection, dict):
            raise ApiError("MissingParameterValueException", "BackupSelection is required")
        _need(selection, "SelectionName", "IamRoleArn")
        if not re.fullmatch(r"[a-zA-Z0-9\-_.]{1,50}", selection["SelectionName"]):
            raise _bad(f"Invalid SelectionName '{selection['SelectionName']}'")
        if not re.fullmatch(r"arn:aws:iam::\d{12}:role/.+", selection["IamRoleArn"]):
            raise _bad(f"Invalid IamRoleArn '{selection['IamRoleArn']}': expected arn:aws:iam::ACCOUNT:role/NAME")
        for operator in (selection.get("Conditions") or {}):
            if operator not in ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike"):
                raise _bad(f"Unknown condition operator {operator}")
        for condition in selection.get("ListOfTags") or []:
            if condition.get("ConditionType") != "STRINGEQUALS":
                raise _bad("ListOfTags supports ConditionType STRINGEQUALS only")
        if any(s["BackupPlanId"] == plan_id and s["BackupSelection"]["SelectionName"] == selection["SelectionName"]
               for s in self.selections.values()):
            raise ApiError("AlreadyExistsException", f"Backup selection with the same name {selection['SelectionName']} already exists")
        selection_id = str(uuid.uuid4())
        self.selections[selection_id] = {"SelectionId": selection_id, "BackupPlanId": plan_id, "CreationDate": time.time(),
                                         "BackupSelection": copy.deepcopy(selection),
                                         "CreatorRequestId": body.get("CreatorRequestId", "")}
        return {"SelectionId": selection_id, "BackupPlanId": plan_id,
                "CreationDate": self.selections[selection_id]["CreationDate"]}

    def _selection(self, plan_id: str, selection_id: str) -> dict:
        found = self.selections.get(selection_id)
        if not found or found["BackupPlanId"] != plan_id:
            raise _missing(f"Backup selection {selection_id} does not exist in plan {plan_id}")
        return found

    def picked(self, plan_id: str) -> list[str]:
        self._plan(plan_id)
        chosen = []
        for arn, tags in _resources(self.region):
            if any(s["BackupPlanId"] == plan_id and picks(s["BackupSelection"], arn, tags) for s in self.selections.values()):
                chosen.append(arn)
        return sorted(chosen)

    # -- jobs and recovery points
    def start_backup(self, body: dict, plan_id: str = "", rule: dict | None = None) -> dict:
        _need(body, "BackupVaultName", "ResourceArn", "IamRoleArn")
        vault = self._vault(body["BackupVaultName"])
        kind, region, name = _parse_resource(body["ResourceArn"])
        lifecycle = dict(body.get("Lifecycle") or (rule or {}).get("Lifecycle") or {})
        job_id = str(uuid.uuid4()).upper()
        now = time.time()
        job = {"BackupJobId": job_id, "AccountId": ACCOUNT, "BackupVaultName": vault["BackupVaultName"],
               "BackupVaultArn": vault["BackupVaultArn"], "ResourceArn": body["ResourceArn"], "ResourceType": kind,
               "ResourceName": name, "CreationDate": now, "State": "CREATED", "PercentDone": "0.0",
               "IamRoleArn": body["IamRoleArn"], "StartBy": now + 8 * 3600, "BackupType": "",
               "IsParent": False, "Lifecycle": lifecycle}
        if plan_id:
            job["CreatedBy"] = {"BackupPlanId": plan_id, "BackupPlanArn": self.plans[plan_id]["BackupPlanArn"],
                                "BackupPlanVersion": self.plans[plan_id]["VersionId"], "BackupRuleId": rule["RuleId"]}
        self.jobs[job_id] = job
        threading.Timer(STEP_SECONDS, self._run_job, (job_id, kind, region or self.region, name)).start()
        return {"BackupJobId": job_id, "CreationDate": now, "IsParent": False}

    def _run_job(self, job_id: str, kind: str, region: str, name: str) -> None:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:          # forgotten by a reset
                return
            job["State"], job["PercentDone"] = "RUNNING", "50.0"
            vault = self.vaults.get(job["BackupVaultName"])
            keep = job["Lifecycle"].get("DeleteAfterDays")
            try:
                if vault is None:
                    raise LookupError(f"Backup vault {job['BackupVaultName']} was deleted")
                low, high = vault.get("MinRetentionDays"), vault.get("MaxRetentionDays")
                if low and keep is not None and keep < low:
                    raise LookupError(f"The retention of this job ({keep} days) is shorter than the minimum retention "
                                      f"of {low} days that Backup Vault Lock enforces on vault {vault['BackupVaultName']}")
                if high and (keep is None or keep > high):
                    raise LookupError(f"The retention of this job ({keep or 'indefinite'}) is longer than the maximum "
                                      f"retention of {high} days of vault {vault['BackupVaultName']}")
                data = _snapshot(kind, region, name)
            except Exception as why:      # a resource that is gone, a lock, or a fault of ours: the job says why
                job.update(State="FAILED", StatusMessage=str(why), CompletionDate=time.time(), PercentDone="0.0")
                return
        time.sleep(STEP_SECONDS)
        with self.lock:
            if self.jobs.get(job_id) is not job or job["BackupVaultName"] not in self.vaults:
                return
            now = time.time()
            point_arn = f"arn:aws:backup:{self.region}:{ACCOUNT}:recovery-point:{uuid.uuid4()}"
            point = {"RecoveryPointArn": point_arn, "BackupVaultName": job["BackupVaultName"],
                     "BackupVaultArn": job["BackupVaultArn"], "ResourceArn": job["ResourceArn"],
                     "ResourceType": kind, "ResourceName": name, "CreationDate": job["CreationDate"],
                     "CompletionDate": now, "Status": "COMPLETED", "IamRoleArn": job["IamRoleArn"],
                     "BackupSizeInBytes": _size(kind, data), "IsEncrypted": True, "StorageClass": "WARM",
                     "EncryptionKeyArn": self.vaults[job["BackupVaultName"]]["EncryptionKeyArn"],
                     "region": region, "data": data, "job": job_id}
            if job["Lifecycle"]:
                point["Lifecycle"] = job["Lifecycle"]
            if keep:
                point["CalculatedLifecycle"] = {"DeleteAt": job["CreationDate"] + keep * DAY}
            if job.get("CreatedBy"):
                point["CreatedBy"] = job["CreatedBy"]
            self.points[point_arn] = point
            job.update(State="COMPLETED", PercentDone="100.0", CompletionDate=now, RecoveryPointArn=point_arn,
                       BackupSizeInBytes=point["BackupSizeInBytes"])

    def run_plan(self, plan_id: str) -> dict:
        plan = self._plan(plan_id)
        rule = plan["BackupPlan"]["Rules"][0]
        role = next((s["BackupSelection"]["IamRoleArn"] for s in self.selections.values() if s["BackupPlanId"] == plan_id), "")
        started = []
        for arn in self.picked(plan_id):
            started.append(self.start_backup({"BackupVaultName": rule["TargetBackupVaultName"], "ResourceArn": arn,
                                              "IamRoleArn": role or f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"},
                                             plan_id, rule)["BackupJobId"])
        return {"BackupPlanId": plan_id, "RuleName": rule["RuleName"], "BackupJobIds": started}

    def _point(self, vault_name: str, arn: str) -> dict:
        self._vault(vault_name)
        point = self.points.get(arn)
        if not point or point["BackupVaultName"] != vault_name:
            raise _missing(f"Recovery point {arn} does not exist in backup vault {vault_name}")
        return point

    @staticmethod
    def point_view(point: dict) -> dict:
        return {k: v for k, v in point.items() if k not in ("data", "region", "job")}

    def delete_point(self, vault_name: str, arn: str) -> dict:
        point = self._point(vault_name, arn)
        vault = self.vaults[vault_name]
        low = vault.get("MinRetentionDays")
        if vault.get("Locked") and low:
            until = point["CreationDate"] + low * DAY
            if time.time() < until:
                raise ApiError("InvalidRequestException",
                               f"Recovery point {arn} is protected by Backup Vault Lock on vault {vault_name}: it "
                               f"cannot be deleted before its minimum retention of {low} days ends on "
                               f"{time.strftime('%Y-%m-%d', time.gmtime(until))}")
        del self.points[arn]
        return {}

    def restore_metadata(self, point: dict) -> dict:
        if point["ResourceType"] == "DynamoDB":
            meta = {"originalTableName": point["ResourceName"], "targetTableName": point["ResourceName"]}
        else:
            meta = {"DestinationBucketName": point["ResourceName"], "NewBucket": "false"}
        return {"BackupVaultArn": point["BackupVaultArn"], "RecoveryPointArn": point["RecoveryPointArn"],
                "RestoreMetadata": meta, "ResourceType": point["ResourceType"]}

    def start_restore(self, body: dict) -> dict:
        _need(body, "RecoveryPointArn", "Metadata")
        point = self.points.get(body["RecoveryPointArn"])
        if not point:
            raise _missing(f"Recovery point {body['RecoveryPointArn']} does not exist")
        meta = body["Metadata"]
        if point["ResourceType"] == "DynamoDB":
            target = meta.get("targetTableName") or ""
            if not target:
                raise _bad("Metadata needs targetTableName: the NEW table to restore into "
                           "(get-recovery-point-restore-metadata shows the keys)")
            if target in _dynamodb(point["region"]).tables:
                raise _bad(f"Table {target} already exists: a restore creates a new table; choose a name not in use")
        else:
            target = meta.get("DestinationBucketName") or ""
            if not target:
                raise _bad("Metadata needs DestinationBucketName (and NewBucket=true to create it)")
        job_id = str(uuid.uuid4()).upper()
        job = {"RestoreJobId": job_id, "AccountId": ACCOUNT, "RecoveryPointArn": point["RecoveryPointArn"],
               "CreationDate": time.time(), "Status": "PENDING", "PercentDone": "0.00%",
               "IamRoleArn": body.get("IamRoleArn", ""), "ResourceType": point["ResourceType"],
               "BackupSizeInBytes": point["BackupSizeInBytes"], "metadata": dict(meta), "target": target}
        self.restores[job_id] = job
        threading.Timer(STEP_SECONDS, self._run_restore, (job_id,)).start()
        return {"RestoreJobId": job_id}

    def _run_restore(self, job_id: str) -> None:
        with self.lock:
            job = self.restores.get(job_id)
            if job is None:
                return
            job.update(Status="RUNNING", PercentDone="50.00%")
        time.sleep(STEP_SECONDS)
        with self.lock:
            point = self.points.get(job["RecoveryPointArn"])
            try:
                if point is None:
                    raise ApiError("InvalidRequestException", "the recovery point was deleted")
                arn = _restore(point["ResourceType"], point["region"], point["data"], job["target"], job["metadata"])
            except Exception as why:
                job.update(Status="FAILED", StatusMessage=getattr(why, "message", str(why)), CompletionDate=time.time())
                return
            job.update(Status="COMPLETED", PercentDone="100.00%", CompletionDate=time.time(), CreatedResourceArn=arn)

    @staticmethod
    def restore_view(job: dict) -> dict:
        return {k: v for k, v in job.items() if k not in ("metadata", "target")}


# ---- HTTP ------------------------------------------------------------------------

def _segments(environ) -> list[str]:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    path = raw.split("?", 1)[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
    return [unquote(part) for part in path.strip("/").split("/") if part != ""]


def _page(items: list, query: dict, key: str) -> dict:
    start = int((query.get("nextToken") or ["0"])[0] or 0)
    size = int((query.get("maxResults") or ["1000"])[0] or 1000)
    out = {key: items[start:start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


def _first(query: dict, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def route(api: Backup, method: str, parts: list[str], query: dict, body: dict) -> dict:
    """One AWS Backup API call: (method, path segments) -> response body, or ApiError."""
    n = len(parts)
    head = parts[0] if parts else ""
    if head == "backup-vaults":
        if n == 1 and method == "GET":
            return _page([api.describe_vault(v) for v in api.vaults.values()], query, "BackupVaultList")
        name = parts[1] if n > 1 else ""
        if n == 2:
            if method == "PUT":
                return api.create_vault(name, body)
            if method == "GET":
                return api.describe_vault(api._vault(name))
            if method == "DELETE":
                return api.delete_vault(name)
        if n == 3 and parts[2] == "vault-lock":
            if method == "PUT":
                return api.lock_vault(name, body)
            if method == "DELETE":
                return api.unlock_vault(name)
        if n >= 3 and parts[2] == "recovery-points":
            if n == 3 and method == "GET":
                api._vault(name)
                points = [api.point_view(p) for p in api.points.values() if p["BackupVaultName"] == name
                          and (not _first(query, "resourceArn") or p["ResourceArn"] == _first(query, "resourceArn"))
                          and (not _first(query, "resourceType") or p["ResourceType"] == _first(query, "resourceType"))]
                return _page(points, query, "RecoveryPoints")
            point = api._point(name, parts[3])
            if n == 4 and method == "GET":
                return api.point_view(point)
            if n == 4 and method == "DELETE":
                return api.delete_point(name, parts[3])
            if n == 5 and parts[4] == "restore-metadata" and method == "GET":
                return api.restore_metadata(point)
    if head == "backup" and n >= 2 and parts[1] == "plans":
        if n == 2:
            if method == "PUT":
                return api.create_plan(body)
            if method == "GET":
                return _page(api.list_plans()["BackupPlansList"], query, "BackupPlansList")
        plan_id = parts[2] if n > 2 else ""
        if n == 3:
            if method == "GET":
                plan = api._plan(plan_id)
                return {k: plan[k] for k in ("BackupPlanId", "BackupPlanArn", "VersionId", "CreationDate", "BackupPlan",
                                             "CreatorRequestId")}
            if method == "POST":
                return api.update_plan(plan_id, body)
            if method == "DELETE":
                return api.delete_plan(plan_id)
        if n >= 4 and parts[3] == "selections":
            if n == 4 and method == "PUT":
                return api.create_selection(plan_id, body)
            if n == 4 and method == "GET":
                api._plan(plan_id)
                found = [{"SelectionId": s["SelectionId"], "SelectionName": s["BackupSelection"]["SelectionName"],
                          "BackupPlanId": plan_id, "CreationDate": s["CreationDate"],
                          "IamRoleArn": s["BackupSelection"]["IamRoleArn"]}
                         for s in api.selections.values() if s["BackupPlanId"] == plan_id]
                return _page(found, query, "BackupSelectionsList")
            if n == 5:
                selection = api._selection(plan_id, parts[4])
                if method == "GET":
                    return selection
                if method == "DELETE":
                    del api.selections[parts[4]]
                    return {}
    if head == "backup-jobs":
        if n == 1 and method == "PUT":
            return api.start_backup(body)
        if n == 1 and method == "GET":
            filters = {"resourceArn": "ResourceArn", "state": "State", "backupVaultName": "BackupVaultName",
                       "resourceType": "ResourceType"}
            jobs = [{k: v for k, v in j.items() if k != "Lifecycle" or v} for j in api.jobs.values()
                    if all(_first(query, q) in (None, j.get(field)) for q, field in filters.items())]
            return _page(jobs, query, "BackupJobs")
        if n == 2 and method == "GET":
            if parts[1] not in api.jobs:
                raise _missing(f"Backup job {parts[1]} does not exist")
            return api.jobs[parts[1]]
    if head == "resources" and n == 3 and parts[2] == "recovery-points" and method == "GET":
        points = [{k: v for k, v in api.point_view(p).items()
                   if k in ("RecoveryPointArn", "CreationDate", "Status", "EncryptionKeyArn",
                            "BackupVaultName", "ResourceName")} | {"BackupSizeBytes": p["BackupSizeInBytes"]}
                  for p in api.points.values() if p["ResourceArn"] == parts[1]]
        return _page(points, query, "RecoveryPoints")
    if head == "restore-jobs":
        if n == 1 and method == "PUT":
            return api.start_restore(body)
        if n == 1 and method == "GET":
            status = _first(query, "status")
            return _page([api.restore_view(j) for j in api.restores.values() if status in (None, j["Status"])],
                         query, "RestoreJobs")
        if n == 2 and method == "GET":
            if parts[1] not in api.restores:
                raise _missing(f"Restore job {parts[1]} does not exist")
            return api.restore_view(api.restores[parts[1]])
    raise ApiError("InvalidRequestException",
                   f"{method} /{'/'.join(parts)}: this AWS Backup stand-in does not serve that call "
                   "(vaults, Vault Lock, plans, selections, backup and restore jobs, recovery points)")


def _labrunner_route(api: Backup, method: str, parts: list[str]) -> dict:
    if parts == ["_labrunner", "reset"] and method == "POST":      # `labrunner reset`: forget everything
        api.__init__(api.region)
        return {}
    if parts == ["_labrunner", "calls"] and method == "GET":       # the AWS Backup calls made, newest last
        return {"Calls": api.calls}
    if len(parts) == 4 and parts[1] == "backup-plans" and parts[3] == "run" and method == "POST":
        return api.run_plan(parts[2])
    if len(parts) == 4 and parts[1] == "backup-plans" and parts[3] == "resources" and method == "GET":
        return {"BackupPlanId": parts[2], "ResourceArns": api.picked(parts[2])}
    raise ApiError("InvalidRequestException", "labrunner routes: POST /_labrunner/backup-plans/ID/run, "
                   "GET /_labrunner/backup-plans/ID/resources")


def _service_of(environ) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=[^/,\s]+/\d+/([^/]+)/([^/]+)/aws4_request", auth)
    return m.group(2).lower() if m else ""


class App:
    """WSGI: AWS Backup and labrunner's routes here, every other request to moto."""

    def __init__(self, moto_app, region: str = "us-east-1"):
        self.moto_app = moto_app
        self.api = Backup(region)

    def __call__(self, environ, start_response):
        parts = _segments(environ)
        ours = parts[:1] == ["_labrunner"]
        if not ours and _service_of(environ) != "backup":
            return self.moto_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        status, payload = self.answer(environ, method, parts, ours)
        if not ours:          # kept for checks that judge the calls made (a refused delete)
            with self.api.lock:
                self.api.calls = self.api.calls[-499:] + [{"Method": method, "Path": parts, "Time": time.time(),
                                                           "Error": payload["__type"] if status >= 400 else ""}]
        data = json.dumps(payload, default=str).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                   ("x-amzn-RequestId", str(uuid.uuid4()))]
        if status >= 400:
            headers.append(("x-amzn-ErrorType", payload["__type"]))
        start_response(f"{status} {'OK' if status < 400 else 'Error'}", headers)
        return [data]

    def answer(self, environ, method: str, parts: list[str], ours: bool) -> tuple[int, dict]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise ApiError("SerializationException", "The request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ApiError("SerializationException", "The request body must be a JSON object")
            query = parse_qs(environ.get("QUERY_STRING", ""))
            with self.api.lock:
                if ours:
                    return 200, _labrunner_route(self.api, method, parts)
                return 200, route(self.api, method, parts, query, body)
        except ApiError as err:
            return err.status, {"__type": err.code, "Code": err.code, "Message": err.message, "message": err.message}
        except Exception as exc:   # a fault of ours: one JSON line, never an HTML page
            import traceback

            traceback.print_exc()
            message = f"labrunner's AWS Backup stand-in failed: {type(exc).__name__}: {exc}"
            return 500, {"__type": "ServiceUnavailableException", "Code": "ServiceUnavailableException",
                         "Message": message, "message": message}


def forget_tags_of_deleted_buckets() -> None:
    """moto 5.2.5 keeps a deleted bucket's tags (by ARN) and gives them to the next bucket of that
    name; S3 does not. A selection by tag would then pick a bucket nobody tagged."""
    from moto.s3.models import S3Backend

    original = S3Backend.delete_bucket

    def delete_bucket(self, bucket_name):
        arn = self.get_bucket(bucket_name).arn
        deleted = original(self, bucket_name)
        if deleted is not None:
            self.tagger.delete_all_tags_for_resource(arn)
        return deleted

    S3Backend.delete_bucket = delete_bucket


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="AWS Backup + DynamoDB + S3 on one local endpoint")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    parser.add_argument("-r", "--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    moto_dynamodb.install()
    forget_tags_of_deleted_buckets()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    app = App(DomainDispatcherApplication(create_backend_app), args.region)
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
