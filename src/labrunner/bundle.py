"""A class bundle: one tar file that holds everything a room needs to run a set of labs offline.

    manifest.json        what is inside: every file's size and sha256, labrunner's version, the labs,
                         the images and which service runs each, the Python the wheels were built for
    manifest.sha256      the sha256 of manifest.json (so a damaged manifest is caught too)
    images/images.tar    `docker save` of every image (layers shared by images stored once)
    wheels/*.whl         labrunner and every package it needs, the local engines' extra included
    engines/...          engine cache artifacts, laid out as in the engine cache
    labs/<id>/...        the lab folders (labs/_shared too, when the labs use it)

`verify` reads the whole file once and refuses it, naming the member, when anything is missing,
cut short or does not match its checksum; `members` then streams the verified members to the
installer. Nothing is written anywhere by `verify`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from labrunner.errors import ExitCode, LabrunnerError

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
IMAGES = "images/images.tar"
CHUNK = 1 << 20
TOP_FOLDERS = ("images", "wheels", "engines", "labs")


class BundleDamaged(LabrunnerError):
    """The bundle is not what its manifest says: nothing was installed."""

    exit_code = ExitCode.USAGE_ERROR


def damaged(bundle: Path, what: str) -> BundleDamaged:
    return BundleDamaged(f"{bundle.name} is damaged: {what}; nothing was installed",
                         "copy the bundle again from the original (or make it again with `labrunner prepare --bundle`)")


@dataclass
class Entry:
    """One file to put in the bundle: where it is now, and its name inside."""

    source: Path
    name: str


def sha256_of(path: Path, progress=None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (not path.is_absolute() and ".." not in path.parts and bool(path.parts)
            and (name in (MANIFEST, MANIFEST_SUM) or path.parts[0] in TOP_FOLDERS))


# ---- writing ---------------------------------------------------------------------------------

def write(target: Path, entries: list[Entry], info: dict, progress=None, compress: bool = False) -> dict:
    """Write the bundle to `target` (via a .part file); returns the manifest written.
    `progress(bytes)` is called while files are hashed and while they are written. `compress`:
    gzip at its fastest level: less than half the size for images and wheels, and
    about as quick to write (less to write) and to read back."""
    files = {}
    for entry in entries:
        if not _safe_name(entry.name):
            raise ValueError(f"not a bundle member name: {entry.name}")
        files[entry.name] = {"size": entry.source.stat().st_size, "sha256": sha256_of(entry.source, progress)}
    manifest = dict(info, format=FORMAT, created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), files=files)
    text = json.dumps(manifest, indent=2).encode()      # files in the order they are written
    part = target.with_name(target.name + ".part")
    try:
        options = {"compresslevel": 1} if compress else {}
        with open(part, "wb") as fh, tarfile.open(str(target), "w:gz" if compress else "w", fileobj=fh,
                                                  format=tarfile.PAX_FORMAT, **options) as tar:
            _add_bytes(tar, MANIFEST, text)
            _add_bytes(tar, MANIFEST_SUM, hashlib.sha256(text).hexdigest().encode())
            for entry in entries:
                member = tarfile.TarInfo(entry.name)
                member.size = files[entry.name]["size"]
                member.mtime = int(entry.source.stat().st_mtime)
                member.mode = 0o644
                with open(entry.source, "rb") as fh:
                    tar.addfile(member, _Counting(fh, progress))
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return manifest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    member.mtime = int(time.time())
    member.mode = 0o644
    tar.addfile(member, io.BytesIO(data))


class _Counting:
    """A file wrapper that reports what has been read (tarfile reads it in chunks)."""

    def __init__(self, fh, progress):
        self.fh, self.progress = fh, progress

    def read(self, size=-1):
        data = self.fh.read(size)
        if self.progress and data:
            self.progress(len(data))
        return data


# ---- reading -----------------------------------------------------------------------------------

def _open(bundle: Path) -> tarfile.TarFile:
    """A stream, read once front to back. A gzip bundle is read through the gzip module, which
    checks the stream's CRC and length at its end (tarfile's own gzip reading checks neither,
    so a flipped bit that lands in a tar padding block would pass unseen)."""
    try:
        with open(bundle, "rb") as probe:
            if probe.read(2) == b"\x1f\x8b":
                return tarfile.open(fileobj=gzip.open(bundle, "rb"), mode="r|")
        return tarfile.open(bundle, "r|")
    except FileNotFoundError:
        raise BundleDamaged(f"no bundle at {bundle}", "give the path of a course .tar made by "
                            "`labrunner prepare --bundle`") from None
    except (tarfile.TarError, OSError) as exc:
        raise damaged(bundle, f"not a tar file ({exc})") from None


def _close(tar: tarfile.TarFile) -> None:
    inner = getattr(tar.fileobj, "fileobj", None)     # the gzip reader _open handed to tarfile
    tar.close()
    if isinstance(inner, gzip.GzipFile):
        inner.close()


def verify(bundle: Path, progress=None) -> dict:
    """The bundle's manifest, once every member has been read and matched its size and sha256.
    Raises BundleDamaged naming the first member that is missing, cut short or altered."""
    tar = _open(bundle)
    manifest, text = None, b""
    seen: set[str] = set()
    current = "its first member"
    try:
        for index, member in enumerate(tar):
            current = member.name
            if index == 0:
                if member.name != MANIFEST or not member.isfile():
                    raise damaged(bundle, f"it does not start with {MANIFEST} (not a labrunner bundle?)")
                text = tar.extractfile(member).read()
                continue
            if index == 1:
                if member.name != MANIFEST_SUM or tar.extractfile(member).read().decode(errors="replace").strip() \
                        != hashlib.sha256(text).hexdigest():
                    raise damaged(bundle, f"{MANIFEST} does not match its checksum")
                manifest = _read_manifest(bundle, text)
                continue
            if manifest is None:
                raise damaged(bundle, f"{MANIFEST} has no checksum beside it")
            expected = manifest["files"].get(member.name)
            if expected is None or not member.isfile() or member.name in seen:
                raise damaged(bundle, f"{member.name} is not listed in its manifest")
            size, digest = _hash_member(tar, member, progress)
            if size != expected["size"]:
                raise damaged(bundle, f"{member.name} is cut short ({size} of {expected['size']} bytes)")
            if digest != expected["sha256"]:
                raise damaged(bundle, f"{member.name} does not match its checksum (sha256)")
            seen.add(member.name)
        while tar.fileobj.read(1 << 20):           # to the end: a gzip bundle's CRC is checked there
            pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise damaged(bundle, f"{current} is cut short or unreadable ({exc})") from None
    finally:
        _close(tar)
    if manifest is None:
        raise damaged(bundle, "it is empty")
    missing = [name for name in manifest["files"] if name not in seen]
    if missing:
        more = f" (and {len(missing) - 1} more after it)" if len(missing) > 1 else ""
        raise damaged(bundle, f"{missing[0]} is missing or its header is damaged{more}")
    return manifest


def _read_manifest(bundle: Path, text: bytes) -> dict:
    try:
        manifest = json.loads(text)
        files = manifest["files"]
        if manifest.get("format") != FORMAT or not all(_safe_name(n) for n in files):
            raise ValueError
        for item in files.values():
            int(item["size"]), str(item["sha256"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise damaged(bundle, f"{MANIFEST} is not a manifest this labrunner reads") from None
    return manifest


def _hash_member(tar: tarfile.TarFile, member: tarfile.TarInfo, progress) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    stream = tar.extractfile(member)
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        h.update(chunk)
        size += len(chunk)
        if progress:
            progress(len(chunk))
    return size, h.hexdigest()


def members(bundle: Path):
    """(name, readable stream) for each member after the manifest, in order; for a bundle
    `verify` has passed."""
    tar = _open(bundle)
    try:
        for member in tar:
            if member.name in (MANIFEST, MANIFEST_SUM):
                continue
            yield member.name, tar.extractfile(member)
    finally:
        _close(tar)
