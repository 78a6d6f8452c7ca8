"""Load on the class dashboard, on loopback only: N learners each queue a check result every
few seconds through the real client code (outbox on disk + a Sender thread each, as the
detached sender runs), while `labrunner class serve` runs as its own process; mid-test the
server is stopped and restarted on the same port.

    python benchmarks/class_load.py [--learners 200] [--duration 120] [--interval 5]
                                    [--down-at 45] [--down-for 30]

Prints: results sent (queued by learners), received (stored by the server, read from its
SQLite file), lost (sent, never stored: must be 0); how many were queued while the server
was down and delivered after its restart; p50/p99 of a submission's HTTP round trip (the
server's write, client side) and of queueing a result (what `check` pays); end-to-end
delay outside the outage. Exit status 1 when anything was lost.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))
from class_helpers import simulate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120)
    parser.add_argument("--interval", type=float, default=5)
    parser.add_argument("--down-at", type=float, default=45)
    parser.add_argument("--down-for", type=float, default=30)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not (1 <= args.learners <= 1000 and 0 < args.duration <= 900 and args.down_at + args.down_for <= args.duration):
        parser.error("bounded: 1-1000 learners, at most 900 s, the outage inside the run")
    with tempfile.TemporaryDirectory(prefix="class-load-") as workdir:
        figures = simulate(Path(workdir), args.learners, args.duration, args.interval, args.down_at, args.down_for,
                           say=lambda line: print(f"  {line}", file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        f = figures
        print(f"{f['learners']} learners, one result each every {f['interval_s']:g} s for {f['duration_s']:g} s; "
              f"server down {f['down_for_s']:g} s mid-test")
        print(f"results sent {f['sent']}, received {f['received']}, lost {f['lost']} "
              f"(still queued at the end: {f['still_queued']})")
        print(f"queued while the server was down and delivered after its restart: {f['survived_restart_via_queue']} "
              f"({f['queued_at_restart']} waiting in learners' queues at the restart)")
        print(f"submission round trip (server write), {f['posts']} posts: p50 {f['post_p50_ms']:.1f} ms, "
              f"p99 {f['post_p99_ms']:.1f} ms")
        print(f"queueing a result (what check pays): p50 {f['enqueue_p50_ms']:.1f} ms, p99 {f['enqueue_p99_ms']:.1f} ms")
        print(f"end to end outside the outage: p50 {f['end_to_end_p50_ms']:.0f} ms, p99 {f['end_to_end_p99_ms']:.0f} ms")
    return 1 if figures["lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
