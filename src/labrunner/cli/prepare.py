"""`labrunner prepare`: make a set of labs runnable offline, bundle it for a class, install a
bundle on a machine with no network, or say which labs this machine can run offline now."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click

from labrunner.cli import common
from labrunner.errors import ExitCode, UsageError


@click.command("prepare")
@click.argument("lab_ids", nargs=-1)
@click.option("--all", "all_labs", is_flag=True, help="Every lab labrunner knows.")
@click.option("--course", "course", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="A file listing lab ids, one a line (# comments).")
@click.option("--bundle", "bundle_path", metavar="FILE.tar", type=click.Path(dir_okay=False, path_type=Path),
              help="Write everything into one archive for machines with no network (gzip when FILE ends .gz).")
@click.option("--registry-mirror", "mirror", metavar="HOST", help="Pull images through this class mirror.")
@click.option("--from", "from_path", metavar="FILE.tar", type=click.Path(dir_okay=False, path_type=Path),
              help="Install a bundle made by `prepare --bundle` (no network needed).")
@click.option("--venv", "venv", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="With --from: install the wheels into a new virtual environment at DIR.")
@click.option("--check", "check", is_flag=True, help="Say per lab whether this machine can run it offline now.")
@click.option("--json", "as_json", is_flag=True, help="With --check: one JSON document.")
def command(lab_ids, all_labs, course, bundle_path, mirror, from_path, venv, check, as_json):
    """Make labs runnable with no network: the Docker images their services run, the local
    engines the engine cache fetches, and the Python wheels of labrunner and its local engines.

    \b
      labrunner prepare dynamodb-basics rds-postgres-basics --bundle course.tar
      labrunner prepare --course module-7.txt --registry-mirror HOST --bundle course.tar.gz
      labrunner prepare --from course.tar [--venv DIR]        # on each learner's machine
      labrunner prepare --check                                # per lab: ready offline?"""
    if mirror:
        os.environ["LABRUNNER_REGISTRY_MIRROR"] = mirror      # read wherever an image is named
    if from_path is not None:
        if lab_ids or all_labs or course or bundle_path or check:
            raise UsageError("--from installs a bundle as it is", "give only --from FILE (and --venv DIR)")
        return _install(from_path, venv)
    if venv is not None:
        raise UsageError("--venv goes with --from", "labrunner prepare --from course.tar --venv DIR")
    if check:
        if all_labs or course or bundle_path:
            raise UsageError("--check takes lab ids only", "labrunner prepare --check [LAB...]")
        return _check(list(lab_ids), as_json)
    return _prepare(_labs(lab_ids, all_labs, course), bundle_path)


def _labs(lab_ids, all_labs, course) -> list:
    from labrunner import offline

    given = sum(1 for x in (lab_ids, all_labs, course) if x)
    if given != 1:
        raise UsageError("name the labs to prepare", "give lab ids, --all, or --course FILE (one of them)")
    if all_labs:
        return offline.all_labs()
    return offline.labs_named(offline.read_course(course) if course else list(lab_ids))


# ---- progress ---------------------------------------------------------------------------------

class Meter:
    """One progress line for a long step (bytes, or a status text); nothing when not a terminal."""

    def __init__(self, label: str, total: int | None = None):
        from rich.progress import (BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn,
                                   TransferSpeedColumn)

        console = common.console()
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 DownloadColumn(), TransferSpeedColumn(), console=console, transient=True,
                                 disable=not console.is_terminal)
        self.task = self.progress.add_task(label, total=total)

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def advance(self, count: int) -> None:
        self.progress.advance(self.task, count)

    def say(self, text: str) -> None:
        self.progress.update(self.task, description=text[:80])


def _say(text: str) -> None:
    click.echo(text)


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return ""


# ---- prepare (and bundle) ---------------------------------------------------------------------

