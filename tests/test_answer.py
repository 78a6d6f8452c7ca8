"""Learner code run by checks leaves nothing behind: whatever it forks (into its own session,
holding stdout, flooding, hanging) is ended with the call, and the check ends in one line.
What comes back is capped too. No engine is needed: these test the runner itself."""

import os
import signal
import time
from types import SimpleNamespace

import psutil
import pytest

from labrunner.checks import answer
from labrunner.checks.answer import AnswerRunner

LEARNER = '''
import os, subprocess, sys, time

def _note(path):
    with open(path, "a") as fh:
        fh.write(f"{os.getpid()}\\n")

def _wait_for(path, count):
    for _ in range(500):
        if os.path.exists(path) and len(open(path).read().split()) >= count:
            return
        time.sleep(0.01)

def _session_grandchild(path):
    """Fork, setsid, fork again: the grandchild is in no group of ours and nobody's child."""
    middle = os.fork()
    if middle == 0:
        os.setsid()
        if os.fork() == 0:
            _note(path)
            while True:
                time.sleep(1)
        os._exit(0)
    os.waitpid(middle, 0)
    _wait_for(path, 1)

def forks_into_own_session(path):
    _session_grandchild(path)
    return "done"

def keeps_stdout_open(path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    _note_pid(path, child.pid)
    return "done"

def _note_pid(path, pid):
    with open(path, "a") as fh:
        fh.write(f"{pid}\\n")

def floods_from_forked_child(path):
    if os.fork() == 0:
        os.setsid()
        _note(path)
        while True:
            os.write(1, b"x" * 65536)
    _wait_for(path, 1)
    return "done"

def hangs_after_forking(path):
    _session_grandchild(path)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    _note_pid(path, child.pid)
    while True:
        time.sleep(1)

def exits_hard_after_forking(path):
    _session_grandchild(path)
    os._exit(9)

def keeps_forking(path):
    if os.fork() == 0:
        os.setsid()
        _note(path)
        while True:
            if os.fork() == 0:
                os.setsid()
                _note(path)
                time.sleep(300)
            time.sleep(0.005)
    _wait_for(path, 20)
    return "done"

def _square(x):
    return x * x

def pool_with_fork():
    import multiprocessing
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return pool.map(_square, [1, 2, 3])

def helpers_that_end_with_it():
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    lock = ctx.Lock()                     # starts multiprocessing's resource tracker
    worker = ctx.Process(target=time.sleep, args=(0.01,))
    worker.start()
    worker.join()
    return worker.exitcode

def tidy(path):
    subprocess.run([sys.executable, "-c", "print('hello')"], check=True)
    return "done"

def returns_a_lot():
    return ["x" * 1000] * 200_000

def returns_enough():
    return ["x" * 1000] * 100
'''


def make_runner(tmp_path):
    (tmp_path / "learner.py").write_text(LEARNER)
    return AnswerRunner(SimpleNamespace(path=tmp_path), SimpleNamespace(services={}))


def alive(pids):
    """The pids still running (a zombie has ended; it only waits for its parent to read it)."""
    found = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                found.append(pid)
        except psutil.NoSuchProcess:
            pass
    return found


def left_behind(pids_file):
    pids = [int(p) for p in pids_file.read_text().split()] if pids_file.exists() else []
    assert pids, "the learner code never started its processes"
    time.sleep(0.2)
    left = alive(pids)
    seen: set = set()
    while set(pids) != seen:             # tidy up after a failing run, by pid: stop, then kill
        seen = set(pids)
        for pid in alive(pids):
            signal_quietly(pid, signal.SIGSTOP)
        time.sleep(0.05)
        pids = [int(p) for p in pids_file.read_text().split()]
    for pid in alive(pids):
        signal_quietly(pid, signal.SIGKILL)
    return left


def signal_quietly(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


@pytest.mark.parametrize("function", ["forks_into_own_session", "keeps_stdout_open", "floods_from_forked_child"])
def test_processes_a_returning_function_leaves_are_ended_and_named(tmp_path, function):
    pids_file = tmp_path / "pids"
    started = time.monotonic()
    result = make_runner(tmp_path).call("learner.py", function, str(pids_file), timeout=20)
    took = time.monotonic() - started
    assert left_behind(pids_file) == []
    assert took < 4, f"the call took {took:.1f} s: it waited for a process the function left"
    assert result.no_answer
    message = result.failure()
    assert "\n" not in message
    assert message.startswith(f"{function}('{pids_file}') in learner.py returned but left 1 process running")
    assert "labrunner stopped it" in message
    assert len(result.output) <= answer.OUTPUT_CAP


def test_a_process_that_keeps_forking_is_ended_with_all_it_made(tmp_path):
    pids_file = tmp_path / "pids"
    result = make_runner(tmp_path).call("learner.py", "keeps_forking", str(pids_file), timeout=20)
    assert left_behind(pids_file) == []
    assert result.error_type == "LeftRunning" and int(result.error_message) >= 20
    assert f"left {result.error_message} processes running; labrunner stopped them" in result.failure()


def test_a_hang_ends_every_process_it_started(tmp_path):
    pids_file = tmp_path / "pids"
    result = make_runner(tmp_path).call("learner.py", "hangs_after_forking", str(pids_file), timeout=3)
    assert left_behind(pids_file) == []
    assert result.error_type == "Timeout" and result.no_answer
    assert result.failure() == (f"hangs_after_forking('{pids_file}') in learner.py did not finish within 3 s "
                                "— look for a loop that never ends")


def test_a_hard_exit_still_ends_what_it_forked(tmp_path):
    pids_file = tmp_path / "pids"
    result = make_runner(tmp_path).call("learner.py", "exits_hard_after_forking", str(pids_file), timeout=20)
    assert left_behind(pids_file) == []
    assert result.error_type == "Crash" and "\n" not in result.failure()


def test_a_function_that_waits_for_its_children_passes(tmp_path):
    result = make_runner(tmp_path).call("learner.py", "tidy", str(tmp_path / "pids"))
    assert result.ok, result.failure()
    assert result.value == "done" and result.output == "hello\n"


def test_multiprocessing_works_and_its_helpers_are_not_counted_as_left_behind(tmp_path):
    runner = make_runner(tmp_path)
    pooled = runner.call("learner.py", "pool_with_fork", timeout=30)
    assert pooled.ok and pooled.value == [1, 4, 9], pooled.failure()
    helped = runner.call("learner.py", "helpers_that_end_with_it", timeout=30)
    assert helped.ok and helped.value == 0, helped.failure()      # the tracker ends with its parent


def test_a_huge_return_value_is_cut_and_said(tmp_path):
    result = make_runner(tmp_path).call("learner.py", "returns_a_lot", timeout=60)
    assert result.no_answer and result.value is None
    message = result.failure()
    assert message == (f"returns_a_lot() in learner.py returned 200,800,000 bytes (as JSON); labrunner keeps "
                       f"the first {answer.RESULT_CAP:,} — return only what the step asks for")
    assert len(result.value_start) == answer.RESULT_CAP


def test_a_return_value_under_the_cap_comes_back_whole(tmp_path):
    result = make_runner(tmp_path).call("learner.py", "returns_enough")
    assert result.ok and result.value == ["x" * 1000] * 100
