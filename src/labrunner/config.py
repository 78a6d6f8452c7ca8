"""User settings: image overrides and a registry mirror, from env and config.toml.

config.toml (see `labrunner doctor` for its path):

    registry_mirror = "mirror.example.school:5000"   # prefix for every image

    [images]
    dynamodb = "my-registry/dynamodb-local:3.1.0"     # one service's image

Environment variables win over the file: LABRUNNER_REGISTRY_MIRROR and
LABRUNNER_IMAGE_<SERVICE> (e.g. LABRUNNER_IMAGE_DYNAMODB), or LABRUNNER_IMAGE_<IMAGE> by the
image's own name (LABRUNNER_IMAGE_VALKEY serves both elasticache and memorydb).
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


def _env_key(name: str) -> str:
    return "LABRUNNER_IMAGE_" + name.upper().replace("-", "_").replace(".", "_")


def image_override(service: str, default_image: str = "") -> str | None:
    """By service name (LABRUNNER_IMAGE_MEMORYDB), else by the image's own name
    (LABRUNNER_IMAGE_VALKEY replaces valkey/valkey:... for every service that runs it)."""
    image_name = default_image.rsplit(":", 1)[0].rsplit("/", 1)[-1] if default_image else ""
    for key in (service, image_name):
        if key and os.environ.get(_env_key(key)):
            return os.environ[_env_key(key)]
    images = load().get("images", {})
    return images.get(service) or (images.get(image_name) if image_name else None)


def registry_mirror() -> str | None:
    value = os.environ.get("LABRUNNER_REGISTRY_MIRROR") or load().get("registry_mirror")
    return value.rstrip("/") if value else None


def resolve_image(service: str, default_image: str) -> str:
    """The image to run for a service: its override, else the default behind the mirror."""
    override = image_override(service, default_image)
    if override:
        return override
    mirror = registry_mirror()
    if mirror:
        return f"{mirror}/{default_image}"
    return default_image
