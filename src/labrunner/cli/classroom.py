"""`labrunner class`: the teacher's live dashboard and a learner's membership of it."""

from __future__ import annotations

import time

import click

from labrunner.cli import common
from labrunner.errors import ServiceError, UsageError

DEFAULT_PORT = 8470


@click.group("class")
def command():
    """A live class dashboard: the teacher serves it, learners join it."""


@command.command("serve")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1: this machine only).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--code", default=None, help="The class code learners join with (default: kept from last time, or new).")
@click.option("--db", "db_file", default=None, type=click.Path(dir_okay=False),
              help="The dashboard's SQLite file (default: in labrunner's data folder).")
def serve(host, port, code, db_file):
    """Serve the instructor dashboard; Ctrl-C stops it (learners' results wait in their queues)."""
    from pathlib import Path

    from labrunner import paths
    from labrunner.classroom import store

    try:
        from labrunner.classroom import server
    except ImportError as exc:
        raise UsageError(f"`class serve` needs Flask and waitress ({exc.name} is not installed)",
                         "pip install 'labrunner[class]' (the learners' side needs neither)") from None
    if code is not None and not (4 <= len(code.strip()) <= 64 and code.strip().isalnum()):
        raise UsageError("a class code is 4 to 64 letters and digits", "pass e.g. --code DBLAB7, or leave it out")
    path = Path(db_file) if db_file else paths.data_dir() / "class-dashboard.db"
    data = store.Store(path)
    code = data.class_code(code)
    key = data.teacher_key()
    bind = host or "127.0.0.1"
    try:
        srv = server.make_server(data, code, key, bind, port)
    except OSError as exc:
        raise ServiceError(f"cannot listen on {bind}:{port}: {exc.strerror or exc}",
                           "pick another --port, or stop what uses this one") from None
    port = srv.effective_port
    shown = "127.0.0.1" if bind in ("127.0.0.1", "localhost") else _room_address(bind)
    click.echo(f"Class dashboard (teacher only, keep this URL to yourself): http://127.0.0.1:{port}/?key={key}"
               if bind in ("127.0.0.1", "0.0.0.0", "::", "localhost") else
               f"Class dashboard (teacher only, keep this URL to yourself): http://{_url_host(bind)}:{port}/?key={key}")
    click.echo(f"Class code: {code}    Data: {path}")
    click.echo("Learners join with:")
    click.echo(f'  labrunner class join http://{_url_host(shown)}:{port} --name "Their Name" --code {code}')
    if host is None:
        click.echo("Listening on 127.0.0.1 only: learners on other machines cannot reach it. "
                   "To let the room in, restart with --host 0.0.0.0 (or this machine's address in the room).")
    else:
        click.echo(exposure(bind, port))
    click.echo("Ctrl-C stops the server; learners' results wait in their queues until it is back.", nl=True)
    import signal

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)          # `kill`, a service manager: stop as Ctrl-C does
    try:
        srv.run()
    except KeyboardInterrupt:
        pass
    finally:
        srv.close()
    click.echo("dashboard stopped")
    return 0


def exposure(bind: str, port: int) -> str:
    everyone = bind in ("0.0.0.0", "::")
    where = "every network this machine is on" if everyone else f"the network of {bind}"
    return (f"Listening on {bind}:{port}: anyone who can reach this machine on {where} can reach this port. "
            "With the class code they can join as a learner and send results under the name they choose; "
            f"without it they can only try codes, 5 wrong a minute per address. The dashboard and the CSV "
            "(learners' names and progress) need the teacher key in the URL above. It is plain HTTP: others on "
            "the same network can read names and results in transit. Learners' code, answers and credentials "
            "are never sent.")


def _room_address(bind: str) -> str:
    if bind not in ("0.0.0.0", "::"):
        return bind
    import socket

    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        found = sorted({i[4][0] for i in infos if not i[4][0].startswith("127.")})
    except OSError:
        found = []
    return found[0] if found else "THIS-MACHINE-ADDRESS"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@command.command("join")
