"""What `check` (and `solve`) call after recording an attempt, and `hint` after a hint: when
this learner has joined a class, queue the step's figures in the outbox and make sure a
sender runs. It never raises and never waits on the network: a failure here is logged, the
check goes on."""

from __future__ import annotations

import time
import uuid

from labrunner.classroom import outbox


def after_check(lab, step, passed: bool) -> None:
    _send(lab, step, passed)


def after_hint(lab, step) -> None:
    """A hint taken: the teacher sees it now, not with the learner's next check (the step's
    figures as they stand, passed or not as recorded)."""
    _send(lab, step, None)


def _send(lab, step, passed: bool | None) -> None:
    try:
        from labrunner import paths, progress

        where = paths.data_dir() / "class"
        if not (where / outbox.MEMBERSHIP).exists():
            return                          # not in a class: one stat, nothing else
        if passed is None:
            passed = bool(progress.completed(lab.id).get(step.id))
        queue(where, figures(lab, step, passed))
    except Exception:  # noqa: BLE001 - the learner's check must not fail for the dashboard
        from labrunner import log

        log.for_lab(getattr(lab, "id", "class")).warning("class: could not queue a result", exc_info=True)


def queue(where, result: dict) -> None:
    from labrunner.classroom import sender

    outbox.Outbox(where).add(result)
    sender.ensure_running(where)


def figures(lab, step, passed: bool) -> dict:
    """The step's figures as `labrunner report` defines them (status, runs, hints taken, time on
    step), read from the progress store itself: importing report here would close an import
    circle (report -> steps -> this hook). Plus failed runs, and the time on the step so far
    while it has not passed."""
    from labrunner import progress

    record = progress.history(lab.id).get(step.id, {})
    done = progress.completed(lab.id).get(step.id)
    status = ("solved" if done["solved"] else "passed") if done else "attempted"
    now = time.time()
    first_current, first_pass = record.get("first_current"), record.get("first_pass")
    if first_current is None:
        spent = 0.0
    elif done and first_pass is not None:
        spent = first_pass - first_current
    else:
        spent = now - first_current
    failed = progress._read(lambda db: db.execute(
        "SELECT COUNT(*) FROM attempts WHERE lab = ? AND step = ? AND passed = 0", (lab.id, step.id)).fetchone()[0])
    hints = min(int(record.get("hints", 0)), len(getattr(step, "hints", None) or ()))
    return {"id": uuid.uuid4().hex, "lab": lab.id, "step": step.id, "passed": bool(passed), "status": status,
            "check_runs": int(record.get("checks", 0)) + int(record.get("solves", 0)), "failed_runs": int(failed),
            "hints": hints, "time_on_step": round(max(0.0, spent), 1), "at": now}
