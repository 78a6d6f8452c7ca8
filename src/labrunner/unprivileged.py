"""The unprivileged user engines that refuse root run as, when labrunner runs as root
(initdb, postgres and mariadbd refuse to run as root). Shared by the local runtime and by
the cluster supervisors that start such engines themselves. Imports nothing heavy: the
Aurora image carries this module with its supervisor."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from labrunner.errors import RuntimeUnavailable

USER = "labrunner"


def popen_args() -> dict:
    """Popen arguments that run a program as the unprivileged user, created if missing."""
    import pwd

    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        if shutil.which("useradd") is None:
            raise RuntimeUnavailable(f"this engine refuses to run as root and there is no '{USER}' user",
                                     f"create one: useradd --system {USER}") from None
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                       check=True, capture_output=True)
        entry = pwd.getpwnam(USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def hand_over(path: Path, ids: dict) -> None:
    """Give a file or a whole tree to the user of `ids` (from popen_args); symlinks are
    changed themselves, never followed."""
    os.lchown(path, ids["user"], ids["group"])
    for root, dirs, files in os.walk(path):              # does not descend into symlinks
        os.lchown(root, ids["user"], ids["group"])
        for name in dirs + files:
            os.lchown(os.path.join(root, name), ids["user"], ids["group"])
