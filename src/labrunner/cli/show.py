import click

from labrunner.cli.common import console, fill, render_markdown


@click.command("show")
@click.argument("lab_id")
def command(lab_id):
    """Describe a lab: what you will learn, its steps, its stand-ins."""
    from labrunner import services
    from labrunner.labs import catalog

    lab = catalog.get(lab_id, with_code=False)
    out = console()
    out.print(f"[bold]{lab.title}[/]  ({lab.id}, {lab.level}, about {lab.minutes} minutes)")
    out.print(lab.summary)
    out.print(f"AWS: {', '.join(lab.aws_services)}")
    for name in lab.services:
        service = services.get(name)
        local = service.local.standin if service.local else f"none ({service.local_unavailable_reason})"
        out.print(f"stand-in for {name}: Docker: {service.docker_standin}; without Docker: {local}")
    out.print("\n[bold]You will be able to:[/]")
    for objective in lab.objectives:
        out.print(f"  • {objective}")
    out.print("\n[bold]Steps:[/]")
    for i, step in enumerate(lab.steps, 1):
        out.print(f"  {i}. {step.title}  [dim]({step.id})[/]")
    out.print()
    from labrunner import sessions

    render_markdown(fill(lab.read(lab.differences), lab, sessions.find(lab.id)))
    out.print(f"\nStart it: labrunner run {lab.id}")
