import click

from labrunner import sessions
from labrunner.cli import common


@click.command("down")
@click.argument("lab_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Stop every lab's services, and sweep leftovers.")
@click.option("--wipe", is_flag=True, help="Also delete the engines' data (containers, data folders).")
def command(lab_id, everything, wipe):
    """Stop a lab's services. Their data is kept, so `labrunner run` resumes where you were;
    --wipe deletes it. Your progress and workspace files are always kept."""
    from labrunner import lifecycle, warm_checker

    out = common.console()
    if everything:
        targets = sessions.all_sessions() if wipe else sessions.running()
    else:
        lab_id = sessions.resolve_lab(lab_id, "down")
        session = sessions.find(lab_id) if lab_id else None
        if session is None or (session.stopped and not wipe):
            what = f"lab '{lab_id}'" if lab_id else "any lab"
            kept = " (stopped earlier; its data is kept — add --wipe to delete it)" if session else ""
            out.print(f"Nothing is running for {what}{kept}.", markup=False)
            return 0
        targets = [session]
    for session in targets:
        warm_checker.stop(session.lab)
        stopped = lifecycle.stop(session, wipe=wipe)
        if wipe:
            out.print(f"Stopped {', '.join(stopped) or 'nothing'} of {session.lab} and deleted its data.",
                      markup=False)
        else:
            out.print(f"Stopped {', '.join(stopped) or 'nothing'} of {session.lab}; its data is kept: "
                      f"`labrunner run {session.lab}` resumes, `labrunner down {session.lab} --wipe` deletes it.",
                      markup=False)
    if everything:
        for item in lifecycle.sweep(keep_data=not wipe):
            out.print(f"Stopped leftover {item}.", markup=False)
        if not targets:
            out.print("Nothing else was running.")
    return 0
