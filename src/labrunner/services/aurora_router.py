"""The Aurora stand-in's endpoints: a small TCP router in front of the nodes.

Why asyncio: the router only copies bytes between sockets, and a session may hold many
idle connections (a pool, psql, a learner's script). One event loop in one thread serves
all of them without a thread per connection, and closing every connection to a node after
a failover is one pass over a set on that loop. The supervisor's other work (health probes,
pg_rewind, the HTTP control API) blocks, so it lives in ordinary threads; the two sides meet
only through `pick` functions (plain reads of the supervisor's current roles) and
`close_node`, which is handed to the loop with call_soon_threadsafe.

Each listener has a pick() that returns (node name, port) for a NEW connection, or None when
no node can take it. While the target refuses (the writer has just died and the failover is
under way), the router retries for a few seconds with the then-current target, so a client
that connects during a failover reaches the new writer instead of an error.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Callable

Pick = Callable[[], "tuple[str, int] | None"]

CONNECT_PATIENCE = 8.0      # seconds a new client connection waits for a node that accepts it


class Router:
    def __init__(self, listeners: dict[str, tuple[int, Pick]], listen: str = "127.0.0.1"):
        self.listeners = listeners
        self.listen = listen            # 0.0.0.0 only inside a container, whose ports Docker publishes on loopback
        self.loop = asyncio.new_event_loop()
        self.servers: list[asyncio.AbstractServer] = []
        self.open: dict[str, set[asyncio.Transport]] = {}   # node name -> client and node transports
        self.accepted = {name: 0 for name in listeners}      # endpoint -> client connections it has taken
        self.thread = threading.Thread(target=self._run, name="aurora-router", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        self.thread.start()
        self._ready.wait(10)
        if self._error:
            raise self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            for name, (port, pick) in self.listeners.items():
                server = self.loop.run_until_complete(asyncio.start_server(
                    lambda r, w, pick=pick, name=name: self._serve(r, w, pick, name), self.listen, port,
                    reuse_address=True))
                self.servers.append(server)
        except BaseException as exc:      # a port in use: the supervisor reports it and exits
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        def _stop():
            for server in self.servers:
                server.close()
            for transports in self.open.values():
                for transport in list(transports):
                    transport.abort()
            self.loop.stop()
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(_stop)
            self.thread.join(5)

    def close_node(self, name: str) -> None:
        """Close every routed connection to node `name` (it died, or is no longer the writer)."""
        def _close():
            for transport in list(self.open.get(name, ())):
                transport.abort()
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(_close)

    def connections(self) -> dict[str, int]:
        return {name: len(ts) // 2 for name, ts in self.open.items()}

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, pick: Pick,
                     endpoint: str) -> None:
        self.accepted[endpoint] += 1
        deadline = self.loop.time() + CONNECT_PATIENCE
        node_r = node_w = None
        name = None
        while node_w is None:
            target = pick()
            if target is not None:
                name, port = target
                try:
                    node_r, node_w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
                except (OSError, asyncio.TimeoutError):
                    node_w = None
            if node_w is None:
                if self.loop.time() > deadline:
                    client_w.transport.abort()
                    return
                await asyncio.sleep(0.1)
        pair = {client_w.transport, node_w.transport}
        self.open.setdefault(name, set()).update(pair)
        try:
            await asyncio.gather(_copy(client_r, node_w), _copy(node_r, client_w))
        finally:
            self.open[name].difference_update(pair)
            for transport in pair:
                transport.abort()


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until either side ends; then end the other side as well."""
    try:
        while True:
            data = await source.read(65536)
            if not data:
                break
            sink.write(data)
            await sink.drain()
    except (OSError, asyncio.CancelledError):
        pass
    finally:
        sink.transport.abort()
