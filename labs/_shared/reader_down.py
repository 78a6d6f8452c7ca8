"""One reader out of the reader endpoint for the length of a block (aurora-replication,
aurora-mysql-basics): a fault on that node, held from the moment its health probe goes
unanswered, when the reader endpoint has stopped choosing it, and undone at the end of the
block, which ends once the node answers again.

    # labs/aurora-replication/checks.py
    reader_down = load("reader_down", __file__)
    with reader_down.ReaderDown(aurora_cluster, "aurora-2", "stop"):
        got = answer.run(...)       # reads sent to aurora-2's instance endpoint fail meanwhile
"""

import time

from labrunner.checks import fail

WAIT = 15.0                                  # seconds for the node to stop answering, or to answer again
UNDO = {"stop": "restart", "pause": "resume"}


class ReaderDown:
    def __init__(self, aurora_cluster, name, fault="stop", wait=WAIT):
        if fault not in UNDO:
            raise ValueError(f"fault must be one of {sorted(UNDO)}, not {fault!r}")
        self.cluster, self.name, self.fault, self.wait = aurora_cluster, name, fault, wait

    def _wait(self, alive):
        deadline = time.monotonic() + self.wait
        while True:
            node = next((n for n in self.cluster.status().get("nodes", []) if n["name"] == self.name), {})
            if bool(node.get("alive")) == alive:
                return
            if time.monotonic() > deadline:
                what = (f"come back within {self.wait:.0f} s of a {UNDO[self.fault]}" if alive else
                        f"stop answering within {self.wait:.0f} s of a {self.fault}")
                fail(f"{self.name} did not {what}: `labrunner status` shows the cluster")
            time.sleep(0.2)

    def __enter__(self):
        self.cluster.fault(self.name, self.fault)
        try:
            self._wait(alive=False)
        except BaseException:
            self.cluster.fault(self.name, UNDO[self.fault])
            raise
        return self

    def __exit__(self, *exc):
        self.cluster.fault(self.name, UNDO[self.fault])
        self._wait(alive=True)
