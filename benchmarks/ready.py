"""Cold and warm ready times of every stand-in, per runtime.

    python benchmarks/ready.py [--runtime local|docker|both] [--repeat N] [--service NAME ...]

cold: a fresh engine, from nothing to answering its readiness probe (for PostgreSQL this
includes initdb; on Docker the image is already present). warm: the same engine stopped
and started again on its existing data (`labrunner fault stop` then `restart`).
memory: the idle engine's resident memory once it answers after a cold start: the process and
every process below it on the local runtime (RSS), the container's memory use less its page
cache on Docker.
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


def resident_mb(runtime, state) -> float | None:
    """The engine's resident memory in MB (None when it cannot be read)."""
    if state.get("container"):
        try:
            stats = runtime.client.containers.get(state["container"]).stats(stream=False)["memory_stats"]
            inner = stats.get("stats") or {}
            cache = inner.get("inactive_file", inner.get("total_inactive_file", inner.get("cache", 0)))
            return (stats["usage"] - cache) / 1e6
        except Exception:
            return None
    import psutil

    try:
        process = psutil.Process(int(state["pid"]))
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 1e6
    except (psutil.Error, KeyError, TypeError, ValueError):
        return None


def measure(runtime, service, repeat: int) -> tuple[float, float, float | None]:
    from labrunner.runtimes.base import wait_ready

    cold, warm, memory = [], [], []
    for i in range(repeat):
        started = time.perf_counter()
        state = runtime.launch(service, lab_id="benchmark", session_id=f"bench{i}{os.getpid()}", port=None)
        try:
            wait_ready(runtime, service, state)
            cold.append(time.perf_counter() - started)
            time.sleep(1)                  # let it settle after the probe's connection
            mb = resident_mb(runtime, state)
            if mb is not None:
                memory.append(mb)
            runtime.signal(state, "stop")
            started = time.perf_counter()
            state = runtime.signal(state, "restart")
            wait_ready(runtime, service, state)
            warm.append(time.perf_counter() - started)
        finally:
            runtime.remove(state)
    return statistics.median(cold), statistics.median(warm), statistics.median(memory) if memory else None


def state_of(runtime, service) -> str:
    """What ran: the local recipe's stand-in, or the image (an override names itself)."""
    if runtime.name == "local":
        return service.local.standin
    from labrunner import config

    return config.resolve_image(service.name, service.image)


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
    print(f"{'service':12} {'runtime':8} {'cold s':>8} {'warm s':>8} {'memory MB':>10}")
    for runtime_name in chosen:
        runtime = runtimes.get(runtime_name)
        for name in names:
            service = services.get(name)
            if runtime_name == "local" and service.local is None:
                print(f"{name:12} {runtime_name:8} {'-':>8} {'-':>8} {'-':>10}   (Docker only)")
                continue
            try:
                cold, warm, memory = measure(runtime, service, args.repeat)
            except LabrunnerError as exc:
                print(f"{name:12} {runtime_name:8} {'-':>8} {'-':>8} {'-':>10}   ({exc.message})")
                continue
            shown = f"{memory:10.0f}" if memory is not None else f"{'?':>10}"
            print(f"{name:12} {runtime_name:8} {cold:8.2f} {warm:8.2f} {shown}   ({state_of(runtime, service)})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