@click.argument("url")
@click.option("--name", required=True, help="Your name as the teacher will see it.")
@click.option("--code", required=True, help="The class code your teacher gave.")
def join(url, name, code):
    """Join a class: from now on every check result is sent to the teacher's dashboard."""
    from labrunner.classroom import client, outbox

    where = outbox.folder()
    current = outbox.load_membership(where)
    if current:
        raise UsageError(f"already in the class at {current['url']} as {current['name']}",
                         "run `labrunner class leave` first")
    base = client.base_url(url)
    try:
        status, reply = client.join(base, name, code)
    except client.Unreachable as exc:
        raise ServiceError(f"no class dashboard answered at {base} ({exc})",
                           "check the address with your teacher (they run `labrunner class serve --host ...`)") from None
    if status == 401:
        raise UsageError("wrong class code", "check the code with your teacher")
    if status != 200 or not all(isinstance(reply.get(k), str) for k in ("learner", "token", "key")):
        raise UsageError(f"the dashboard refused to join: {reply.get('error', f'HTTP {status}')}",
                         "check the URL, the name and the code")
    outbox.drop_membership(where)            # a queue left from an earlier class is not this one's
    outbox.save_membership(where, {"url": base, "name": name.strip(), "learner": reply["learner"],
                                   "token": reply["token"], "key": reply["key"], "joined_at": time.time()})
    click.echo(f"Joined the class at {base} as {name.strip()}. Each check result (lab, step, passed, runs, "
               "hints, time on step; never your code) now goes to your teacher's dashboard. "
               "`labrunner class leave` stops it.")
    return 0


@command.command("leave")
def leave():
    """Leave the class: results are no longer sent; your token is revoked on the server."""
    from labrunner.classroom import client, outbox, sender

    where = outbox.folder()
    member = outbox.load_membership(where)
    if member is None:
        raise UsageError("not in a class", "join one with `labrunner class join URL --name NAME --code CODE`")
    box = outbox.Outbox(where)
    courier = sender.Sender(where)
    deadline = time.monotonic() + 5
    while box.count() and time.monotonic() < deadline and courier.drain_once() == "sent":
        pass
    left = box.count()
    try:
        status, reply = client.leave(member, box.next_seq())
        told = status == 200
    except client.Unreachable:
        told = False
    outbox.drop_membership(where)
    click.echo(f"Left the class at {member['url']}.")
    if not told:
        click.echo("The dashboard was not reached: it still lists you, but this machine no longer holds "
                   "your token, so nothing more is sent.")
    if left:
        click.echo(f"{left} result(s) not yet sent were dropped.")
    return 0


@command.command("status")
@common.json_option
def status(as_json):
    """The class this machine is in, results queued and when one was last sent."""
    from labrunner.classroom import outbox, sender

    where = outbox.folder()
    member = outbox.load_membership(where)
    if member is None:
        if as_json:
            common.emit_json({"joined": False})
        else:
            click.echo("Not in a class. Join with `labrunner class join URL --name NAME --code CODE`.")
        return 0
    info = outbox.Outbox(where).info()
    if info["queued"]:
        sender.ensure_running(where)         # e.g. after a reboot: results queued, no sender
    last_sent = float(info["last_sent"]) if "last_sent" in info else None
    error_at, _, error = info.get("last_error", "").partition("|")
    data = {"joined": True, "url": member["url"], "name": member["name"], "queued": info["queued"],
            "sent": int(info.get("sent_total", 0)), "last_sent": last_sent, "last_error": error or None,
            "last_error_at": float(error_at) if error else None, "sender_running": sender.running(where)}
    if as_json:
        common.emit_json(data)
        return 0
    click.echo(f"Class: {member['url']} as {member['name']}")
    click.echo(f"Queued: {data['queued']}   Sent: {data['sent']}   Last sent: "
               f"{time.strftime('%H:%M:%S', time.localtime(last_sent)) if last_sent else 'never'}")
    if error and data["queued"]:
        click.echo(f"Last problem: {error} (at {time.strftime('%H:%M:%S', time.localtime(float(error_at)))}); "
                   "retrying in the background")
    return 0
