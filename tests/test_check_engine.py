"""The check engine: fixtures by name, results for learner mistakes, errors for broken labs,
and learner code that hangs, floods or is unfinished (no engine needed: these test the runner)."""

import threading
import time
from types import SimpleNamespace

import pytest

from labrunner.checks import CheckFailed, expect, runner
from labrunner.checks.answer import AnswerRunner
from labrunner.checks.fixtures import Fixtures
from labrunner.errors import LabError
from labrunner.labs.model import Step


def make_lab(**checks):
    lab = SimpleNamespace(id="demo", services=(), path=None, modules={"checks": SimpleNamespace(**checks)})
    step = Step(id="s", title="S", text="x.md", checks=tuple(checks), hints=("h",), solution="x", timeout=1.0)
    return lab, step


def fixtures_for(lab, workspace=None):
    session = SimpleNamespace(endpoints=lambda: {}, services={})
    return Fixtures(lab=lab, session=session, workspace=workspace)


def test_fixtures_resolve_by_parameter_name(tmp_path):
    seen = {}

    def uses_workspace(workspace):
        seen["ws"] = workspace

    lab, step = make_lab(uses_workspace=uses_workspace)
    result = runner.run_check(lab, step, "uses_workspace", fixtures_for(lab, workspace=tmp_path))
    assert result.passed and seen["ws"] == tmp_path


def test_unknown_fixture_lists_the_available_ones():
    def wants_nothing_known(dynamo):
        pass

    lab, step = make_lab(wants_nothing_known=wants_nothing_known)
    with pytest.raises(LabError) as info:
        runner.run_check(lab, step, "wants_nothing_known", fixtures_for(lab))
    assert "fixture 'dynamo' not found — available: answer, endpoints, fault, lab, lab_dir, session, workspace" in str(info.value)


def test_a_learner_mistake_is_a_failed_result_with_its_message():
    def wrong():
        expect(1 == 2, "expected 2, found 1")

    lab, step = make_lab(wrong=wrong)
    result = runner.run_check(lab, step, "wrong", fixtures_for(lab))
    assert (result.passed, result.error, result.message) == (False, False, "expected 2, found 1")


def test_a_broken_check_is_an_error_not_a_learner_failure():
    def broken():
        return {}["missing"]

    lab, step = make_lab(broken=broken)
    result = runner.run_check(lab, step, "broken", fixtures_for(lab))
    assert not result.passed and result.error and "KeyError" in result.message


def test_a_check_that_hangs_times_out():
    def hangs():
        time.sleep(5)

    lab, step = make_lab(hangs=hangs)
    started = time.monotonic()
    result = runner.run_check(lab, step, "hangs", fixtures_for(lab))
    assert result.error and "did not finish within 1 s" in result.message
    assert time.monotonic() - started < 4


def test_the_next_check_waits_for_one_that_overran(monkeypatch):
    """A check past its timeout may still hold a fault it injected (a paused reader); the
    next check must not start on the engine until that check's cleanup has run."""
    monkeypatch.setattr(runner, "_stragglers", [], raising=False)
    undone = []

    def overruns():
        try:
            time.sleep(2.5)
        finally:
            undone.append("resumed")

    def next_check():
        expect(undone == ["resumed"], "started while the overrunning check still held its fault")

    lab, step = make_lab(overruns=overruns, next_check=next_check)
    assert runner.run_check(lab, step, "overruns", fixtures_for(lab)).error
    assert undone == []
    result = runner.run_check(lab, step, "next_check", fixtures_for(lab))
    assert result.passed, result.message


def test_a_check_hung_for_good_delays_only_the_next_check(monkeypatch):
    monkeypatch.setattr(runner, "_stragglers", [])
    monkeypatch.setattr(runner, "STRAGGLER_WAIT", 0.2)
    forever = threading.Event()

    def hangs():
        forever.wait()

    lab, step = make_lab(hangs=hangs, quick=lambda: None)
    try:
        assert runner.run_check(lab, step, "hangs", fixtures_for(lab)).error
        assert len(runner._stragglers) == 1
        assert runner.run_check(lab, step, "quick", fixtures_for(lab)).passed
        assert runner._stragglers == []         # waited for once, then let go: the checks after do not wait
    finally:
        forever.set()


def answer_runner(tmp_path, source):
    (tmp_path / "answer.py").write_text(source)
    workspace = SimpleNamespace(path=tmp_path)
    return AnswerRunner(workspace, SimpleNamespace(services={}))


def test_learner_code_that_hangs_is_stopped(tmp_path):
    runner_ = answer_runner(tmp_path, "def f():\n    while True:\n        pass\n")
    result = runner_.call("answer.py", "f", timeout=2)
    assert result.error_type == "Timeout"
    with pytest.raises(CheckFailed) as info:
        result.value_or_fail()
    assert "did not finish within 2 s" in str(info.value)


def test_learner_code_that_floods_output_is_capped(tmp_path):
    runner_ = answer_runner(tmp_path, "def f():\n    for i in range(200000):\n        print('x' * 100)\n    return 7\n")
    result = runner_.call("answer.py", "f", timeout=30)
    assert result.value == 7
    assert 0 < len(result.output) <= 4000


def test_unfinished_answer_says_so(tmp_path):
    runner_ = answer_runner(tmp_path, "def f(a):\n    raise NotImplementedError('write it')\n")
    with pytest.raises(CheckFailed) as info:
        runner_.call("answer.py", "f", 1).value_or_fail()
    assert str(info.value) == "f() in answer.py is not written yet (it still raises NotImplementedError)"


def test_an_error_in_learner_code_names_the_line(tmp_path):
    runner_ = answer_runner(tmp_path, "def f(a):\n    return a / 0\n")
    result = runner_.call("answer.py", "f", 1)
    assert result.error_type == "ZeroDivisionError" and result.where == "answer.py:2"


def test_a_syntax_error_in_learner_code_is_reported(tmp_path):
    runner_ = answer_runner(tmp_path, "def f(:\n")
    result = runner_.call("answer.py", "f")
    assert result.error_type == "SyntaxError" and "importing answer.py failed" in result.error_message


def test_a_missing_function_is_named(tmp_path):
    runner_ = answer_runner(tmp_path, "def g():\n    return 1\n")
    result = runner_.call("answer.py", "f")
    assert result.failure() == "answer.py has no function f()"


def test_several_calls_share_one_process(tmp_path):
    runner_ = answer_runner(tmp_path, "import os\ndef f(x):\n    return [x * 2, os.getpid()]\n")
    results = runner_.call_many("answer.py", "f", [(1,), (2,)])
    assert [r.value[0] for r in results] == [2, 4]
    assert results[0].value[1] == results[1].value[1]


def test_a_single_valkey_service_is_also_valkey_and_redis():
    from labrunner.services.base import Endpoint

    def session_for(*names):
        endpoints = {n: Endpoint(n, "127.0.0.1", 1, "valkey", "default", "pw", "0") for n in names}
        return SimpleNamespace(endpoints=lambda: endpoints, endpoint=endpoints.__getitem__, services=endpoints)

    one = Fixtures(lab=SimpleNamespace(id="x", services=("elasticache",), path=None),
                   session=session_for("elasticache"), workspace=None)
    assert {"elasticache", "valkey", "redis"} <= set(one.available())
    two = Fixtures(lab=SimpleNamespace(id="x", services=("memorydb", "elasticache"), path=None),
                   session=session_for("memorydb", "elasticache"), workspace=None)
    assert "valkey" not in two.available()          # ambiguous with two: name the service
