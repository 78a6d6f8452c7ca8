import click

from labrunner import progress
from labrunner.cli.common import console, emit_json, json_option
from labrunner.errors import LabError


@click.command("list")
@json_option
def command(as_json):
    """List the labs and your progress in each."""
    from labrunner.labs import catalog

    rows, broken = [], []
    for item in catalog.all_labs():
        if isinstance(item, LabError):
            broken.append({"id": getattr(item, "lab_id", None), "source": getattr(item, "source", None),
                           "error": item.one_line()})
            continue
        done = progress.completed(item.id)
        rows.append({
            "id": item.id, "title": item.title, "level": item.level, "minutes": item.minutes,
            "services": list(item.services), "steps": len(item.steps),
            "completed": sum(1 for s in item.steps if s.id in done), "source": item.source,
        })
    if as_json:
        emit_json({"labs": rows, "broken": broken})
        return 1 if broken else 0
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    table.add_column("lab", no_wrap=True, min_width=max((len(r["id"]) for r in rows), default=3))  # typed: never cut
    for column in ("title", "level", "min", "progress"):
        table.add_column(column)
    for row in rows:
        state = "done" if row["completed"] == row["steps"] else f"{row['completed']}/{row['steps']} steps"
        table.add_row(row["id"], escape(row["title"]), row["level"], str(row["minutes"]), state)  # text, not markup
    out = console()
    out.print(table)
    for lab in broken:
        out.print(f"[red]broken:[/] {escape(lab['id'] or '?')}: {escape(lab['error'])}", markup=True,
                  soft_wrap=True)                                        # one line, however long
    out.print("Start one with: labrunner run <lab>")
    return 1 if broken else 0
