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


class _JsonOnError(click.Command):
    """With --json, even an error in the command line itself is answered with a JSON object."""

    def parse_args(self, ctx, args):
        as_json = "--json" in args                # before click's parser consumes the list
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if as_json:
                common.emit_json({"ok": False, "error": exc.format_message(),
                                  "exit_code": int(ExitCode.USAGE_ERROR), "results": []})
            raise


@click.command("test", cls=_JsonOnError)
@click.argument("lab_ids", nargs=-1)
@click.option("--all", "every_lab", is_flag=True, help="Test every lab.")
@click.option("--static", is_flag=True,
              help="Only the lab rules (functions exist, tiered hints, a mistake per step, titles match "
                   "headings, no stray files); starts no engine.")
@click.option("--runtime", type=click.Choice(["all", "auto", "docker", "local"]), default="all", show_default=True,
              help="all: every runtime here that can serve the lab.")
@click.option("--skip-unavailable", is_flag=True,
              help="Report a lab whose engine cannot be had here (an image that cannot be pulled, no local "
                   "stand-in) as skipped instead of failed.")
@common.json_option
def command(lab_ids, every_lab, static, runtime, skip_unavailable, as_json):
    """Prove labs: each check fails before its solution and passes after it,
    and each listed mistake is caught. Runs on fresh services, not yours.
    --static checks the lab rules only, with no engine."""
    reports: list[dict] = []
    try:
        if static:
            return _static(lab_ids, every_lab, as_json, reports)
        return _prove(lab_ids, every_lab, runtime, skip_unavailable, as_json, reports)
    except LabrunnerError as exc:
        if as_json:
            _json_error(exc.one_line(), exc.exit_code, reports)
        raise
    except (KeyboardInterrupt, click.exceptions.Abort):
        if as_json:
            _json_error("interrupted", ExitCode.INTERRUPTED, reports)
        raise
    except Exception as exc:  # a bug: the CLI's handler logs the traceback; JSON readers still get a reason
        if as_json:
            _json_error(f"internal error: {type(exc).__name__}: {exc}", ExitCode.INTERNAL_ERROR, reports)
        raise


def _json_error(message: str, code: int, reports: list) -> None:
    common.emit_json({"ok": False, "error": message, "exit_code": int(code), "results": reports})


def _lab_ids(lab_ids, every_lab) -> tuple:
    from labrunner.labs import catalog

    if every_lab:
        return tuple(catalog.lab_dirs())
    if not lab_ids:
        raise LabrunnerError("which lab?", "name one or more labs, or --all")
    return lab_ids


def _static(lab_ids, every_lab, as_json, reports) -> ExitCode:
    """`test --static`: the lab rules, no engine. One line per finding."""
    from rich.markup import escape

    from labrunner.labs import catalog, rules

    lab_ids = _lab_ids(lab_ids, every_lab)
    dirs = catalog.lab_dirs()
    for lab_id in lab_ids:
        if lab_id not in dirs:
            catalog.get(lab_id, with_code=False)           # raises: no lab named ..., did you mean ...
    out = common.console()
    for lab_id in lab_ids:
        path, source = dirs[lab_id]
        findings = rules.check(path, source)
        reports.append({"lab": lab_id, "runtime": None, "static": True, "ok": not findings,
                        "findings": [{"ok": False, "step": f.step, "what": f.rule, "where": f.where,
                                      "detail": f.message} for f in findings]})
        if as_json:
            continue
        if findings:
            out.print(f"[red]✗[/] {escape(lab_id)}: {len(findings)} rule(s) broken")
        else:
            out.print(f"[green]✓[/] {escape(lab_id)}: keeps the lab rules (no engine started)")
        for finding in findings:
            out.print(f"   {escape(finding.line())}", soft_wrap=True)
    ok = all(report["ok"] for report in reports)
    if as_json:
        common.emit_json({"ok": ok, "static": True, "results": reports})
    return ExitCode.OK if ok else ExitCode.LAB_TEST_FAILED


def _prove(lab_ids, every_lab, runtime, skip_unavailable, as_json, reports) -> ExitCode:
    from labrunner import labtest
    from labrunner.labs import catalog

    lab_ids = _lab_ids(lab_ids, every_lab)
    from rich.markup import escape

    out = common.console()
    ok = True
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
                    proof = labtest.prove(lab, rt, on_event=lambda kind, name, *detail: status.update(
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
