"""`labrunner report`: the learner's progress per lab and step, as JSON, CSV, JUnit XML or HTML.

What a report holds, per step (nothing else: no learner code, no check messages, no
endpoints, no credentials, no workspace paths):

- status: "passed" (its checks passed), "solved" (passed by `labrunner solve`, the
  reference solution), "attempted" (checked or solved at least once, not complete now),
  "not_started";
- check_runs (`check` runs on the step), solve_runs, hints_taken (tiers seen) of
  hints_available;
- first_current_at: the first time the step became the lab's position (`run` showing
  it, a pass moving on to it, `n`/`p` in the run loop, `reset --step`);
- first_passed_at: its first passing check or solve (the record keeps it even after
  `reset --step` makes the step incomplete again);
- time_on_step_seconds: first_passed_at minus first_current_at, wall-clock time: it
  includes breaks and time the learner spent elsewhere; null when the step has not
  passed or became current only after its first pass.
"""

from __future__ import annotations

import csv
import html
import io
import json
import time
import xml.etree.ElementTree as ET
from importlib import resources

from labrunner import __version__, progress

FORMATS = ("json", "csv", "junit", "html")
EXTENSIONS = {".json": "json", ".csv": "csv", ".xml": "junit", ".html": "html", ".htm": "html"}
STATUSES = ("passed", "solved", "attempted", "not_started")
CSV_COLUMNS = ("lab", "lab_title", "step_number", "step_id", "step_title", "status", "check_runs",
               "solve_runs", "hints_taken", "hints_available", "first_current_at", "first_passed_at",
               "time_on_step_seconds")
TIME_NOTE = ("time_on_step_seconds is wall-clock time from the first time the step became current to its "
             "first pass, breaks included; null when the step has not passed")
SCHEMA_VERSION = 1


def schema() -> dict:
    """The JSON Schema a JSON report follows (shipped in the package)."""
    return json.loads(resources.files("labrunner").joinpath("report_schema.json").read_text(encoding="utf-8"))


# ---- the data ----------------------------------------------------------------------------

def build(labs: list) -> dict:
    """The report for these labs (Lab objects), as plain data."""
    return {"report": "labrunner progress", "schema_version": SCHEMA_VERSION, "labrunner_version": __version__,
            "generated_at": _iso(time.time()), "time_on_step": TIME_NOTE,
            "labs": [_lab(lab) for lab in labs]}


def _lab(lab) -> dict:
    from labrunner import steps as engine

    done = progress.completed(lab.id)
    record = progress.history(lab.id)
    seen_before = _hint_file(lab.id)
    rows = []
    for number, step in enumerate(lab.steps, 1):
        item = record.get(step.id, {})
        checks, solves = item.get("checks", 0), item.get("solves", 0)
        if step.id in done:
            status = "solved" if done[step.id]["solved"] else "passed"
        else:
            status = "attempted" if checks or solves else "not_started"
        first_pass, first_current = item.get("first_pass"), item.get("first_current")
        spent = round(first_pass - first_current, 1) if first_pass is not None and first_current is not None else None
        hints = max(int(item.get("hints", 0)), seen_before.get(step.id, 0))
        rows.append({"number": number, "id": step.id, "title": step.title, "status": status,
                     "check_runs": checks, "solve_runs": solves,
                     "hints_taken": min(hints, len(step.hints)), "hints_available": len(step.hints),
                     "first_current_at": _iso(first_current), "first_passed_at": _iso(first_pass),
                     "time_on_step_seconds": spent})
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    return {"id": lab.id, "title": lab.title, "steps_total": len(rows), "counts": counts,
            "current_step": engine.current(lab).id, "steps": rows}


def _hint_file(lab_id: str) -> dict[str, int]:
    """Hint tiers seen as the hints file holds them (it predates the progress store's record)."""
    from labrunner import paths

    try:
        seen = json.loads((paths.state_dir() / "hints" / f"{lab_id}.json").read_text(encoding="utf-8"))
        return {str(k): int(v) for k, v in seen.items()} if isinstance(seen, dict) else {}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _iso(at: float | None) -> str | None:
    return None if at is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


# ---- the formats -------------------------------------------------------------------------

def render(data: dict, fmt: str) -> str:
    return {"json": to_json, "csv": to_csv, "junit": to_junit, "html": to_html}[fmt](data)


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"


