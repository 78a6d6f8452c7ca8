"""labrunner's own cost, compared with the bare engine in the same run.

    python benchmarks/startup.py [--runtime local|docker|both] [--repeat N] [--against TREE]

--against TREE also measures another labrunner source tree (e.g. a `git worktree` of an
earlier commit) in the same sitting, run by the same interpreter with TREE/src first on
PYTHONPATH: a before/after comparison on one machine under one load.

Prints, per runtime: the bare engine's ready time (start the engine yourself,
poll until it answers ListTables) against `labrunner run --no-input`'s wall time
(ratio), a warm `labrunner check`'s wall time, `labrunner --help`'s wall time,
and labrunner's own peak RSS (the largest labrunner process, not the engine).
Targets (issue 2): ratio <= 1.15, check <= 0.3 s, --help <= 0.15 s, RSS <= 80 MB.
Figures are medians of --repeat runs; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAB = "dynamodb-basics"
BIN = Path(sys.executable).parent / "labrunner"
TARGETS = {"ratio": 1.15, "check": 0.3, "help": 0.15, "rss_mb": 80}


def run(args, env) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB of the process tree that was waited for, exit code."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
               "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")
    out = subprocess.run([sys.executable, "-c", wrapper, *args], env=env, capture_output=True, text=True).stdout
    seconds, rss_kb, code = out.split()
    return float(seconds), int(rss_kb) / 1024, int(code)


def bare_local() -> float:
    """moto's server started by hand, as labrunner starts it."""
    from labrunner.runtimes.base import free_port
    from labrunner.services import dynamodb
    from labrunner.services.base import Endpoint

    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(dynamodb.SERVICE.local.argv(port, "."), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait(dynamodb.probe, Endpoint("dynamodb", "127.0.0.1", port))
        return time.perf_counter() - started
    finally:
        proc.kill()
        proc.wait()


def bare_docker() -> float:
    """The same image and arguments with `docker run`, polled the same way."""
    from labrunner import config
    from labrunner.services import dynamodb
    from labrunner.services.base import Endpoint

    image = config.resolve_image("dynamodb", dynamodb.IMAGE)
    started = time.perf_counter()
    cid = subprocess.run(["docker", "run", "-d", "--rm", "-p", "127.0.0.1::8000", image,
                          *dynamodb.SERVICE.command], capture_output=True, text=True, check=True).stdout.strip()
    try:
        port = subprocess.run(["docker", "port", cid, "8000/tcp"], capture_output=True, text=True,
                              check=True).stdout.split(":")[-1].strip()
        _wait(dynamodb.probe, Endpoint("dynamodb", "127.0.0.1", int(port)))
        return time.perf_counter() - started
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True)


def _wait(probe, endpoint, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            probe(endpoint)
            return
        except Exception:
            time.sleep(0.02)
    raise TimeoutError("engine did not answer")


def _wait_for_checker(home: Path, timeout: float = 20.0) -> None:
    info = home / "state" / "sessions" / f"{LAB}.checker.json"
    deadline = time.monotonic() + timeout
    while not info.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def measure(runtime: str, repeat: int, extra_env: dict | None = None) -> dict:
    bare, runs, checks, rss = [], [], [], []
    for _ in range(repeat):
        bare.append(bare_local() if runtime == "local" else bare_docker())
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, LABRUNNER_HOME=home, **(extra_env or {}))
            seconds, peak, code = run([str(BIN), "run", LAB, "--runtime", runtime, "--no-input"], env)
            assert code == 0, f"labrunner run failed with {code}"
            runs.append(seconds)
            rss.append(peak)
            _wait_for_checker(Path(home))          # a warm check is what the learner gets after a moment
            for _ in range(3):
                seconds, peak, _ = run([str(BIN), "check"], env)
                checks.append(seconds)
                rss.append(peak)
            run([str(BIN), "down", "--all"], env)
            run([str(BIN), "down", "--all", "--wipe"], env)    # down keeps data since issue 8 (an older
                                                               # labrunner refuses --wipe: nothing to do)
        time.sleep(1.0)                             # let the machine settle before the next bare start
    return {"bare": statistics.median(bare), "run": statistics.median(runs),
            "check": statistics.median(checks), "rss_mb": max(rss)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", choices=["local", "docker", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", metavar="TREE", help="another labrunner source tree to measure too")
    args = parser.parse_args()
    trees = [("this tree", {})]
    if args.against:
        trees.append((args.against, {"PYTHONPATH": str(Path(args.against).resolve() / "src")}))
    runtimes = ["local", "docker"] if args.runtime == "both" else [args.runtime]
    if "docker" in runtimes and subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        print("docker: not reachable, skipped")
        runtimes.remove("docker")

    def mark(ok: bool) -> str:
        return "ok  " if ok else "OVER"

    for label, extra in trees:
        print(f"--- {label}")
        helps = [run([str(BIN), "--help"], dict(os.environ, **extra))[0] for _ in range(max(5, args.repeat))]
        help_s = statistics.median(helps)
        print(f"labrunner --help           {help_s:6.3f} s   target <= {TARGETS['help']} s   "
              f"{mark(help_s <= TARGETS['help'])}")
        for runtime in runtimes:
            m = measure(runtime, args.repeat, extra)
            ratio = m["run"] / m["bare"]
            print(f"[{runtime}] bare engine ready   {m['bare']:6.3f} s")
            print(f"[{runtime}] labrunner run       {m['run']:6.3f} s   ratio {ratio:4.2f}   "
                  f"target <= {TARGETS['ratio']}   {mark(ratio <= TARGETS['ratio'])}")
            print(f"[{runtime}] warm labrunner check {m['check']:5.3f} s   target <= {TARGETS['check']} s   "
                  f"{mark(m['check'] <= TARGETS['check'])}")
            print(f"[{runtime}] labrunner peak RSS  {m['rss_mb']:6.1f} MB  target <= {TARGETS['rss_mb']} MB  "
                  f"{mark(m['rss_mb'] <= TARGETS['rss_mb'])}")

if __name__ == "__main__":
    main()
