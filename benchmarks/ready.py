"""Cold and warm ready times of every stand-in, per runtime.

    python benchmarks/ready.py [--runtime local|docker|both] [--repeat N] [--service NAME ...]

cold: a fresh engine, from nothing to answering its readiness probe (for PostgreSQL this
includes initdb; on Docker the image is already present). warm: the same engine stopped
and started again on its existing data (`labrunner fault stop` then `restart`).
Figures are medians; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def measure(runtime, service, repeat: int) -> tuple[float, float]:
    from labrunner.runtimes.base import wait_ready

    cold, warm = [], []
    for i in range(repeat):
        started = time.perf_counter()
        state = runtime.launch(service, lab_id="benchmark", session_id=f"bench{i}{os.getpid()}", port=None)
        try:
            wait_ready(runtime, service, state)
            cold.append(time.perf_counter() - started)
            runtime.signal(state, "stop")
            started = time.perf_counter()
            state = runtime.signal(state, "restart")
            wait_ready(runtime, service, state)
            warm.append(time.perf_counter() - started)
        finally:
            runtime.remove(state)
    return statistics.median(cold), statistics.median(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", choices=["local", "docker", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--service", nargs="*")
    args = parser.parse_args()
    os.environ.setdefault("LABRUNNER_HOME", tempfile.mkdtemp(prefix="labrunner-bench-"))
    from labrunner import runtimes, services
    from labrunner.errors import LabrunnerError

    names = args.service or services.names()
    chosen = ["local", "docker"] if args.runtime == "both" else [args.runtime]
    if "docker" in chosen and subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        print("docker: not reachable, skipped")
        chosen.remove("docker")
    print(f"{'service':10} {'runtime':8} {'cold s':>8} {'warm s':>8}")
    for runtime_name in chosen:
        runtime = runtimes.get(runtime_name)
        for name in names:
            service = services.get(name)
            if runtime_name == "local" and service.local is None:
                print(f"{name:10} {runtime_name:8} {'-':>8} {'-':>8}   (Docker only)")
                continue
            try:
                cold, warm = measure(runtime, service, args.repeat)
            except LabrunnerError as exc:
                print(f"{name:10} {runtime_name:8} {'-':>8} {'-':>8}   ({exc.message})")
                continue
            print(f"{name:10} {runtime_name:8} {cold:8.2f} {warm:8.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
