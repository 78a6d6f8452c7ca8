"""Memory of the three-node Aurora PostgreSQL stand-in on the local runtime, beside one bare PostgreSQL.

    python benchmarks/cluster_memory.py [--idle SECONDS] [--load SECONDS] [--write]
    python benchmarks/cluster_memory.py --clusters N [--idle SECONDS]

Starts aurora-postgresql the way `labrunner run --runtime local` does (the local runtime's
launch, in a private LABRUNNER_HOME), lets it idle, measures every process (the supervisor,
whose threads are the router and the control API, and each node's postmaster and backends),
runs a short write load through the cluster endpoint (4 connections inserting rows), and
measures again. Then the same for one bare PostgreSQL (the `postgres` stand-in, the RDS labs'
engine) started the same way under the same load. RSS and PSS are read from /proc (PSS divides
shared pages among the processes that share them, so summed PSS is what the machine pays).
--clusters N starts N idle clusters side by side (a class server) and prints their summed
memory and CPU per cluster: the program's pages are shared between clusters, which PSS shows.
--write records the figures in src/labrunner/services/aurora_memory.json, which
`labrunner doctor` prints when no cluster is running.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
os.environ["LABRUNNER_HOME"] = tempfile.mkdtemp(prefix="labrunner-memory-")   # before labrunner reads it

from labrunner import services  # noqa: E402
from labrunner.runtimes.local import LocalRuntime  # noqa: E402
from labrunner.services import aurora_doctor, postgres  # noqa: E402


def wait_ready(service, endpoint, timeout: float = 180) -> float:
    began = time.monotonic()
    while True:
        try:
            service.probe(endpoint)
            return time.monotonic() - began
        except Exception as exc:
            if time.monotonic() - began > timeout:
                raise SystemExit(f"{service.name} not ready in {timeout:.0f} s: {exc}")
            time.sleep(0.5)


def load(endpoint, seconds: float, clients: int = 4) -> int:
    """Insert rows of ~200 bytes from `clients` connections for `seconds`; returns rows written."""
    with postgres.connect(endpoint) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS load (id bigserial PRIMARY KEY, body text)")
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def work(slot: int) -> None:
        with postgres.connect(endpoint) as conn:
            while time.monotonic() < stop:
                conn.execute("INSERT INTO load (body) "
                             "SELECT repeat(md5(random()::text), 6) FROM generate_series(1, 20)")
                counts[slot] += 20

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def per_process(pids: list[int]) -> list[str]:
    lines = []
    for pid in pids:
        found = aurora_doctor.memory_of(pid)
        if not found:
            continue
        try:
            name = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:70]
        except OSError:
            name = "?"
        lines.append(f"    {pid:>7}  RSS {found[0] / 2**20:6.1f} MB  PSS {found[1] / 2**20:6.1f} MB  {name}")
    return lines


def measure_service(name: str, pids_of, idle: float, seconds: float) -> dict:
    service = services.get(name)
    runtime = LocalRuntime()
    state = runtime.launch(service, lab_id="memory-benchmark", session_id=f"mem{os.getpid()}", port=None)
    try:
        endpoint = state.endpoint()
        ready = wait_ready(service, endpoint)
        print(f"{name}: ready in {ready:.1f} s; idling {idle:.0f} s")
        time.sleep(idle)
        pids = pids_of(state)
        idle_figure = aurora_doctor.measure(pids)
        print(f"  idle: {idle_figure['rss_mb']:.0f} MB RSS, {idle_figure['pss_mb']:.0f} MB PSS, "
              f"{idle_figure['processes']} processes")
        rows = load(endpoint, seconds)
        pids = pids_of(state)
        after = aurora_doctor.measure(pids)
        print(f"  after {seconds:.0f} s of writes ({rows} rows, 4 connections): {after['rss_mb']:.0f} MB RSS, "
              f"{after['pss_mb']:.0f} MB PSS, {after['processes']} processes")
        print("\n".join(per_process(pids)))
        return {"idle": idle_figure, "after_load": after, "rows_written": rows}
    finally:
        runtime.remove(state)


def cluster_pids(state) -> list[int]:
    return aurora_doctor.cluster_pids(state["pid"], Path(state["data_dir"]))


def bare_pids(state) -> list[int]:
    return aurora_doctor.family([state["pid"]])


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far, from /proc/PID/stat."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])          # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def side_by_side(count: int, idle: float) -> None:
    service = services.get("aurora-postgresql")
    runtime = LocalRuntime()
    states = []
    try:
        for index in range(count):
            states.append(runtime.launch(service, lab_id="memory-benchmark", session_id=f"m{os.getpid()}x{index}",
                                         port=None))
            wait_ready(service, states[-1].endpoint())
        print(f"{count} clusters ready; idling {idle:.0f} s")
        time.sleep(idle)
        pids = [pid for state in states for pid in cluster_pids(state)]
        before = cpu_seconds(pids)
        time.sleep(idle)
        cpu = (cpu_seconds(pids) - before) / idle
        figure = aurora_doctor.measure(pids)
        print(f"{count} idle clusters: {figure['pss_mb']:.0f} MB PSS ({figure['pss_mb'] / count:.0f} MB each), "
              f"{figure['rss_mb']:.0f} MB RSS, {figure['processes']} processes; "
              f"CPU {cpu * 100:.1f} % of one core ({cpu * 100 / count:.2f} % each)")
    finally:
        for state in states:
            runtime.remove(state)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=20.0, help="seconds to idle before the first figure")
    parser.add_argument("--load", type=float, default=15.0, help="seconds of writes before the second figure")
    parser.add_argument("--write", action="store_true", help="record the figures for `labrunner doctor`")
    parser.add_argument("--clusters", type=int, default=0, help="start this many idle clusters side by side")
    args = parser.parse_args()
    if not os.path.isdir("/proc"):
        raise SystemExit("cluster_memory.py reads /proc: run it on Linux")
    if args.clusters:
        side_by_side(args.clusters, args.idle)
        return 0
    cluster = measure_service("aurora-postgresql", cluster_pids, args.idle, args.load)
    bare = measure_service("postgres", bare_pids, args.idle, args.load)
    ratio = cluster["after_load"]["pss_mb"] / max(bare["after_load"]["pss_mb"], 0.1)
    print(f"\nthree-node cluster after the load: {cluster['after_load']['pss_mb']:.0f} MB PSS "
          f"({cluster['after_load']['rss_mb']:.0f} MB RSS); one bare PostgreSQL: "
          f"{bare['after_load']['pss_mb']:.0f} MB PSS ({bare['after_load']['rss_mb']:.0f} MB RSS); x{ratio:.1f}")
    if args.write:
        record = {"measured": datetime.date.today().isoformat(), "runtime": "local",
                  "command": "python benchmarks/cluster_memory.py --write",
                  "idle_seconds": args.idle, "load_seconds": args.load,
                  "idle": cluster["idle"], "after_load": cluster["after_load"],
                  "bare_postgres": {"idle": bare["idle"], "after_load": bare["after_load"]}}
        aurora_doctor.RECORDED.write_text(json.dumps(record, indent=2) + "\n")
        print(f"recorded in {aurora_doctor.RECORDED.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
