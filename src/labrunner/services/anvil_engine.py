"""Where the local Ethereum node comes from: Foundry's `anvil`.

`anvil` on PATH wins. Otherwise labrunner takes anvil 1.7.1 from the npm registry's
platform package for this machine (`@foundry-rs/anvil-<os>-<cpu>`: the binary alone, no
JavaScript), pinned by version and npm's integrity hash, fetched once into the engine cache
(`engine_cache`) and run from there: a learner needs neither Node nor npm, and a machine given
a copy of the engine cache starts the node with no network.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

from labrunner import engine_cache
from labrunner.errors import RuntimeUnavailable, ServiceError

VERSION = "1.7.1"
# (sys.platform, machine) -> npm platform package and its integrity hash (`npm view <pkg>@1.7.1 dist.integrity`)
PACKAGES = {
    ("linux", "x86_64"): ("@foundry-rs/anvil-linux-amd64",
                          "sha512-+XmShybEaxfCrr0OUUZwYEy2OnYZt5pHH9TzBtLv3+VrK0O/ANuNSVEahqNhKHlgX7GRJ59383ofNhxkRWIYTg=="),
    ("linux", "aarch64"): ("@foundry-rs/anvil-linux-arm64",
                           "sha512-ykHJmFOGdBR8+9smOKBm9ZZDCCCkLQctiHOAddLvmYx9mPeBDMfq6jP51hKYsO5MG8ClPLSlWe+JpiXPjoXgBQ=="),
    ("darwin", "x86_64"): ("@foundry-rs/anvil-darwin-amd64",
                           "sha512-OgwzwY+FsGrsPyDv4mmbhOwARO8s37YHrm2qaNzgSH4VlKnXgJCrnoT7bpgOhLyBPtxXjBT8L2E3b79deesXRg=="),
    ("darwin", "arm64"): ("@foundry-rs/anvil-darwin-arm64",
                          "sha512-JNeu3+A3f/npXLn8SR8EahVcqE7BpO9VQZMcPvSIy27/RNc1GsoEBvSLR99aSvt8sGKWAgNg/EzrtjAPq6mxcA=="),
    ("win32", "x86_64"): ("@foundry-rs/anvil-win32-amd64",
                          "sha512-IeuBcmQ+AQKUxXA77czSVIfpST+KLBdXaL71JlK/h6e0DoP2CYnmVZn8WE/fuQfjAU2zaWw7PDXmq1kedbIUGA=="),
}
_MACHINES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}


def artifact(system: str | None = None, machine: str | None = None) -> engine_cache.Artifact | None:
    """This machine's anvil package, or None where Foundry publishes none."""
    system = system or sys.platform
    machine = (machine or platform.machine()).lower()
    machine = _MACHINES.get(machine, machine)
    if system == "darwin" and machine == "aarch64":
        machine = "arm64"
    if system == "linux" and machine == "arm64":
        machine = "aarch64"
    found = PACKAGES.get((system, machine))
    if found is None:
        return None
    return engine_cache.Artifact("npm", found[0], VERSION, found[1])


def on_path() -> str | None:
    return shutil.which("anvil")


def _binary_in(folder: Path) -> Path:
    return folder / "package" / "bin" / ("anvil.exe" if sys.platform == "win32" else "anvil")


def cached() -> Path | None:
    """The cached anvil, when it was fetched and unpacked already (no network, no hashing)."""
    wanted = artifact()
    if wanted is None:
        return None
    archive = engine_cache.location(wanted)
    folder = archive.with_name(archive.name + ".d")
    binary = _binary_in(folder)
    return binary if (folder / ".complete").is_file() and binary.is_file() else None


def describe() -> str:
    """Which anvil runs here, in a few words (for `run`, `doctor`)."""
    if on_path():
        return f"anvil on PATH ({on_path()})"
    wanted = artifact()
    if wanted is None:
        return "none for this platform"
    where = "in the engine cache" if cached() else "fetched into the engine cache on first run"
    return f"anvil {VERSION} from npm {wanted.name}, {where}"


def find() -> str:
    """Quickly confirm anvil can run here (no download): on PATH, cached, or fetchable."""
    if on_path() or cached():
        return "anvil"
    wanted = artifact()
    if wanted is None:
        raise RuntimeUnavailable(
            f"Foundry publishes no anvil for {sys.platform} on {platform.machine()}",
            "install Foundry's anvil on your PATH (getfoundry.sh), or use --runtime docker")
    engine_cache.registry_url("npm")        # raises, naming the setting, when no registry is known
    return "anvil"


def binary(progress=None) -> str:
    """The anvil to run: PATH's, else the cached one (fetched and checked first when missing)."""
    found = on_path()
    if found:
        return found
    ready = cached()
    if ready:
        return str(ready)
    wanted = artifact()
    if wanted is None:
        find()                                 # raises the plain reason
    try:
        folder = engine_cache.unpacked(wanted, progress)
    except RuntimeUnavailable:
        raise
    except ServiceError as exc:
        raise ServiceError(f"anvil {VERSION} is not in the engine cache and could not be fetched "
                           f"({wanted.name}): {exc.message}",
                           "connect to the network once (it is fetched a single time), or copy another "
                           "machine's engine cache (`labrunner doctor` shows where it is)") from None
    path = _binary_in(folder)
    if sys.platform != "win32":
        path.chmod(0o755)
    return str(path)


def version() -> str:
    """`anvil --version`'s first line, e.g. 'anvil Version: 1.7.1'; where it comes from when not fetched."""
    path = on_path() or (str(cached()) if cached() else None)
    if path is None:
        return f"anvil {VERSION} (not fetched yet)"
    done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    first = (done.stdout.strip().splitlines() or ["anvil, version unknown"])[0]
    return first


def doctor_notes() -> list[tuple[str, bool, str]]:
    """`doctor`: which anvil the local runtime runs, and whether it is there without a network."""
    return [("ethereum engine", True, describe())]
