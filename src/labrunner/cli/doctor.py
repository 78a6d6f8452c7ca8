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
                      "detail": f"not reachable ({_reason(exc)}); labs use the local runtime"})
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
        items.extend(_notes(name, service))
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

    try:
        running = sessions.all_sessions()
    except LabrunnerError:
        running = []                    # an unwritable state folder: its own line says so below
    from labrunner import engine_cache, lifecycle

    for session in running:
        for name, state in session.services.items():
            if session.stopped:
                items.append({"item": f"{session.lab}/{name}", "ok": True,
                              "detail": f"stopped ({session.runtime}) — `labrunner run {session.lab}` "
                                        f"resumes, `labrunner down {session.lab} --wipe` deletes it"})
            elif lifecycle.probe(session, name) is None:
                items.append({"item": f"{session.lab}/{name}", "ok": True,
                              "detail": f"answering on 127.0.0.1:{state['port']} ({session.runtime})"})
            else:
                items.append({"item": f"{session.lab}/{name}", "ok": False,
                              "detail": f"not answering on 127.0.0.1:{state['port']} — "
                                        f"`labrunner run {session.lab}` starts it again on its data"})
    items.extend(_own_folders())
    try:
        cached = engine_cache.summary()
        folder = engine_cache.cache_dir()
    except (LabrunnerError, OSError) as exc:
        items.append({"item": "engine cache", "ok": True, "optional": True, "detail": f"unavailable: {exc}"})
    else:
        size = sum(row["bytes"] for row in cached)
        listed = ", ".join(f"{r['name']} {r['version']} ({r['bytes'] / 1e6:.1f} MB)" for r in cached[:8])
        more = f", and {len(cached) - 8} more" if len(cached) > 8 else ""
        items.append({"item": "engine cache", "ok": True,
                      "detail": f"{folder}: {len(cached)} artifact(s), {size / 1e6:.1f} MB"
                                + (f" — {listed}{more}" if cached else ""),
                      "artifacts": cached})
    items.append({"item": "config", "ok": True, "detail": str(paths.config_file())
                  + ("" if paths.config_file().exists() else " (none)")})
    return items


def _notes(name, service) -> list[dict]:
    """A service's own doctor lines (`Service.doctor_notes`); they never fail doctor by breaking."""
    if not service.doctor_notes:
        return []
    from labrunner.services.base import hook

    try:
        notes = hook(service.doctor_notes)()
    except Exception as exc:            # a note that cannot be worked out is said, not raised
        return [{"item": name, "ok": True, "optional": True, "detail": f"could not tell: {exc}"}]
    return [{"item": item, "ok": ok, "detail": detail} for item, ok, detail in notes]


def _reason(exc: LabrunnerError) -> str:
    """The runtime's whole message on one line, without repeating "not reachable"."""
    text = " ".join(exc.message.split())
    prefix = "Docker is not reachable: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _own_folders() -> list[dict]:
    """The state folder and the progress store: writable, private, and what was found."""
    from labrunner import paths, progress

    items = []
    for name, folder in (("state", paths.state_dir), ("data", paths.data_dir)):
        try:
            path = folder()
            problem = paths.write_problem(path)
            if problem is not None:
                raise paths.cannot_write(problem, path)
            mode = path.stat().st_mode & 0o777
            items.append({"item": name, "ok": True, "detail": f"{path} (writable, mode {mode:o})"})
        except LabrunnerError as exc:
            items.append({"item": name, "ok": False, "detail": exc.one_line()})
    try:
        found = progress.health()
        items.append({"item": "progress", "ok": found["state"] != "damaged",
                      "detail": f"{found['state']}: {found['detail']}"})
    except LabrunnerError as exc:
        items.append({"item": "progress", "ok": False, "detail": f"unreadable: {exc.one_line()}"})
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
