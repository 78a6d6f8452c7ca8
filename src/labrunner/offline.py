"""What a set of labs needs to run with no network, whether this machine has it, and putting a
class bundle's contents where labrunner looks for them.

Needs: the image each service runs on Docker (its override, or its pinned image behind the
registry mirror: config.resolve_image), the engine cache artifacts its local recipe fetches, and
the Python packages of labrunner itself with its `local` extra (labs need no other package).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from labrunner import config, engine_cache, paths, services
from labrunner.errors import LabrunnerError, RuntimeUnavailable, UsageError

# The engine cache artifacts a service's local recipe fetches: "module:function" returning a list.
ENGINES = {
    "neptune-gremlin": "labrunner.offline:_gremlin_artifacts",
    "ethereum": "labrunner.offline:_anvil_artifacts",
}
# Another way a service's engine can be there (then its artifacts are not needed).
ENGINE_ELSEWHERE = {
    "neptune-gremlin": "labrunner.offline:_gremlin_elsewhere",
    "ethereum": "labrunner.offline:_anvil_elsewhere",
}


def _gremlin_artifacts() -> list:
    from labrunner.services import gremlin_server

    return gremlin_server.artifacts()


def _anvil_artifacts() -> list:
    from labrunner.services import anvil_engine

    found = anvil_engine.artifact()
    return [found] if found else []


def _gremlin_elsewhere() -> str:
    from labrunner.services import gremlin_server

    return "GREMLIN_SERVER_HOME" if gremlin_server.server_home() else ""


def _anvil_elsewhere() -> str:
    from labrunner.services import anvil_engine

    return "anvil on PATH" if anvil_engine.on_path() else ""


def engine_artifacts(service_name: str) -> list:
    spec = ENGINES.get(service_name)
    return services.base.hook(spec)() if spec else []


def python_tag() -> str:
    """The Python and platform wheels are built for, e.g. 'cp311-linux-x86_64'."""
    return f"{sys.implementation.name}{sys.version_info.major}{sys.version_info.minor}-{sysconfig.get_platform()}"


# ---- the labs asked for --------------------------------------------------------------------

def read_course(path: Path) -> list[str]:
    """A course file: one lab id a line; blank lines and # comments ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--course {path}: {exc.strerror or exc}", "give a text file with one lab id a line") from None
    ids = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    ids = [i for i in ids if i]
    if not ids:
        raise UsageError(f"--course {path} names no lab", "write one lab id a line (# starts a comment)")
    return ids


def labs_named(ids: list[str]) -> list:
    from labrunner.labs import catalog

    labs, seen = [], set()
    for lab_id in ids:
        if lab_id not in seen:
            seen.add(lab_id)
            labs.append(catalog.get(lab_id, with_code=False))
    return labs


def all_labs() -> list:
    from labrunner.errors import LabError
    from labrunner.labs import catalog

    found = catalog.all_labs()
    broken = [item for item in found if isinstance(item, LabError)]
    if broken:
        raise UsageError(f"lab '{broken[0].lab_id}' is malformed: {broken[0].one_line()}",
                         "fix it (`labrunner test --static`) or name the labs to prepare")
    return found


def service_names(labs) -> list[str]:
    names: list[str] = []
    for lab in labs:
        names += [s for s in lab.services if s not in names]
    return names


# ---- images -------------------------------------------------------------------------------

@dataclass
class ImageNeed:
    service: str
    image: str              # the name labrunner runs here (override, or default behind the mirror)
    default: str            # the service's pinned image


def image_needs(names: list[str]) -> list[ImageNeed]:
    needs = []
    for name in names:
        service = services.get(name)
        needs.append(ImageNeed(name, config.resolve_image(name, service.image), service.image))
    return needs


def docker_client():
    """The Docker client labrunner would use, or None with the reason."""
    from labrunner.runtimes import docker

    try:
        client, _ = docker.connect()
        return client, ""
    except LabrunnerError as exc:
        return None, exc.message


def image_present(client, image: str) -> bool:
    import docker.errors

    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False


