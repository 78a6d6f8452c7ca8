import click

from labrunner.cli import common
from labrunner.errors import ExitCode, LabrunnerError, RuntimeUnavailable


def runtimes_for(lab, requested: str) -> list[str]:
    """`all`: every runtime here that can serve the lab."""
    if requested != "all":
        return [requested]
    from labrunner import services
    from labrunner.runtimes import docker

    chosen = []
    if docker.available():
        chosen.append("docker")
    try:
        for name in lab.services:
            service = services.get(name)
            if service.local is None:
                raise LabrunnerError("no local stand-in")
            service.local.find()
        chosen.append("local")
    except LabrunnerError:
        pass
    return chosen


@click.command("test")
@click.argument("lab_ids", nargs=-1)
@click.option("--all", "every_lab", is_flag=True, help="Test every lab.")
@click.option("--runtime", type=click.Choice(["all", "auto", "docker", "local"]), default="all", show_default=True,
              help="all: every runtime here that can serve the lab.")
@click.option("--skip-unavailable", is_flag=True,
              help="Report a lab whose engine cannot be had here (an image that cannot be pulled, no local "
                   "stand-in) as skipped instead of failed.")
@common.json_option
def command(lab_ids, every_lab, runtime, skip_unavailable, as_json):
    """Prove labs: each check fails before its solution and passes after it,
    and each listed mistake is caught. Runs on fresh services, not yours."""
    from labrunner import labtest
    from labrunner.labs import catalog

    if every_lab:
        lab_ids = tuple(catalog.lab_dirs())
    if not lab_ids:
        raise LabrunnerError("which lab?", "name one or more labs, or --all")
    from rich.markup import escape

    out = common.console()
    reports, ok = [], True
    for lab_id in lab_ids:
        lab = catalog.get(lab_id)
        chosen = runtimes_for(lab, runtime)
        if not chosen:
            why = "no runtime here can serve it (see `labrunner doctor`)"
            ok = ok and skip_unavailable
            reports.append({"lab": lab_id, "runtime": None, "ok": skip_unavailable, "skipped": why, "findings": []})
            if not as_json:
                out.print(f"{'[yellow]skipped[/]' if skip_unavailable else '[red]✗[/]'} {lab_id}: {why}")
            continue
        for rt in chosen:
            try:
                with out.status(f"Testing {lab_id} on {rt} …") as status:
                    proof = labtest.prove(lab, rt, on_event=lambda kind, name: status.update(
                        f"Testing {lab_id} on {rt}: {kind} {name}"))
            except RuntimeUnavailable as exc:
                if not skip_unavailable:
                    raise
                reports.append({"lab": lab_id, "runtime": rt, "ok": True, "skipped": exc.one_line(), "findings": []})
                if not as_json:
                    out.print(f"[yellow]skipped[/] {lab_id} on {rt}: {escape(exc.one_line())}")
                continue
            ok = ok and proof.ok
            reports.append({"lab": lab_id, "runtime": rt, "ok": proof.ok,
                            "findings": [f.__dict__ for f in proof.findings]})
            if not as_json:
                _render(out, proof)
    if as_json:
        common.emit_json({"ok": ok, "results": reports})
    return ExitCode.OK if ok else ExitCode.LAB_TEST_FAILED


def _render(out, proof) -> None:
    from rich.markup import escape

    bad = [f for f in proof.findings if not f.ok]
    mark = "[green]✓[/]" if proof.ok else "[red]✗[/]"
    steps = len({f.step for f in proof.findings})
    mistakes = sum(1 for f in proof.findings if f.what.startswith("mistake:"))
    out.print(f"{mark} {proof.lab} on {proof.runtime}: {steps} steps, {len(proof.findings)} findings "
              f"({mistakes} mistakes caught)" if proof.ok else
              f"{mark} {proof.lab} on {proof.runtime}: {len(bad)} of {len(proof.findings)} findings failed")
    for finding in bad:
        out.print(f"   {finding.step} ({finding.what}) {escape(finding.detail)}", markup=True)
