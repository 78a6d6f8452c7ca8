"""A loopback TCP forwarder: 127.0.0.1:PORT -> 127.0.0.1:TARGET, one thread pair per connection.

The cluster stand-in's container uses it so that a node's announced address (the port Docker
publishes on the host) also reaches the node from inside the container (MIGRATE, CLUSTER MEET).
"""

from __future__ import annotations

import socket
import threading


class Forwarder:
    def __init__(self, port: int, target: int):
        self.port, self.target = port, target
        self.server = socket.create_server(("127.0.0.1", port), reuse_port=False)

    def start(self) -> None:
        threading.Thread(target=self._accept, name=f"forward-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
