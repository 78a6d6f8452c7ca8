"""The ElastiCache (cluster mode) stand-in: one supervisor process per cluster.

    python -m labrunner.services.valkey_cluster --data DIR --port NODE1_PORT \\
        --ports '{"node-2": P, "node-3": P, "node-4": P, "bus-1": P, ..., "bus-4": P}'

It runs four real valkey-server processes with `cluster-enabled yes`: node-1 (on the
service's port), node-2 and node-3 share the 16384 hash slots as three shards; node-4 runs
empty and outside the cluster until the learner adds it as a fourth shard. Each node's cluster
bus has its own named port (`cluster-port`), so nothing depends on port + 10000 being free.

The cluster is created once (CLUSTER ADDSLOTSRANGE on each shard, CLUSTER MEET, wait for
cluster_state:ok) and recorded in DIR/cluster.json; each node keeps its own view in
DIR/node-N/nodes.conf, so a restart finds the same cluster, slots moved by the learner
included. On SIGTERM every node is shut down with SAVE, and its keys come back with it.

Credentials: DIR/credentials.json {"password"} (the session's password; read once, then
removed) — the nodes get it as requirepass and masterauth, kept in their own config files.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

SHARDS = ("node-1", "node-2", "node-3")
SPARE = "node-4"
NODES = SHARDS + (SPARE,)
SLOTS = 16384
START_WAIT = 20.0


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} valkey-cluster: {message}", file=sys.stderr, flush=True)


def server_binary() -> str:
    from labrunner.services.valkey_family import ValkeyServer

    found = ValkeyServer({})._server()
    if not found:
        raise RuntimeError("no valkey-server is installed here")
    return found


def slot_ranges(count: int = len(SHARDS)) -> list[tuple[int, int]]:
    """16384 slots in `count` contiguous ranges, as `valkey-cli --cluster create` splits them."""
    size = SLOTS / count
    return [(round(i * size), round((i + 1) * size) - 1) for i in range(count)]


class Supervisor:
    def __init__(self, data: Path, ports: dict[str, int], password: str | None, listen: str,
                 announce_later: bool = False):
        self.data, self.ports, self.listen = data, ports, listen
        self.password = password
        self.announce_later = announce_later
        self.announce: dict[str, int] = {}
        self.forwarders: list = []
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()

    # ---- one node -------------------------------------------------------------------------

    def node_dir(self, name: str) -> Path:
        return self.data / name

    def write_config(self, name: str) -> None:
        folder = self.node_dir(name)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = [f"port {self.ports[name]}", f"cluster-port {self.ports['bus-' + name[-1]]}",
                 f"bind {self.listen}", "protected-mode no" if self.listen != "127.0.0.1" else "protected-mode yes",
                 "cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 5000",
                 "cluster-require-full-coverage yes", "cluster-allow-replica-migration no",
                 f'dir "{folder}"', "dbfilename dump.rdb", 'save ""', "appendonly no",
                 "daemonize no", 'logfile ""', 'shutdown-on-sigterm "save force"', f"requirepass {self.password}", f"masterauth {self.password}"]
        if name in self.announce:
            lines += ["cluster-announce-ip 127.0.0.1", f"cluster-announce-port {self.announce[name]}"]
        conf = folder / "valkey.conf"
        # The learner's CONFIG SET (maxmemory, policy) lives only in memory: a restart starts
        # from this file again, as an ElastiCache node starts from its parameter group.
        conf.write_text("\n".join(lines) + "\n")
        os.chmod(conf, 0o600)

    def start_node(self, name: str) -> None:
        self.stop_leftover(name)
        self.write_config(name)
        with open(self.data / "logs" / f"{name}.log", "ab") as out:
            self.procs[name] = subprocess.Popen(
                [server_binary(), str(self.node_dir(name) / "valkey.conf")], cwd=self.node_dir(name),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        (self.node_dir(name) / "server.pid").write_text(str(self.procs[name].pid))

    def stop_leftover(self, name: str) -> None:
        """A node a killed supervisor left running on this data (where the kernel could not stop
        it with us): SIGTERM it (it saves its keys) before starting it again."""
        pid_file = self.node_dir(name) / "server.pid"
        try:
            import psutil
        except ImportError:          # the container's image: its nodes stop with the container
            return
        try:
            process = psutil.Process(int(pid_file.read_text()))
            if str(self.node_dir(name) / "valkey.conf") in " ".join(process.cmdline()):
                log(f"stopping {name} left running by an earlier supervisor (pid {process.pid})")
                process.terminate()
                process.wait(15)
        except (OSError, ValueError, psutil.Error):
            pass

    def client(self, name: str, timeout: float = 5.0):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.ports[name], password=self.password,
                           decode_responses=True, socket_connect_timeout=2, socket_timeout=timeout)

    def wait_answering(self, name: str) -> None:
        deadline = time.monotonic() + START_WAIT
        while True:
            if self.stopping.is_set():
                raise _Interrupted()
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode} (see logs/{name}.log)")
            try:
                conn = self.client(name)
                conn.ping()
                conn.close()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer in {START_WAIT:.0f} s") from None
                time.sleep(0.1)

    # ---- the cluster ------------------------------------------------------------------------

    def create(self) -> None:
        """Three shards: each primary takes a range of slots, then they meet."""
        first = self.client("node-1")
        for name, (low, high) in zip(SHARDS, slot_ranges()):
            self.client(name).execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)
        for name in SHARDS[1:]:
            first.execute_command("CLUSTER", "MEET", "127.0.0.1", self.ports[name], self.ports["bus-" + name[-1]])
        self.wait_ok(SHARDS, len(SHARDS))

    def wait_ok(self, names, primaries: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.stopping.is_set():
                raise _Interrupted()
            states = []
            for name in names:
                info = self.client(name).execute_command("CLUSTER", "INFO")
                info = info if isinstance(info, dict) else dict(
                    line.split(":", 1) for line in str(info).splitlines() if ":" in line)
                states.append((info.get("cluster_state"), int(info.get("cluster_known_nodes", 0))))
            if all(state == "ok" and known >= primaries for state, known in states):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not reach state ok in {timeout:.0f} s: {states}")
            time.sleep(0.2)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        try:
            (self.data / "logs").mkdir(mode=0o700, exist_ok=True)
            state_file = self.data / "cluster.json"
            fresh = not state_file.exists()
            if fresh:     # a first start cut short: begin again from nothing
                for name in NODES:
                    for leftover in ("nodes.conf", "dump.rdb"):
                        (self.node_dir(name) / leftover).unlink(missing_ok=True)
            for name in NODES:
                self.start_node(name)
            for name in NODES:
                self.wait_answering(name)
            announced = self.data / "announce.json"
            if self.announce_later and announced.exists():
                self.announce = json.loads(announced.read_text())
            elif self.announce_later:
                self.await_announce()
                announced.write_text(json.dumps(self.announce))
            if self.announce:
                self.forward_announced_ports()
            if fresh:
                log("creating the cluster: three shards, 16384 slots")
                self.create()
                state_file.write_text(json.dumps({"engine": "elasticache-cluster", "created": time.time(),
                                                  "shards": list(SHARDS), "spare": SPARE}))
            else:
                self.wait_ok(SHARDS, len(SHARDS), timeout=60)
            (self.data / "credentials.json").unlink(missing_ok=True)
            log(f"ready: {', '.join(f'{n} {self.listen}:{self.ports[n]}' for n in NODES)}")
            while not self.stopping.wait(0.5):
                for name, proc in list(self.procs.items()):
                    if proc.poll() is not None:
                        log(f"{name} exited ({proc.returncode}); starting it again")
                        self.start_node(name)
        except _Interrupted:
            log("interrupted while starting")
        except (OSError, RuntimeError, Exception) as exc:      # noqa: BLE001 — one line, then stop the nodes
            log(f"cannot start: {type(exc).__name__}: {exc}")
            self.shutdown()
            return 1
        self.shutdown()
        return 0

    # ---- in a container: the addresses clients reach ---------------------------------------

    def await_announce(self) -> None:
        """Docker publishes each node's port on the host's loopback under another number, known
        only to the host. The service's initialize hook sets cluster-announce-ip/-port on every
        node (CONFIG SET); wait for that, and keep the numbers for later starts."""
        log("waiting for the host to announce the published ports")
        while True:
            if self.stopping.wait(0.2):
                raise _Interrupted()
            found = {}
            for name in NODES:
                port = int(self.client(name).config_get("cluster-announce-port").get("cluster-announce-port", 0))
                if port:
                    found[name] = port
            if len(found) == len(NODES):
                self.announce = found
                log(f"announced ports: {found}")
                return

    def forward_announced_ports(self) -> None:
        """MIGRATE and CLUSTER MEET name nodes by their announced address (127.0.0.1 and the host's
        port). Inside the container, forward each announced port on loopback to the node."""
        from labrunner.services.valkey_forward import Forwarder

        for name, port in self.announce.items():
            if port != self.ports[name]:
                forwarder = Forwarder(port, self.ports[name])
                forwarder.start()
                self.forwarders.append(forwarder)

    def shutdown(self) -> None:
        """SIGTERM to every node at once; each saves its keys (shutdown-on-sigterm "save force": a save that fails does not keep it running)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for name, proc in self.procs.items():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        log("stopped")


