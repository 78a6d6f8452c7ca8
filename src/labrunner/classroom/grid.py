"""The dashboard's figures from the results received: one cell per learner and step (the
step's latest state), who is stuck, and per step how many passed and in how many runs."""

from __future__ import annotations

import csv
import io
import time

STUCK_SECONDS = 10 * 60          # on one step this long without passing, or
STUCK_FAILED = 3                 # this many failed runs on it
ATTEMPT_BUCKETS = ("1", "2", "3", "4", "5+")


def build(store, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    people = store.learners()
    cells: dict[tuple, dict] = {}
    latest: dict[str, tuple] = {}             # learner -> the cell of their latest result
    order: dict[str, list[str]] = {}
    for learner, lab, step, passed, status, runs, failed, hints, spent, received in store.results():
        steps = order.setdefault(lab, [])
        if step not in steps:
            steps.append(step)
        cell = cells.setdefault((learner, lab, step), {"status": "attempted", "check_runs": 0, "failed_runs": 0,
                                                       "hints": 0, "time_on_step": 0.0, "passed_at": None})
        cell["check_runs"] = max(cell["check_runs"], runs)
        cell["failed_runs"] = max(cell["failed_runs"], failed)
        cell["hints"] = max(cell["hints"], hints)
        if cell["passed_at"] is None:
            cell["time_on_step"], cell["received"] = spent, received
            if status in ("passed", "solved"):
                cell["status"], cell["passed_at"] = status, received
        latest[learner] = (learner, lab, step)
    for key, cell in cells.items():
        if cell["passed_at"] is None:             # still on it: the clock runs on
            cell["time_on_step"] += max(0.0, now - cell["received"])
        cell["time_on_step"] = round(cell["time_on_step"], 1)
        cell.pop("received", None)
        cell.pop("passed_at")
        cell["stuck"] = (cell["status"] == "attempted" and latest.get(key[0]) == key
                         and (cell["time_on_step"] >= STUCK_SECONDS or cell["failed_runs"] >= STUCK_FAILED))
    labs = [_lab(lab, order[lab], people, cells) for lab in sorted(order)]
    return {"generated_at": now, "stuck_after": {"seconds": STUCK_SECONDS, "failed_runs": STUCK_FAILED},
            "learners": [{"id": i, "name": n, "left": left is not None} for i, n, _joined, left in people],
            "labs": labs, "results": store.count()}


def _lab(lab_id: str, seen: list[str], people, cells) -> dict:
    titles = {}
    try:                                          # the lab's own step order when this machine has it
        from labrunner.labs import catalog

        lab = catalog.get(lab_id, with_code=False)
        titles = {s.id: s.title for s in lab.steps}
        steps = list(titles) + [s for s in seen if s not in titles]
        title = lab.title
    except Exception:  # noqa: BLE001 - a lab this machine does not know: the order results came in
        steps, title = list(seen), lab_id
    rows = {i: {s: cells[(i, lab_id, s)] for s in steps if (i, lab_id, s) in cells} for i, *_ in people}
    histogram = []
    for step in steps:
        mine = [c for c in (rows[i].get(step) for i, *_ in people) if c]
        done = [c for c in mine if c["status"] in ("passed", "solved")]
        buckets = dict.fromkeys(ATTEMPT_BUCKETS, 0)
        for c in done:
            runs = max(1, c["check_runs"])
            buckets["5+" if runs >= 5 else str(runs)] += 1
        histogram.append({"step": step, "passed": sum(c["status"] == "passed" for c in done),
                          "solved": sum(c["status"] == "solved" for c in done),
                          "attempted": len(mine) - len(done), "not_started": len(people) - len(mine),
                          "runs_to_pass": buckets})
    return {"id": lab_id, "title": title, "steps": [{"id": s, "title": titles.get(s, s)} for s in steps],
            "cells": {i: row for i, row in rows.items() if row}, "histogram": histogram}


CSV_COLUMNS = ("learner", "lab", "step_number", "step", "status", "check_runs", "failed_runs", "hints_taken",
               "time_on_step_seconds", "stuck")


def to_csv(data: dict) -> str:
    names = {p["id"]: p["name"] for p in data["learners"]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for lab in data["labs"]:
        for learner in sorted(lab["cells"], key=lambda i: names[i].lower()):
            for number, step in enumerate(lab["steps"], 1):
                cell = lab["cells"][learner].get(step["id"])
                if cell:
                    writer.writerow([_safe(names[learner]), lab["id"], number, step["id"], cell["status"],
                                     cell["check_runs"], cell["failed_runs"], cell["hints"], cell["time_on_step"],
                                     "yes" if cell["stuck"] else "no"])
    return out.getvalue()


def _safe(text: str) -> str:
    """A name a spreadsheet would run as a formula (=, +, -, @) is written as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