def save_images(client, images: list[str], target: Path, progress=None) -> None:
    """`docker save` of all `images` into one tar (shared layers once), written to `target`."""
    response = client.api._get(client.api._url("/images/get"), params={"names": images}, stream=True)
    client.api._raise_for_status(response)
    with open(target, "wb") as out:
        for chunk in response.iter_content(chunk_size=1 << 20):
            out.write(chunk)
            if progress:
                progress(len(chunk))


def load_images(client, stream, progress=None) -> list[str]:
    """`docker load` from a readable stream; returns the names Docker says it loaded."""
    def chunks():
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            if progress:
                progress(len(chunk))
            yield chunk

    loaded = []
    for event in client.api.load_image(chunks(), quiet=True):
        if isinstance(event, dict) and event.get("error"):
            raise RuntimeUnavailable(f"Docker could not load the bundle's images: {event['error']}",
                                     "check the disk space Docker has (`docker system df`)")
        text = event.get("stream", "") if isinstance(event, dict) else ""
        match = re.search(r"Loaded image(?: ID)?: (\S+)", text)
        if match:
            loaded.append(match.group(1))
    return loaded


def register_images(client, needs: list[dict]) -> list[str]:
    """After a load: each image under the name this machine's labrunner will ask for. An image
    pulled through a mirror is also tagged with its plain name; an override image is named in the
    config file's [images] (an override this machine already has is kept). Returns what it did."""
    done, overrides = [], {}
    mirror = config.registry_mirror()
    for need in needs:
        image, default, service = need["image"], need["default"], need["service"]
        if image == default:
            continue
        if image.endswith("/" + default):                     # pulled through a class mirror
            wanted = f"{mirror}/{default}" if mirror else default
            if wanted != image:
                repository, _, tag = wanted.rpartition(":")
                client.images.get(image).tag(repository, tag)
                done.append(f"{image} tagged {wanted}")
        elif config.image_override(service, default) is None:
            overrides[service] = image
    if overrides:
        write_image_overrides(overrides)
        done += [f"{service} runs {image} (config file [images])" for service, image in overrides.items()]
    return done


def write_image_overrides(overrides: dict[str, str]) -> None:
    """Add `service = "image"` lines to the config file's [images] table (made when missing)."""
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    new = [f'{service} = "{image}"' for service, image in overrides.items()]
    header = next((i for i, line in enumerate(lines) if line.strip() == "[images]"), None)
    if header is None:
        lines += ["", "# images a class bundle loaded (labrunner prepare --from)", "[images]"] + new
    else:
        lines[header + 1:header + 1] = new
    path.write_text("\n".join(lines).lstrip("\n") + "\n", encoding="utf-8")
    config.load.cache_clear()


# ---- wheels ----------------------------------------------------------------------------------

def source_tree() -> Path:
    """The labrunner source tree this labrunner runs from (its own wheel is built from it)."""
    root = Path(__file__).resolve().parent.parent.parent
    project = root / "pyproject.toml"
    if not project.is_file() or 'name = "labrunner"' not in project.read_text(encoding="utf-8"):
        raise UsageError("labrunner's own wheel is built from its source tree, and this labrunner is installed "
                         "without one", "run `labrunner prepare --bundle` from a clone of labrunner "
                         "(pip install -e .)")
    return root


def build_wheels(dest: Path, on_line=None) -> None:
    """labrunner's wheel built from its tree, then `pip wheel` of it with the local extra: every
    package it needs, as wheels (an sdist is built into one), into `dest`."""
    from labrunner import __version__

    shutil.rmtree(dest, ignore_errors=True)          # no wheel of an earlier run (pip's cache keeps it quick)
    dest.mkdir(parents=True)
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    _pip(["wheel", "--no-deps", *isolation, "-w", str(dest), str(source_tree())], on_line)
    own = next(dest.glob(f"labrunner-{__version__}-*.whl"), None)
    if own is None:
        raise RuntimeUnavailable("building labrunner's wheel gave no file", "run with -v to see pip's output")
    _pip(["wheel", "--prefer-binary", "-w", str(dest), f"{own}[local]"], on_line)