def _die_with_parent() -> None:
    """Linux: the node gets SIGTERM (and saves) if the supervisor dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _Interrupted(Exception):
    pass


def _password(data: Path) -> str:
    creds = data / "credentials.json"
    if creds.exists():
        return json.loads(creds.read_text())["password"]
    known = data / "node-1" / "valkey.conf"
    if known.exists():
        for line in known.read_text().splitlines():
            if line.startswith("requirepass "):
                return line.split(" ", 1)[1]
    env = os.environ.get("LABRUNNER_MASTER_PASSWORD")
    if env:
        return env
    raise SystemExit("valkey-cluster: no password: write DIR/credentials.json or set LABRUNNER_MASTER_PASSWORD")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labrunner.services.valkey_cluster")
    parser.add_argument("--data", required=True)
    parser.add_argument("--port", type=int, required=True, help="node-1's port (the service's port)")
    parser.add_argument("--ports", required=True, help='JSON: {"node-2": P, ..., "bus-1": P, ...}')
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--announce-later", action="store_true",
                        help="in a container: wait for the host to announce its published ports")
    args = parser.parse_args(argv)
    data = Path(args.data)
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    ports = {**json.loads(args.ports), "node-1": args.port}
    missing = [n for n in (*NODES, *(f"bus-{n[-1]}" for n in NODES)) if n not in ports]
    if missing:
        parser.error(f"--ports lacks {', '.join(missing)}")
    return Supervisor(data, ports, _password(data), args.listen, args.announce_later).run()


if __name__ == "__main__":
    sys.exit(main())