def _prepare(labs, bundle_path: Path | None) -> int:
    from labrunner import __version__, engine_cache, offline, paths

    names = offline.service_names(labs)
    _say(f"Preparing {len(labs)} lab(s): {', '.join(lab.id for lab in labs)} (services: {', '.join(names)})")
    problems: list[str] = []

    images = _images(offline.image_needs(names), problems)

    engines = offline.engine_files(names)
    for artifact, path, _ in engines:
        if path.is_file():
            continue
        with Meter(f"engine {artifact.file_name}") as meter:
            seen = {"done": 0}

            def step(done, total, meter=meter, seen=seen):
                if total:
                    meter.progress.update(meter.task, total=total)
                meter.advance(done - seen["done"])
                seen["done"] = done

            engine_cache.fetch(artifact, progress=step)
    _say(f"engines: {len(engines)} file(s) in the engine cache" if engines else "engines: none needed")

    wheels = paths.cache_dir() / "wheels"
    with Meter("wheels: pip wheel labrunner[local]") as meter:
        offline.build_wheels(wheels, on_line=lambda line: meter.say(f"pip: {line}"))
    wheel_files = sorted(wheels.glob("*.whl"))
    _say(f"wheels: {len(wheel_files)} in {wheels} ({_size(sum(p.stat().st_size for p in wheel_files))})")

    if bundle_path is not None:
        _write_bundle(bundle_path, labs, images, engines, wheel_files, problems, __version__)
    for problem in problems:
        _say(f"not prepared: {problem}")
    return ExitCode.CHECKS_FAILED if problems else ExitCode.OK


def _images(needs, problems: list[str]) -> list[dict]:
    """Each image present (pulled when missing); the ones that are, as manifest rows."""
    from labrunner import offline, services
    from labrunner.errors import LabrunnerError

    client, reason = offline.docker_client()
    if client is None:
        problems.append(f"the Docker images of {', '.join(n.service for n in needs)} (no Docker here: {reason})")
        return []
    from labrunner.runtimes.docker import DockerRuntime

    runtime = DockerRuntime()
    arch = client.info().get("Architecture", "")
    rows = []
    for need in needs:
        service = services.get(need.service)
        if service.docker_architectures and arch not in service.docker_architectures:
            problems.append(f"{need.image}: no image for {arch}")
            continue
        if not offline.image_present(client, need.image):
            with Meter(f"pulling {need.image}") as meter:
                def on_pull(event, meter=meter):
                    if isinstance(event, dict):
                        meter.say(f"{need.image}: {event.get('status', '')} {event.get('progress', '')}")
                try:
                    runtime.ensure_image(need.image, need.service, progress=on_pull,
                                         has_local=service.local is not None)
                except LabrunnerError as exc:
                    problems.append(f"{need.image} for {need.service}: {exc.message}")
                    continue
        rows.append({"service": need.service, "image": need.image, "default": need.default})
    distinct = sorted({row["image"] for row in rows})
    _say(f"images: {len(rows)} of {len(needs)} services' images present" +
         (f" ({len(distinct)} images: {', '.join(distinct)})" if rows else ""))
    return rows


def _write_bundle(target: Path, labs, images, engines, wheel_files, problems, version) -> None:
    from labrunner import bundle, offline

    if target.exists() and target.is_dir():
        raise UsageError(f"--bundle {target} is a folder", "give a file name, e.g. course.tar")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".labrunner-bundle-", dir=target.parent))
    try:
        entries = []
        if images:
            client, _ = offline.docker_client()
            names = sorted({row["image"] for row in images})
            saved = staging / "images.tar"
            with Meter(f"docker save {len(names)} image(s)") as meter:
                offline.save_images(client, names, saved, progress=meter.advance)
            entries.append(bundle.Entry(saved, bundle.IMAGES))
        entries += [bundle.Entry(path, f"wheels/{path.name}") for path in wheel_files]
        entries += [bundle.Entry(path, f"engines/{name}") for _, path, name in engines]
        seen = set()
        for lab in labs:
            for path, name in offline.lab_files(lab):
                if name not in seen:
                    seen.add(name)
                    entries.append(bundle.Entry(path, name))
        info = {"labrunner": version, "python": offline.python_tag(),
                "labs": [{"id": lab.id, "title": lab.title, "builtin": lab.source == "built-in"} for lab in labs],
                "images": images, "not_prepared": problems}
        total = sum(entry.source.stat().st_size for entry in entries)
        with Meter(f"writing {target.name}", total=2 * total) as meter:      # hashed, then written
            manifest = bundle.write(target, entries, info, progress=meter.advance,
                                   compress=target.name.endswith((".gz", ".tgz")))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = manifest["files"]
    biggest = sorted(files.items(), key=lambda item: -item[1]["size"])[:5]
    _say(f"bundle: {target} ({_size(target.stat().st_size)}, {len(files)} files); biggest: "
         + ", ".join(f"{name} {_size(item['size'])}" for name, item in biggest))


# ---- install a bundle ---------------------------------------------------------------------------

