"""What `check` (and `solve`) call after recording an attempt: when this learner has joined
a class, queue the step's figures in the outbox and make sure a sender runs. It never
raises and never waits on the network: a failure here is logged, the check goes on."""

from __future__ import annotations

import time
import uuid

from labrunner.classroom import outbox


def after_check(lab, step, passed: bool) -> None:
    try:
        from labrunner import paths

        where = paths.data_dir() / "class"
        if not (where / outbox.MEMBERSHIP).exists():
            return                          # not in a class: one stat, nothing else
        queue(where, figures(lab, step, passed))
    except Exception:  # noqa: BLE001 - the learner's check must not fail for the dashboard
        from labrunner import log

        log.for_lab(getattr(lab, "id", "class")).warning("class: could not queue a result", exc_info=True)


def queue(where, result: dict) -> None:
    from labrunner.classroom import sender

    outbox.Outbox(where).add(result)
    sender.ensure_running(where)


def figures(lab, step, passed: bool) -> dict:
    """The step's row as `labrunner report` computes it, plus failed runs and the time on the
    step so far (report gives time on step only once passed)."""
    from labrunner import progress, report

    row = next(r for r in report.build([lab])["labs"][0]["steps"] if r["id"] == step.id)
    record = progress.history(lab.id).get(step.id, {})
    now = time.time()
    spent = row["time_on_step_seconds"]
    if spent is None:
        first = record.get("first_current")
        spent = round(now - first, 1) if first is not None else 0.0
    failed = progress._read(lambda db: db.execute(
        "SELECT COUNT(*) FROM attempts WHERE lab = ? AND step = ? AND passed = 0", (lab.id, step.id)).fetchone()[0])
    status = row["status"] if row["status"] != "not_started" else "attempted"
    return {"id": uuid.uuid4().hex, "lab": lab.id, "step": step.id, "passed": bool(passed), "status": status,
            "check_runs": row["check_runs"] + row["solve_runs"], "failed_runs": int(failed),
            "hints": row["hints_taken"], "time_on_step": max(0.0, float(spent)), "at": now}
