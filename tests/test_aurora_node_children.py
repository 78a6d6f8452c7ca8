"""A node's processes found without psutil (the Docker image has none): `labrunner fault pause`
must stop a postmaster's backends too, or a paused reader keeps answering."""

import subprocess
import sys
import time

import psutil

from labrunner.services.aurora_node import _proc_children


def test_proc_children_finds_every_descendant_as_psutil_does():
    script = ("import subprocess, sys, time; "
              "kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']) for _ in range(2)]; "
              "time.sleep(30)")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 10
        while len(psutil.Process(parent.pid).children(recursive=True)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        want = sorted(c.pid for c in psutil.Process(parent.pid).children(recursive=True))
        assert len(want) == 2
        assert sorted(_proc_children(parent.pid)) == want
    finally:
        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait()
