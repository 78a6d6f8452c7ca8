"""scripts/docker-up.sh starts a daemon that outlives it and watches that daemon's own pid.

Run with a stand-in `dockerd` (a shell loop that "answers" after a moment) and a stand-in
`docker` (whose `info` succeeds once it does), in a private pid folder
(LABRUNNER_DOCKER_RUN_DIR): the real daemon other tests use is never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux" or shutil.which("setsid") is None,
                                reason="scripts/docker-up.sh is for Linux (setsid, /proc)")

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "docker-up.sh"

FAKE_DOCKERD = """#!/bin/bash
# stand-in daemon: writes its pid file (where dockerd would, or --pidfile), answers `docker info`
# after 2 s, runs until killed, keeps the name dockerd
pidfile="$LABRUNNER_DOCKER_RUN_DIR/docker.pid"
while [ $# -gt 0 ]; do [ "$1" = --pidfile ] && pidfile="$2"; shift; done
echo $$ >"$pidfile"
sleep 2
touch "$FAKE_READY"
while :; do sleep 1; done
"""
SLOW_SH = r"""#!/bin/bash
# stand-in sh: runs the script it is given with a busy wait just before its `exec`
script="$2"; shift 2
pre="${script%%&& exec*}"; post="${script#*&& exec}"
exec /bin/sh -c "$pre&& n=0 && while [ \$n -lt 300000 ]; do n=\$((n+1)); done && exec$post" "$@"
"""
FAKE_DOCKER = """#!/bin/sh
[ -f "$FAKE_READY" ]
"""


@pytest.fixture
def stand_in(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("dockerd", FAKE_DOCKERD), ("docker", FAKE_DOCKER), ("debootstrap", "#!/bin/sh\n")):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", LABRUNNER_DOCKER_RUN_DIR=str(run_dir),
               XDG_CACHE_HOME=str(tmp_path / "cache"), FAKE_READY=str(tmp_path / "ready"))
    yield env, run_dir
    pid = (run_dir / "docker.pid").read_text().strip() if (run_dir / "docker.pid").exists() else ""
    if pid and Path(f"/proc/{pid}/comm").exists() and Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd":
        os.kill(int(pid), signal.SIGKILL)        # only the stand-in this test started, by its pid


def _daemon_pid(run_dir: Path) -> int:
    pid = int((run_dir / "docker.pid").read_text().strip())
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd"
    return pid


@pytest.mark.parametrize("how", ["plain", "process group leader"])
def test_docker_up_waits_for_the_daemon_it_started(stand_in, how):
    """`set -m` (job control, as in an interactive or CI shell) makes each background job lead its
    own process group, and setsid then forks: the pid of `setsid` was taken for dockerd's, and
    the script said "dockerd exited" while the daemon ran on."""
    env, run_dir = stand_in
    command = ["bash", str(SCRIPT)] if how == "plain" else ["bash", "-c", f"set -m; . {SCRIPT}"]
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert "dockerd exited" not in done.stderr
    assert time.monotonic() - started >= 1.5                 # it waited for the daemon to answer
    pid = _daemon_pid(run_dir)
    # the daemon outlives the script, in a session of its own (no terminal hang-up reaches it)
    assert os.getsid(pid) == pid


def test_docker_up_waits_while_its_shell_is_still_becoming_dockerd(stand_in, tmp_path):
    """The small shell that starts the daemon writes its pid, then execs dockerd; on a loaded
    machine the script looked in between, saw a process named sh, and said "dockerd exited".
    A stand-in sh widens that moment (a loop of builtins, so the process stays the shell)."""
    env, run_dir = stand_in
    slow_sh = tmp_path / "bin" / "sh"
    slow_sh.write_text(SLOW_SH)
    slow_sh.chmod(0o755)
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert "dockerd exited" not in done.stderr
    _daemon_pid(run_dir)


def test_docker_up_says_when_the_daemon_really_exits(stand_in, tmp_path):
    env, run_dir = stand_in
    (tmp_path / "bin" / "dockerd").write_text("#!/bin/bash\necho 'failed to start daemon: no room' >&2\nexit 1\n")
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 1
    assert "dockerd exited" in done.stderr and "no room" in done.stderr


def test_docker_up_leaves_a_running_daemon_alone(stand_in):
    env, run_dir = stand_in
    first = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=90)
    assert first.returncode == 0, first.stderr
    pid = _daemon_pid(run_dir)
    again = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and "starting dockerd" not in again.stderr
    assert _daemon_pid(run_dir) == pid
