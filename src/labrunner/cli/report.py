import errno
import os
from pathlib import Path

import click

from labrunner.errors import LabError, UsageError


@click.command("report")
@click.argument("lab_id", required=False)
@click.option("--format", "fmt", metavar="json|csv|junit|html",
              help="The report's format (default: from --out's extension, else json).")
@click.option("--out", "out", metavar="FILE", help="Write the report to FILE (default: print it).")
def command(lab_id, fmt, out):
    """Export your progress per lab and step: status, check runs, hints taken, time on step.

    Every lab with progress recorded, or only LAB_ID. JSON follows the schema shipped as
    labrunner/report_schema.json; CSV has one row per lab and step; JUnit XML one
    testsuite per lab and one testcase per step; HTML is one self-contained page."""
    from labrunner import progress, report, sessions
    from labrunner.labs import catalog

    fmt = _format(fmt, out)
    if lab_id:
        labs = [catalog.get(sessions.check_id(lab_id), with_code=False)]
    else:
        known = catalog.lab_dirs()
        recorded = progress.labs()
        gone = [lab for lab in recorded if lab not in known]
        if gone:
            click.echo(f"labrunner: progress for {', '.join(gone)} is left out: no such lab is installed now",
                       err=True)
        labs = []
        for lab in (lab for lab in recorded if lab in known):
            try:
                labs.append(catalog.get(lab, with_code=False))
            except LabError as exc:         # a broken lab file: the others are still reported
                click.echo(f"labrunner: progress for {lab} is left out: {exc.one_line()}", err=True)
        if not labs:
            click.echo("labrunner: no progress recorded yet (start a lab with `labrunner run <lab>`); "
                       "the report lists no labs", err=True)
    text = report.render(report.build(labs), fmt)
    if out in (None, "-"):
        click.echo(text, nl=False)
        return 0
    path = _write(Path(out), text)
    click.echo(f"Wrote the {fmt} report ({len(labs)} lab{'s' if len(labs) != 1 else ''}) to {path}")
    return 0


def _format(fmt, out) -> str:
    from labrunner import report

    if fmt is None:
        suffix = Path(out).suffix.lower() if out and out != "-" else ""
        return report.EXTENSIONS.get(suffix, "json")
    if fmt.lower() not in report.FORMATS:
        raise UsageError(f"no report format named '{fmt[:40]}'",
                         f"use --format {', '.join(report.FORMATS[:-1])} or {report.FORMATS[-1]}")
    return fmt.lower()


def _write(path: Path, text: str) -> Path:
    """Write all of it or nothing: a temporary file beside the target, then renamed."""
    path = path.expanduser()
    folder = path.parent
    if path.is_dir():
        raise UsageError(f"--out {path} is a folder", f"give a file name in it, e.g. --out {path / 'progress'}.html")
    if not folder.is_dir():
        raise UsageError(f"--out {path}: the folder {folder} does not exist",
                         "create it first, or pass --out a file in an existing folder")
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        reason = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                  errno.EROFS: "read-only file system", errno.ENOSPC: "no space left on the disk"}.get(
                      exc.errno, (exc.strerror or str(exc)).lower())
        raise UsageError(f"cannot write --out {path} ({reason})",
                         "pass --out a file in a folder you can write to") from None
    return path
