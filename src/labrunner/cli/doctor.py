import click

from labrunner.cli import common
from labrunner.errors import ExitCode, LabrunnerError


def gather() -> list[dict]:
    """One item per thing that matters; `ok` False makes doctor exit 1."""
    import sys

    from labrunner import __version__, config, paths, services
    from labrunner.labs import catalog
    from labrunner.runtimes import docker

    items = [{"item": "labrunner", "ok": True, "detail": f"{__version__} on Python {sys.version.split()[0]}"}]
    try:
        client, host = docker.connect()
        version = client.version().get("Version", "?")
        items.append({"item": "docker", "ok": True, "detail": f"{docker.describe(host)}, engine {version}"})
        docker_ok = True
        arch = client.info().get("Architecture", "")
    except LabrunnerError as exc:
        items.append({"item": "docker", "ok": True, "optional": True,
                      "detail": f"not reachable ({exc.message}); labs use the local runtime"})
        docker_ok = False
    for name in services.names():
        service = services.get(name)
        image = config.resolve_image(name, service.image)
        if docker_ok:
            if service.docker_architectures and arch not in service.docker_architectures:
                items.append({"item": f"{name} image", "ok": True, "optional": True,
                              "detail": f"none for {arch}: {service.aws_name} labs need an x86-64 machine"})
            else:
                try:
                    client.images.get(image)
                    state = "present"
                except Exception:
                    state = "not pulled yet (first run pulls it)"
                items.append({"item": f"{name} image", "ok": True, "detail": f"{image}: {state}"})
        if service.local is None:
            items.append({"item": f"{name} local", "ok": True, "optional": True,
                          "detail": f"none: Docker only ({service.local_unavailable_reason})"})
            continue
        try:
            service.local.find()
            version = service.local.version()
            items.append({"item": f"{name} local", "ok": True, "detail": f"{service.local.standin}: {version}"})
        except LabrunnerError as exc:
            items.append({"item": f"{name} local", "ok": docker_ok, "detail": exc.one_line()})
    broken = [lab for lab in catalog.all_labs() if isinstance(lab, LabrunnerError)]
    items.append({"item": "labs", "ok": not broken,
                  "detail": "; ".join(b.one_line() for b in broken) or f"{len(catalog.lab_dirs())} found"})
    from labrunner import sessions

    for session in sessions.all_sessions():
        for name, state in session.services.items():
            try:
                services.get(name).probe(session.endpoint(name))
                items.append({"item": f"{session.lab}/{name}", "ok": True,
                              "detail": f"answering on 127.0.0.1:{state['port']} ({session.runtime})"})
            except Exception:
                items.append({"item": f"{session.lab}/{name}", "ok": False,
                              "detail": f"not answering on 127.0.0.1:{state['port']} — "
                                        f"`labrunner run {session.lab}` starts it again"})
    items.append({"item": "state", "ok": True, "detail": str(paths.state_dir())})
    items.append({"item": "config", "ok": True, "detail": str(paths.config_file())
                  + ("" if paths.config_file().exists() else " (none)")})
    return items


@click.command("doctor")
@common.json_option
def command(as_json):
    """Check Docker, local engines, labs and running services; one line each."""
    items = gather()
    healthy = all(i["ok"] for i in items)
    if as_json:
        common.emit_json({"healthy": healthy, "items": items})
    else:
        for item in items:
            mark = "ok " if item["ok"] else "BAD"
            if item["ok"] and item.get("optional"):
                mark = " - "
            click.echo(f"{mark} {item['item']}: {item['detail']}")
    return ExitCode.OK if healthy else ExitCode.CHECKS_FAILED
