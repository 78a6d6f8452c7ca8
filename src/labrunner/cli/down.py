import click

from labrunner import sessions
from labrunner.cli import common


def sweep_orphans() -> list[str]:
    """Stop what no session file names any more: labelled containers, engines with pid files."""
    import json
    import shutil

    from labrunner import paths
    from labrunner.runtimes.local import LocalRuntime

    stopped = []
    engines = paths.state_dir() / "engines"
    local = LocalRuntime()
    for pid_file in sorted(engines.glob("*/*/engine.pid")) if engines.exists() else []:
        try:
            info = json.loads(pid_file.read_text())
        except (OSError, ValueError):
            info = {}
        state = {"pid": info.get("pid"), "started": info.get("started"), "run_dir": str(pid_file.parent),
                 "data_dir": info.get("data_dir", str(pid_file.parent))}
        if local.alive(state):
            stopped.append(f"{pid_file.parent.name} process {info.get('pid')}")
        local.remove(state)
    if engines.exists():
        for session_dir in engines.iterdir():
            shutil.rmtree(session_dir, ignore_errors=True)
    from labrunner.runtimes import docker

    if docker.available():
        runtime = docker.DockerRuntime()
        for container in runtime.labelled():
            stopped.append(f"container {container.name}")
            container.remove(force=True, v=True)
    return stopped


@click.command("down")
@click.argument("lab_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Stop every lab's services, and any leftovers.")
def command(lab_id, everything):
    """Stop a lab's services (your progress and workspace files are kept)."""
    from labrunner import lifecycle

    out = common.console()
    if everything:
        targets = sessions.all_sessions()
    else:
        targets = [sessions.require(lab_id)]
    for session in targets:
        stopped = lifecycle.stop(session)
        out.print(f"Stopped {', '.join(stopped) or 'nothing'} of {session.lab}.")
    if everything:
        for item in sweep_orphans():
            out.print(f"Stopped leftover {item}.")
        if not targets:
            out.print("Nothing else was running.")
    return 0
