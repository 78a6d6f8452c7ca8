import click

from labrunner import sessions
from labrunner.cli import common
from labrunner.errors import UsageError


def kept_words(session) -> str:
    """What `down` keeps, true for each engine: data, or a rebuild from the reference solutions."""
    from labrunner import services

    lost = [name for name in session.services if not services.get(name).keeps_data]
    if not lost:
        return "its data is kept"
    if len(lost) == len(session.services):
        return (f"{', '.join(lost)} keeps no data, so `run` rebuilds it as at the start of your step from the "
                f"reference solutions")
    return f"its data is kept, except {', '.join(lost)}'s, which keeps none (it comes back empty)"


@click.command("down")
@click.argument("lab_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Stop every lab's services, and sweep leftovers.")
@click.option("--wipe", is_flag=True, help="Also delete the engines' data (containers, data folders).")
def command(lab_id, everything, wipe):
    """Stop a lab's services. Their data is kept, so `labrunner run` resumes where you were;
    --wipe deletes it. Your progress and workspace files are always kept."""
    from labrunner import lifecycle, warm_checker

    out = common.console()
    if everything and lab_id:
        raise UsageError(f"--all stops every lab; it takes no lab name ('{lab_id[:60]}')",
                         f"`labrunner down {lab_id[:60]}` stops one lab, `labrunner down --all` every lab")
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
            out.print(f"Stopped {', '.join(stopped) or 'nothing'} of {session.lab}; {kept_words(session)}: "
                      f"`labrunner run {session.lab}` resumes at your step, `labrunner down {session.lab} --wipe` "
                      f"deletes it.", markup=False)
    if everything:
        for item in lifecycle.sweep(keep_data=not wipe):
            out.print(f"Stopped leftover {item}.", markup=False)
        if not targets:
            out.print("Nothing else was running.")
    return 0
