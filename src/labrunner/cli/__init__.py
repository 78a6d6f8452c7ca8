"""The command line: the parser only routes; each command is one module, imported on use.

One handler turns labrunner's own errors into a line on stderr and an exit
code; any other exception is a bug: its traceback goes to the log file.
"""

from __future__ import annotations

import importlib
import sys

import click

from labrunner import __version__
from labrunner.errors import ExitCode, LabrunnerError

COMMANDS = {
    "list": ("list_labs", "List the labs and your progress in each."),
    "show": ("show", "Describe a lab: what you will learn, its steps, its stand-ins."),
    "run": ("run", "Start a lab's services and work through its steps."),
    "check": ("check", "Check the current step against the live engine."),
    "hint": ("hint", "Show the next hint for the current step."),
    "solve": ("solve", "Apply the current step's reference solution."),
    "status": ("status", "What is running, and your progress."),
    "reset": ("reset", "Return the engine to the state a step starts from."),
    "down": ("down", "Stop a lab's services (all labs with --all)."),
    "fault": ("fault", "Kill, stop, pause, resume or restart a running service (or one node of a cluster)."),
    "failover": ("failover", "Fail a cluster over to a reader, as `aws rds failover-db-cluster` does."),
    "promote": ("promote", "Promote a read replica to a standalone instance, as `aws rds promote-read-replica` does."),
    "restore-to-time": ("restore_to_time", "Restore a cluster to a point in time in a new server, leaving it untouched."),
    "shell": ("shell", "Open the engine's own client (psql, ...) on the running lab."),
    "tool": ("tool", "Run an engine's client program (pg_dump, ...) against the running lab."),
    "env": ("env", "Print shell exports for the running lab (endpoint, credentials)."),
    "doctor": ("doctor", "Check Docker, local engines and ports; one line each."),
    "test": ("test", "Prove a lab: each check fails before its solution, passes after."),
    "report": ("report", "Export your progress per lab and step (json, csv, junit or html)."),
    "prepare": ("prepare", "Make labs runnable offline; bundle them for a class, or install a bundle."),
    "class": ("classroom", "A live class dashboard: `class serve` (teacher), `class join` (learner)."),
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (fast --help)."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"labrunner.cli.{COMMANDS[name][0]}")
        return module.command

    def format_commands(self, ctx, formatter):
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see `labrunner --help`"
            raise click.UsageError(f"no command named '{name}' — {hint}")
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="labrunner")
@click.option("--labs-dir", "labs_dirs", multiple=True, type=click.Path(file_okay=False, path_type=str),
              help="A folder of extra labs (<id>/lab.yaml); may repeat. Also LABRUNNER_LABS_PATH.")
@click.option("-v", "--verbose", is_flag=True, help="Tell the full story, with tracebacks of internal errors.")
@click.pass_context
def cli(ctx, labs_dirs, verbose):
    """labrunner: hands-on labs for the AWS database services, on real local engines.

    Start with `labrunner list`, then `labrunner run dynamodb-basics`.
    """
    from pathlib import Path

    from labrunner.labs import catalog

    from labrunner import log

    log.setup(verbose)
    ctx.obj = {"verbose": verbose}
    for entry in labs_dirs:
        catalog.add_labs_dir(Path(entry))


def main(argv=None) -> None:
    try:
        code = cli.main(args=argv, prog_name="labrunner", standalone_mode=False)
    except LabrunnerError as exc:
        _print_error(exc)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("\ninterrupted; services keep running (stop them with `labrunner down`)", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("\ninterrupted; services keep running (stop them with `labrunner down`)", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE_ERROR)
    except SystemExit:
        raise
    except Exception as exc:
        from labrunner import paths

        if paths.is_write_failure(exc):      # a read-only or full disk: not a bug, one line
            error = paths.cannot_write(exc)
            _print_error(error)
            sys.exit(error.exit_code)
        path = _log_traceback()              # a bug in labrunner itself
        if "-v" in sys.argv or "--verbose" in sys.argv:
            raise
        where = f"traceback in {path}" if path else "run again with -v for the traceback"
        click.echo(f"labrunner: internal error: {type(exc).__name__}: {exc} ({where}; please report it)",
                   err=True)
        sys.exit(ExitCode.INTERNAL_ERROR)
    sys.exit(int(code or ExitCode.OK))


def _print_error(exc: LabrunnerError) -> None:
    click.echo(f"labrunner: {exc.one_line()}", err=True)
    log_tail = getattr(exc, "log_tail", "")
    if log_tail:
        click.echo("--- engine log (last lines) ---", err=True)
        click.echo(log_tail.rstrip(), err=True)


def _log_traceback() -> str | None:
    """Append the traceback to the log; None when it cannot be written (it never raises)."""
    import os
    import time
    import traceback

    try:
        from labrunner import paths

        path = paths.private_dir(paths.state_dir() / "logs") / "labrunner.log"   # the log's own file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, paths.PRIVATE_FILE)
        with open(fd, "a", encoding="utf-8") as fh:
            fh.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} labrunner {' '.join(sys.argv[1:])}\n")
            fh.write(traceback.format_exc())
        return str(path)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        return None