def _install(path: Path, venv: Path | None) -> int:
    from labrunner import bundle, engine_cache, offline, paths

    size = path.stat().st_size if path.is_file() else None
    with Meter(f"checking {path.name}", total=None if path.suffix == ".gz" else size) as meter:
        manifest = bundle.verify(path, progress=meter.advance)
    _say(f"{path.name}: {len(manifest['files'])} files match their checksums (labrunner {manifest['labrunner']})")
    if manifest.get("python") != offline.python_tag():
        raise UsageError(f"{path.name} holds wheels for {manifest.get('python')}, and this machine runs "
                         f"{offline.python_tag()}; nothing was installed",
                         "make the bundle on a machine with the same Python and operating system")
    client, reason = offline.docker_client()
    labs_target = offline.installed_labs_dir()
    builtin = {lab["id"] for lab in manifest["labs"] if lab.get("builtin")}
    work = Path(tempfile.mkdtemp(prefix="bundle-", dir=paths.cache_dir()))
    notes = []
    try:
        for name, stream in bundle.members(path):
            if name == bundle.IMAGES:
                if client is None:
                    notes.append(f"images not loaded: no Docker here ({reason}); run `labrunner prepare --from "
                                 f"{path.name}` again once Docker runs, or use --runtime local")
                    continue
                with Meter("docker load", total=manifest["files"][name]["size"]) as meter:
                    loaded = offline.load_images(client, stream, progress=meter.advance)
                _say(f"images: loaded {', '.join(loaded) or 'nothing new'}")
            elif name.startswith("engines/"):
                offline.place_file(stream, engine_cache.cache_dir() / name[len("engines/"):])
            else:
                offline.place_file(stream, work / name)
        if client is not None and manifest["images"]:
            notes += offline.register_images(client, manifest["images"])
        engines = [n for n in manifest["files"] if n.startswith("engines/")]
        if engines:
            _say(f"engines: {len(engines)} file(s) in the engine cache ({engine_cache.cache_dir()})")
        teacher_labs = _place_labs(work / "labs", labs_target, builtin)
        if teacher_labs:
            _say(f"labs: {', '.join(teacher_labs)} in {labs_target}")
        with Meter("installing wheels") as meter:
            python = offline.install_wheels(work / "wheels", venv, on_line=lambda line: meter.say(f"pip: {line}"))
        _say(f"wheels: labrunner {manifest['labrunner']} and its engines installed for {python}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for note in notes:
        _say(note)
    labs = ", ".join(lab["id"] for lab in manifest["labs"])
    _say(f"ready offline: {labs} (`labrunner prepare --check` says per runtime)")
    return ExitCode.OK


def _place_labs(source: Path, target: Path, builtin: set[str]) -> list[str]:
    """A bundle's own labs (not the built-in ones, which its labrunner wheel carries) into the
    installed labs folder, each replacing an earlier copy of itself."""
    placed = []
    if not source.is_dir():
        return placed
    for folder in sorted(source.iterdir()):
        if folder.name in builtin or not folder.is_dir():
            continue
        if folder.name == "_shared" and not any(p.name not in builtin for p in source.iterdir()
                                               if p.name != "_shared"):
            continue
        target.mkdir(parents=True, exist_ok=True)
        final = target / folder.name
        old = target / f".{folder.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        shutil.move(str(folder), str(final))
        shutil.rmtree(old, ignore_errors=True)
        if folder.name != "_shared":
            placed.append(folder.name)
    return placed


# ---- can this machine run them offline? ---------------------------------------------------------

def _check(lab_ids: list[str], as_json: bool) -> int:
    from labrunner import offline
    from labrunner.errors import LabError
    from labrunner.labs import catalog

    if lab_ids:
        labs = offline.labs_named(lab_ids)
    else:
        labs = [lab for lab in catalog.all_labs() if not isinstance(lab, LabError)]
    client, reason = offline.docker_client()
    rows = []
    for lab in labs:
        ready = offline.readiness(lab, client, reason)
        rows.append({"lab": lab.id, **{runtime: {"ready": ok, "detail": detail}
                                       for runtime, (ok, detail) in ready.items()}})
    if as_json:
        common.emit_json({"labs": rows})
    else:
        width = max(len(row["lab"]) for row in rows) if rows else 0
        for row in rows:
            parts = [f"{runtime}: {'ready' if row[runtime]['ready'] else 'not ready'} ({row[runtime]['detail']})"
                     for runtime in ("docker", "local")]
            click.echo(f"{row['lab']:<{width}}  " + " · ".join(parts))
    runnable = all(row["docker"]["ready"] or row["local"]["ready"] for row in rows)
    return ExitCode.OK if runnable else ExitCode.CHECKS_FAILED
