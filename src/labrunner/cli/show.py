import click

from rich.markup import escape

from labrunner.cli.common import console, fill, render_markdown


@click.command("show")
@click.argument("lab_id")
def command(lab_id):
    """Describe a lab: what you will learn, its steps, its stand-ins."""
    from labrunner import services
    from labrunner.labs import catalog

    lab = catalog.get(lab_id, with_code=False)
    out = console()
    # A lab's words are text, never markup: a "[/]" in a teacher's summary must not end `show`.
    out.print(f"[bold]{escape(lab.title)}[/]  ({lab.id}, {lab.level}, about {lab.minutes} minutes)")
    out.print(lab.summary, markup=False)
    out.print(f"AWS: {', '.join(lab.aws_services)}", markup=False)
    for name in lab.services:
        service = services.get(name)
        local = service.local.standin if service.local else f"none ({service.local_unavailable_reason})"
        out.print(f"stand-in for {name}: Docker: {_docker_standin(service)}; without Docker: {local}",
                  markup=False)
    out.print("\n[bold]You will be able to:[/]")
    for objective in lab.objectives:
        out.print(f"  • {objective}", markup=False)
    out.print("\n[bold]Steps:[/]")
    for i, step in enumerate(lab.steps, 1):
        out.print(f"  {i}. {escape(step.title)}  [dim]({step.id})[/]")
    out.print()
    from labrunner import sessions

    render_markdown(fill(lab.read(lab.differences), lab, sessions.find(lab.id)))
    out.print(f"\nStart it: labrunner run {lab.id}")


def _docker_standin(service) -> str:
    """The official image's words, or what an override (a class mirror, CI's images) runs."""
    from labrunner import config
    from labrunner.runtimes import docker

    image = config.resolve_image(service.name, service.image)
    if image in (service.image, f"{config.registry_mirror()}/{service.image}"):
        return service.docker_standin
    try:
        client = docker.connect()[0]
    except Exception:          # no daemon: the override is still named
        client = None
    return docker.standin_for(client, service, image)
