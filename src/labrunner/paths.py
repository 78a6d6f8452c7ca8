"""Where labrunner keeps things. LABRUNNER_HOME moves all of it (tests use it)."""

from __future__ import annotations

import os
from pathlib import Path


def _home() -> Path | None:
    value = os.environ.get("LABRUNNER_HOME")
    return Path(value).expanduser() if value else None


def _user_dir(kind: str, platform_dir: str) -> Path:
    home = _home()
    if home:
        path = home / kind
    else:
        import platformdirs

        path = Path(getattr(platformdirs, platform_dir)("labrunner"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir() -> Path:
    """Sessions, pid files, engine data and logs."""
    return _user_dir("state", "user_state_dir")


def data_dir() -> Path:
    """The progress database."""
    return _user_dir("data", "user_data_dir")


def config_file() -> Path:
    home = _home()
    if home:
        return home / "config.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir("labrunner")) / "config.toml"


def workspaces_dir() -> Path:
    """The learner's own files, one folder per lab: easy to find, never in a hidden dir."""
    value = os.environ.get("LABRUNNER_WORKSPACES")
    if value:
        return Path(value).expanduser()
    home = _home()
    if home:
        return home / "workspaces"
    return Path.home() / "labrunner-labs"