def _pip(args: list[str], on_line=None, python: str | None = None) -> None:
    process = subprocess.Popen([python or sys.executable, "-m", "pip", *args, "--disable-pip-version-check"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail = []
    for line in process.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        if on_line and line.strip():
            on_line(line.strip())
    if process.wait() != 0:
        last = next((t for t in reversed(tail) if t.strip()), "pip failed")
        raise RuntimeUnavailable(f"pip {args[0]} failed: {last}",
                                 "check the network and the package index (pip config list)" if args[0] != "install"
                                 else "the bundle's wheels do not fit this Python; make the bundle on a machine "
                                      "like this one")


def install_wheels(folder: Path, venv: Path | None, on_line=None) -> str:
    """labrunner[local] from `folder` alone (no index) into this Python, or into a new venv at
    `venv`; returns the Python it went into."""
    own = sorted(folder.glob("labrunner-*.whl"))
    if not own:
        raise UsageError("the bundle holds no labrunner wheel", "make it again with `labrunner prepare --bundle`")
    version = own[-1].name.split("-")[1]
    python = sys.executable
    if venv is not None:
        if not venv.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    _pip(["install", "--no-index", "--find-links", str(folder), f"labrunner[local]=={version}"], on_line, python)
    return python


# ---- engines and labs ---------------------------------------------------------------------------

def engine_files(names: list[str]) -> list[tuple[object, Path, str]]:
    """(artifact, its file in the cache, that file's path below the cache folder) for each engine
    cache artifact the services need."""
    root = engine_cache.cache_dir()
    out = []
    for name in names:
        for artifact in engine_artifacts(name):
            path = engine_cache.location(artifact)
            out.append((artifact, path, path.relative_to(root).as_posix()))
    return out


def installed_labs_dir() -> Path:
    """Where `prepare --from` puts a bundle's labs (the lab catalog searches it)."""
    from labrunner.labs import catalog

    return catalog.installed_labs_dir()


def lab_files(lab) -> list[tuple[Path, str]]:
    """(file, name inside the bundle) for a lab's folder, and labs/_shared beside it when there is one."""
    out = []
    folders = [(lab.path, f"labs/{lab.path.name}")]
    shared = lab.path.parent / "_shared"
    if shared.is_dir():
        folders.append((shared, "labs/_shared"))
    for folder, prefix in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                out.append((path, f"{prefix}/{path.relative_to(folder).as_posix()}"))
    return out


def place_file(stream, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + f".{os.getpid()}.part")
    with open(part, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    part.replace(target)


# ---- can this machine run a lab offline now? ---------------------------------------------------

def readiness(lab, client, client_reason: str) -> dict:
    """{"docker": (ready, detail), "local": (ready, detail)} for one lab."""
    from labrunner.labs import catalog

    python_problem = ""
    try:
        catalog.get(lab.id, with_code=True)          # its checks import what they need
    except LabrunnerError as exc:
        python_problem = exc.one_line()
    for name in lab.services:
        module = services.get(name).learner_client.partition(":")[0]
        if module and importlib.util.find_spec(module) is None:
            python_problem = python_problem or f"{name}'s client module {module} is not importable"
    return {"docker": _docker_ready(lab, client, client_reason, python_problem),
            "local": _local_ready(lab, python_problem)}


def _docker_ready(lab, client, client_reason: str, python_problem: str) -> tuple[bool, str]:
    if client is None:
        return False, f"no Docker ({client_reason})"
    missing = [need.image for need in image_needs(list(lab.services)) if not image_present(client, need.image)]
    if missing:
        return False, f"image {missing[0]} not present" + (f" (+{len(missing) - 1})" if len(missing) > 1 else "")
    if python_problem:
        return False, python_problem
    return True, "images present"


def _local_ready(lab, python_problem: str) -> tuple[bool, str]:
    shown = []
    for name in lab.services:
        service = services.get(name)
        if service.local is None:
            return False, f"{name} is Docker only"
        artifacts = engine_artifacts(name)
        if artifacts and not services.base.hook(ENGINE_ELSEWHERE[name])():
            missing = [a for a in artifacts if not engine_cache.location(a).is_file()]
            if missing:
                return False, (f"{name}: {len(missing)} of {len(artifacts)} engine files not cached "
                               f"({missing[0].file_name})")
            shown.append(f"{name} engine cached")
        try:
            service.local.find()
        except LabrunnerError as exc:
            return False, f"{name}: {exc.message}"
    if python_problem:
        return False, python_problem
    return True, ", ".join(shown) or "engines installed"
