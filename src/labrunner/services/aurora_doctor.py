"""What `labrunner doctor` says about the Aurora PostgreSQL stand-in: the cluster's memory.

A running cluster is measured where it runs, from /proc: the supervisor (whose threads are the
router and the control API), the three postmasters and every process they started. RSS counts
PostgreSQL's shared buffers once per process that touched them; PSS divides shared pages among
the processes sharing them, so PSS summed is what the cluster really costs the machine.
With no cluster running, doctor prints the figure benchmarks/cluster_memory.py measured and
recorded in aurora_memory.json beside this module.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

RECORDED = Path(__file__).with_name("aurora_memory.json")
NODE_NAMES = ("aurora-1", "aurora-2", "aurora-3")
SERVICE = "aurora-postgresql"


# ---- /proc ------------------------------------------------------------------------------------------

def _parent(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: read after the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1])


def family(roots: list[int]) -> list[int]:
    """The roots and every process descended from them, each once."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _parent(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid for pid in roots if pid and Path(f"/proc/{pid}").exists()]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def memory_of(pid: int) -> tuple[int, int] | None:
    """(RSS, PSS) in bytes from /proc/PID/smaps_rollup; None when the process is gone or unreadable."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss") and rest.split():
            values[key] = int(rest.split()[0]) * 1024
    if "Rss" not in values:
        return None
    return values["Rss"], values.get("Pss", values["Rss"])


def measure(pids: list[int]) -> dict:
    """{"processes": n, "rss_mb": x, "pss_mb": y} summed over the pids that could be read."""
    rss = pss = counted = 0
    for pid in pids:
        found = memory_of(pid)
        if found:
            rss, pss, counted = rss + found[0], pss + found[1], counted + 1
    return {"processes": counted, "rss_mb": round(rss / 2**20, 1), "pss_mb": round(pss / 2**20, 1)}


def postmaster_pids(data_dir: Path) -> list[int]:
    pids = []
    for name in NODE_NAMES:
        try:
            pids.append(int((data_dir / "nodes" / name / "postmaster.pid").read_text().splitlines()[0]))
        except (OSError, ValueError, IndexError):
            pass
    return pids


def cluster_pids(supervisor: int | None, data_dir: Path | None) -> list[int]:
    """The supervisor and its descendants, and the nodes (an adopted node is not its child)."""
    roots = [supervisor] if supervisor else []
    if data_dir is not None:
        roots += postmaster_pids(data_dir)
    return family(roots)


# ---- doctor ---------------------------------------------------------------------------------------

def recorded() -> dict | None:
    try:
        return json.loads(RECORDED.read_text())
    except (OSError, ValueError):
        return None


def _running_roots() -> list[tuple[str, str, int | None, Path | None]]:
    """(lab, runtime, root pid, data folder) of each running aurora-postgresql on this machine."""
    from labrunner import sessions

    found = []
    for session in sessions.running():
        state = session.services.get(SERVICE)
        if state is None:
            continue
        if session.runtime == "local":
            data = state.get("data_dir")
            found.append((session.lab, "local", state.get("pid"), Path(data) if data else None))
        elif session.runtime == "docker" and state.get("container"):
            found.append((session.lab, "docker", _container_pid(state["container"]), None))
    return found


def _container_pid(container: str) -> int | None:
    """The container's first process as this machine sees it (a Docker engine on this kernel)."""
    try:
        from labrunner.runtimes import docker

        client, _host = docker.connect()
        pid = client.containers.get(container).attrs["State"]["Pid"]
        return pid or None
    except Exception:
        return None


def doctor_notes() -> list[tuple[str, bool, str]]:
    notes = []
    if os.path.isdir("/proc"):
        for lab, runtime, root, data in _running_roots():
            pids = cluster_pids(root, data) if runtime == "local" else family([root] if root else [])
            figure = measure(pids)
            if not figure["processes"]:
                notes.append((f"{SERVICE} memory", True, f"{lab} ({runtime}): its processes are not visible "
                                                         "from here (Docker in a VM?)"))
                continue
            notes.append((f"{SERVICE} memory", True,
                          f"{lab} ({runtime}), running now: {figure['pss_mb']:.0f} MB PSS, {figure['rss_mb']:.0f} MB "
                          f"RSS over {figure['processes']} processes (supervisor with router, 3 nodes)"))
    if notes:
        return notes
    figure = recorded()
    if figure is None:
        return [(f"{SERVICE} memory", True, "not measured yet: python benchmarks/cluster_memory.py --write")]
    after = figure["after_load"]
    return [(f"{SERVICE} memory", True,
             f"no cluster running; measured {figure['measured']} ({figure['runtime']} runtime): "
             f"{after['pss_mb']:.0f} MB PSS, {after['rss_mb']:.0f} MB RSS for the three-node cluster after a "
             f"write load (one bare PostgreSQL: {figure['bare_postgres']['after_load']['pss_mb']:.0f} MB PSS)")]
