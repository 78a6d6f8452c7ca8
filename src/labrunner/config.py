"""User settings: image overrides and a registry mirror, from env and config.toml.

config.toml (see `labrunner doctor` for its path):

    registry_mirror = "mirror.example.school:5000"   # prefix for every image

    [images]
    dynamodb = "my-registry/dynamodb-local:3.1.0"     # one service's image

Environment variables win over the file: LABRUNNER_REGISTRY_MIRROR and
LABRUNNER_IMAGE_<SERVICE> (e.g. LABRUNNER_IMAGE_DYNAMODB).
"""

from __future__ import annotations

import functools
import os

from labrunner import paths
from labrunner.errors import UsageError


@functools.lru_cache(maxsize=1)
def load() -> dict:
    path = paths.config_file()
    if not path.exists():
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}", "fix or delete the config file") from None


def image_override(service: str) -> str | None:
    env = os.environ.get(f"LABRUNNER_IMAGE_{service.upper().replace('-', '_')}")
    if env:
        return env
    return load().get("images", {}).get(service)


def registry_mirror() -> str | None:
    value = os.environ.get("LABRUNNER_REGISTRY_MIRROR") or load().get("registry_mirror")
    return value.rstrip("/") if value else None


def resolve_image(service: str, default_image: str) -> str:
    """The image to run for a service: its override, else the default behind the mirror."""
    override = image_override(service)
    if override:
        return override
    mirror = registry_mirror()
    if mirror:
        return f"{mirror}/{default_image}"
    return default_image