def to_csv(data: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for lab in data["labs"]:
        for step in lab["steps"]:
            row = {"lab": lab["id"], "lab_title": lab["title"], "step_number": step["number"],
                   "step_id": step["id"], "step_title": step["title"], **step}
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()


def to_junit(data: dict) -> str:
    """One testsuite per lab, one testcase per step. passed: a pass; solved and attempted: a
    failure (type "solved" / "not-passed"); not started: skipped."""
    root = ET.Element("testsuites", name="labrunner progress")
    totals = {"tests": 0, "failures": 0, "skipped": 0, "time": 0.0}
    for index, lab in enumerate(data["labs"]):
        suite = ET.SubElement(root, "testsuite", name=lab["id"], timestamp=data["generated_at"][:-1],
                              hostname="localhost", id=str(index), package="labrunner")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="title", value=lab["title"])
        ET.SubElement(props, "property", name="current_step", value=lab["current_step"])
        failures = skipped = 0
        spent_total = 0.0
        for step in lab["steps"]:
            spent = step["time_on_step_seconds"] or 0.0
            spent_total += spent
            case = ET.SubElement(suite, "testcase", classname=lab["id"],
                                 name=f"{step['number']:02d} {step['id']}: {step['title']}", time=f"{spent:.1f}")
            if step["status"] == "solved":
                failures += 1
                ET.SubElement(case, "failure", type="solved",
                              message="passed by `labrunner solve` (the reference solution), not by the learner")
            elif step["status"] == "attempted":
                failures += 1
                ET.SubElement(case, "failure", type="not-passed",
                              message=f"not passed after {step['check_runs']} check run(s)")
            elif step["status"] == "not_started":
                skipped += 1
                ET.SubElement(case, "skipped", message="not started")
            ET.SubElement(case, "system-out").text = _step_line(step)
        suite.set("tests", str(len(lab["steps"])))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", str(skipped))
        suite.set("time", f"{spent_total:.1f}")
        totals["tests"] += len(lab["steps"])
        totals["failures"] += failures
        totals["skipped"] += skipped
        totals["time"] += spent_total
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("skipped", str(totals["skipped"]))
    root.set("time", f"{totals['time']:.1f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _step_line(step: dict) -> str:
    spent = step["time_on_step_seconds"]
    return (f"status: {step['status']}; check runs: {step['check_runs']}; solve runs: {step['solve_runs']}; "
            f"hints taken: {step['hints_taken']} of {step['hints_available']}; "
            f"time on step: {_duration(spent) if spent is not None else 'n/a'}; "
            f"first passed: {step['first_passed_at'] or 'n/a'}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


# ---- HTML: one self-contained page, no script, nothing fetched ---------------------------

COLOURS = {"passed": "#2e7d32", "solved": "#f9a825", "attempted": "#c62828", "not_started": "#cfd8dc"}
LABELS = {"passed": "passed", "solved": "passed by solve", "attempted": "attempted", "not_started": "not started"}
CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 72em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; margin-top: .5em; }
th, td { border: 1px solid #ccc; padding: .3em .5em; text-align: left; font-size: .9em; }
th { background: #f2f2f2; }
td.num { text-align: right; }
.status { padding: 0 .4em; border-radius: .3em; }
.passed { background: #c8e6c9; } .solved { background: #fff3c4; }
.attempted { background: #ffcdd2; } .not_started { background: #eceff1; }
.note { color: #555; font-size: .9em; }
"""


def to_html(data: dict) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>labrunner progress report</title>", f"<style>{CSS}</style>", "</head>", "<body>",
             "<h1>labrunner progress report</h1>",
             f'<p class="note">Generated {e(data["generated_at"])} by labrunner {e(data["labrunner_version"])}. '
             f"{e(data['time_on_step'])}.</p>"]
    if data["labs"]:
        parts.append("<h2>Progress per lab</h2>")
        parts.append(_chart(data["labs"]))
    else:
        parts.append("<p>No progress recorded yet.</p>")
    for lab in data["labs"]:
        parts.append(f'<h2 id="lab-{e(lab["id"])}">{e(lab["title"])} ({e(lab["id"])})</h2>')
        parts.append("<table><thead><tr><th>#</th><th>Step</th><th>Status</th><th>Check runs</th>"
                     "<th>Solve runs</th><th>Hints taken</th><th>Time on step</th><th>First passed (UTC)</th>"
                     "</tr></thead><tbody>")
        for step in lab["steps"]:
            spent = step["time_on_step_seconds"]
            parts.append(
                f'<tr data-step="{e(step["id"])}"><td class="num">{step["number"]}</td><td>{e(step["title"])}</td>'
                f'<td><span class="status {step["status"]}">{LABELS[step["status"]]}</span></td>'
                f'<td class="num">{step["check_runs"]}</td><td class="num">{step["solve_runs"]}</td>'
                f'<td class="num">{step["hints_taken"]} of {step["hints_available"]}</td>'
                f'<td class="num">{_duration(spent) if spent is not None else "–"}</td>'
                f'<td>{e(step["first_passed_at"] or "–")}</td></tr>')
        parts.append("</tbody></table>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _chart(labs: list[dict]) -> str:
    """A horizontal stacked bar per lab: passed, solved, attempted, not started."""
    label_w, bar_w, row_h, top = 220, 480, 28, 34
    height = top + row_h * len(labs) + 10
    width = label_w + bar_w + 60
    e = html.escape
    out = [f'<svg role="img" aria-label="Steps per lab by status" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">']
    x = label_w
    for status in STATUSES:                      # the legend
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[status]}"/>'
                   f'<text x="{x + 16}" y="16" font-size="12">{LABELS[status]}</text>')
        x += 120
    for i, lab in enumerate(labs):
        y = top + i * row_h
        total = max(lab["steps_total"], 1)
        out.append(f'<text x="0" y="{y + 15}" font-size="13">{e(lab["id"])}</text>')
        x = float(label_w)
        for status in STATUSES:
            count = lab["counts"][status]
            if not count:
                continue
            w = bar_w * count / total
            out.append(f'<rect class="bar" data-lab="{e(lab["id"])}" data-status="{status}" data-count="{count}" '
                       f'x="{x:.1f}" y="{y}" width="{w:.1f}" height="20" fill="{COLOURS[status]}">'
                       f"<title>{e(lab['id'])}: {count} {LABELS[status]}</title></rect>")
            x += w
        done = lab["counts"]["passed"] + lab["counts"]["solved"]
        out.append(f'<text x="{label_w + bar_w + 6}" y="{y + 15}" font-size="12">{done}/{lab["steps_total"]}</text>')
    out.append("</svg>")
    return "\n".join(out)
