"""`docker exec` without the docker CLI: run a program in a container through the very daemon
labrunner found (Docker Engine, Docker Desktop, Colima, Podman ...), over the Docker API.

    python -m labrunner.runtimes.docker_exec [--tty] [-w DIR] [-u USER] CONTAINER PROGRAM [ARG...]

stdin, stdout and stderr pass through and the program's exit status is this command's, so
callers use it as they would use `docker exec -i`. With --tty and a terminal on stdin and
stdout, the program gets a terminal too and ours is put in raw mode: keys such as Ctrl-C reach the program (psql clears its line)
and the window size follows the terminal's.

The daemon comes from LABRUNNER_EXEC_HOST; the program's environment from LABRUNNER_EXEC_ENV
(a JSON object), kept out of the command line so that passwords do not show in `ps`.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
import threading

HOST_VAR = "LABRUNNER_EXEC_HOST"
ENV_VAR = "LABRUNNER_EXEC_ENV"
FAILED = 125          # as `docker exec` when the exec itself cannot run


def _parse(argv):
    parser = argparse.ArgumentParser(prog="labrunner-exec")
    parser.add_argument("--tty", action="store_true")
    parser.add_argument("-w", "--workdir", default=None)
    parser.add_argument("-u", "--user", default="")
    parser.add_argument("container")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def _raw_socket(hijacked):
    """The socket under what exec_start(socket=True) returns (a SocketIO for unix sockets)."""
    sock = getattr(hijacked, "_sock", hijacked)
    if hasattr(sock, "settimeout"):
        sock.settimeout(None)       # an interactive session may sit idle for an hour
    return sock


def _pump_stdin(sock, tty: bool) -> None:
    """Copy our stdin into the exec; at its end, close the write half so the program sees EOF."""
    fd = sys.stdin.fileno()
    try:
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            sock.sendall(data)
    except OSError:
        return
    if not tty:                     # on a terminal, Ctrl-D is a key for the program, not an EOF here
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _pump_output(sock, tty: bool) -> None:
    """Copy the exec's output to stdout and stderr (without a tty the daemon multiplexes the
    two: an 8-byte header per frame, stream 1 or 2 and the frame's length)."""
    pending = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        if tty:
            _write(1, chunk)
            continue
        pending += chunk
        while len(pending) >= 8:
            stream, size = pending[0], struct.unpack(">I", pending[4:8])[0]
            if len(pending) < 8 + size:
                break
            _write(2 if stream == 2 else 1, pending[8:8 + size])
            pending = pending[8 + size:]


def _exit_code(api, exec_id) -> int:
    import time

    for _ in range(50):             # the daemon may not have recorded the exit yet
        info = api.exec_inspect(exec_id)
        if not info.get("Running") and info.get("ExitCode") is not None:
            return int(info["ExitCode"])
        time.sleep(0.05)
    return FAILED


def _terminal_size():
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
        return size.lines, size.columns
    except OSError:
        return None


def run(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if not args.command:
        print("labrunner-exec: no program given", file=sys.stderr)
        return FAILED
    import docker
    import docker.errors

    from labrunner.runtimes.docker_host import open_client

    host = os.environ.get(HOST_VAR)
    environment = json.loads(os.environ.get(ENV_VAR) or "{}")
    # A terminal only where one is on both ends: `tool ... > file` must get the bytes as they are
    # (a pty would turn each newline into CR LF).
    # (POSIX terminals only: raw mode and SIGWINCH have no Windows console equivalent here.)
    tty = args.tty and os.name == "posix" and sys.stdin.isatty() and sys.stdout.isatty()
    try:
        api = open_client(host)[0].api if host else docker.from_env().api
        exec_id = api.exec_create(args.container, args.command, stdin=True, tty=tty, user=args.user,
                                  environment=environment, workdir=args.workdir)["Id"]
        sock = _raw_socket(api.exec_start(exec_id, socket=True, tty=tty))
    except docker.errors.NotFound:
        print(f"labrunner: the container {args.container[:12]} is gone; start the lab again with "
              "`labrunner run`", file=sys.stderr)
        return FAILED
    except (docker.errors.DockerException, OSError, ValueError) as exc:   # requests' errors are OSErrors
        text = str(getattr(exc, "explanation", None) or exc).splitlines()[0]
        print(f"labrunner: could not run {args.command[0]} in the container: {text}", file=sys.stderr)
        return FAILED
    restore = None
    if tty:
        import signal
        import termios
        import tty as tty_mode

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        tty_mode.setraw(fd)
        restore = lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)  # noqa: E731

        def resize(*_):
            size = _terminal_size()
            if size:
                try:
                    api.exec_resize(exec_id, height=size[0], width=size[1])
                except docker.errors.DockerException:
                    pass
        resize()
        signal.signal(signal.SIGWINCH, resize)
    try:
        threading.Thread(target=_pump_stdin, args=(sock, tty), daemon=True).start()
        _pump_output(sock, tty)
    except KeyboardInterrupt:
        return 130
    finally:
        if restore:
            restore()
    return _exit_code(api, exec_id)


if __name__ == "__main__":
    sys.exit(run())
