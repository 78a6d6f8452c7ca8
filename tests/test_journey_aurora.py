"""aurora-point-in-time walked as a learner walks it: the run loop in a pseudo-terminal, and in a
second "terminal" a shell that evals `labrunner env`, runs the lab's incident script, plans the
restore with psql, restores with `labrunner restore-to-time` and reads the copy with psql.
Local runtime, a real three-node PostgreSQL cluster. A wrong plan (the time the alarm went off)
is refused first, in the loop, with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from labrunner import sessions
from tests.test_journey import BIN, menu, spawn

pytestmark = pytest.mark.local

LAB = "aurora-point-in-time"


def terminal(script: str, cwd: str) -> str:
    """The learner's second terminal: bash with labrunner's environment active (its `python` has
    psycopg, as the lab's intro says), the lab's exports, in the lab folder."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(["bash", "-c", f'set -e; eval "$({BIN} env)"; {script}'], cwd=cwd,
                            env=dict(os.environ, PATH=path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (script, result.stdout, result.stderr)
    return result.stdout


def psql(sql: str) -> str:
    return f'{BIN} tool aurora-postgresql psql -Atc "{sql}"'


def test_a_learner_plans_and_restores_in_another_terminal_and_the_loop_follows(cli):
    child = spawn("run", LAB, "--runtime", "local", timeout=180)
    try:
        while child.expect(["Press any key for step 1", "more of the introduction"]) == 1:
            child.send(" ")
        child.send(" ")
        child.expect("step 1 of 5")
        menu(child)
        folder = sessions.find(LAB).workspace

        terminal("python incident.py >/dev/null", folder)
        # The mistake learners make: the time somebody noticed, not the time it happened.
        terminal(psql("CREATE TABLE ops.restore_plan (restore_to timestamptz NOT NULL); "
                      "INSERT INTO ops.restore_plan SELECT noticed_at FROM ops.incident"), folder)
        child.sendline("c")
        child.expect("is after the DELETE")
        menu(child)

        terminal(psql("UPDATE ops.restore_plan SET restore_to = "
                      "(SELECT happened_at - interval '1 second' FROM ops.incident)"), folder)
        child.sendline("c")
        child.expect("step 2 of 5")
        menu(child)

        said = terminal('T="$(' + psql("SELECT restore_to FROM ops.restore_plan") + ')"; '
                        f'{BIN} restore-to-time aurora-postgresql --time "$T"', folder)
        assert "127.0.0.1" in said
        before = terminal(psql("SELECT rows_before FROM lab_truth.incident"), folder).strip()
        copy = terminal('eval "$(' + BIN + ' env)"; ' + BIN + ' tool aurora-postgresql psql "$RESTORED_URL" '
                        '-Atc "SELECT count(*) FROM bank.payments"', folder).strip()
        assert copy == before                                # the copy holds what the DELETE took
        child.sendline("c")
        child.expect("step 3 of 5")
        menu(child)
        child.sendline("q")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)
        cli("down", "--all", "--wipe")
