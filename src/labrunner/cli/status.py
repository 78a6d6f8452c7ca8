import click

from labrunner import progress, sessions, steps
from labrunner.cli import common


def _service_rows(session) -> list[dict]:
    from labrunner import lifecycle

    return [{"service": name, "endpoint": session.endpoint(name).url, "standin": state.get("standin", ""),
             "answering": lifecycle.probe(session, name) is None, "nodes": _nodes(session, name),
             "notes": _notes(session, name)}
            for name, state in session.services.items()]


def _notes(session, name) -> list[str]:
    """A service's own extra lines (a cluster's restorable window); none when it does not answer."""
    from labrunner import services
    from labrunner.errors import LabrunnerError
    from labrunner.services.base import hook

    definition = services.get(name)
    if not definition.status_notes:
        return []
    try:
        return hook(definition.status_notes)(session.endpoint(name))
    except (LabrunnerError, OSError):
        return []


def _nodes(session, name) -> list[dict]:
    """A cluster's nodes as its control reports them (empty for a one-engine service)."""
    from labrunner import services
    from labrunner.errors import LabrunnerError
    from labrunner.services.base import hook

    definition = services.get(name)
    if not definition.nodes:
        return []
    try:
        return hook(definition.nodes)(session.endpoint(name))
    except (LabrunnerError, OSError) as exc:
        return [{"name": "?", "zone": "", "role": f"not answering ({exc})", "port": 0, "alive": False, "lag": ""}]


@click.command("status")
@click.argument("lab_id", required=False)
@common.json_option
def command(lab_id, as_json):
    """What is running, and your progress."""
    from labrunner.labs import catalog

    recorded = sessions.all_sessions()
    lab_ids = ([sessions.check_id(lab_id)] if lab_id else
               sorted({s.lab for s in recorded} | ({sessions.current_lab()} - {None})))
    report = []
    for lid in lab_ids:
        lab = catalog.get(lid, with_code=False)
        session = sessions.find(lid)
        done = progress.completed(lid)
        tries = progress.attempts(lid)
        current = steps.current(lab)
        report.append({
            "lab": lid, "title": lab.title, "running": session is not None and not session.stopped,
            "stopped": bool(session and session.stopped),
            "runtime": session.runtime if session else None,
            "workspace": session.workspace if session else None,
            "services": _service_rows(session) if session and not session.stopped else [],
            "current_step": current.id,
            "steps": [{"id": s.id, "title": s.title, "done": s.id in done,
                       "solved_by_solution": done.get(s.id, {}).get("solved", False),
                       "check_runs": tries.get(s.id, 0)} for s in lab.steps],
        })
    if as_json:
        common.emit_json({"labs": report})
        return 0
    out = common.console()
    if not report:
        out.print("No lab is running. Start one with `labrunner run <lab>` (see `labrunner list`).")
        return 0
    for item in report:
        if item["running"]:
            state = f"running on the {item['runtime']} runtime"
        elif item["stopped"]:
            state = (f"stopped (`labrunner run {item['lab']}` resumes at your step; "
                     f"`labrunner down {item['lab']} --wipe` deletes its data)")
        else:
            state = "not running"
        out.print(f"[bold]{item['title']}[/] ({item['lab']}): {state}")
        for svc in item["services"]:
            health = "[green]answering[/]" if svc["answering"] else "[red]not answering[/]"
            out.print(f"  {svc['service']}: {svc['endpoint']} — {svc['standin']} — {health}")
            for node in svc["nodes"]:
                alive = "[green]up[/]" if node["alive"] else "[red]down[/]"
                lag = f", replay lag {node['lag']}" if node.get("lag") else ""
                out.print(f"    {node['name']} ({node['zone']}): {node['role']} on 127.0.0.1:{node['port']} "
                          f"— {alive}{lag}")
            for note in svc["notes"]:
                out.print(f"    {note}", markup=False)
        if item["workspace"]:
            out.print(f"  workspace: {item['workspace']}")
        for i, step in enumerate(item["steps"], 1):
            current = step["id"] == item["current_step"]
            mark = ("→" if current else " ") + ("[green]✓[/]" if step["done"] else " ")
            extra = " (by `solve`)" if step["solved_by_solution"] else ""
            runs = step["check_runs"]
            tries = f", checked {runs} time{'s' if runs != 1 else ''}" if runs else ""
            out.print(f"  {mark} {i}. {step['title']}{extra}[dim]{tries}[/]")
    return 0
