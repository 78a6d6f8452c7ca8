"""Start, reach, stop and bring back the services of a lab session (both runtimes, one path).

`labrunner run` and `labrunner test` start services through `launch`; `start` adds what
a learner's session needs on top (reuse, revival, the session file). Data flows one way:
this module knows runtimes, services and sessions, never checks, steps or the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labrunner import log, runtimes, services, sessions
from labrunner.errors import ExitCode, ServiceError, UsageError
from labrunner.runtimes.base import wait_ready
from labrunner.sessions import Session
from labrunner.state import ServiceState
from labrunner.workspace import Workspace


def runtime_of(session: Session):
    return runtimes.get(session.runtime)


@dataclass
class Started:
    session: Session
    reused: bool = False                  # it was already running
    restarted: list[str] = field(default_factory=list)   # engines brought back on their data
    fresh: bool = False                   # new engines, with nothing in them yet


class Interrupted(ServiceError):
    """Ctrl-C (or a signal) while services were starting: what had started was stopped again."""

    exit_code = ExitCode.INTERRUPTED


def launch(lab, runtime, session: Session, *, ports: dict[str, int] | None = None, say=None,
           meanwhile=None, persist: bool = True) -> None:
    """Start every service the lab names into `session`, then wait until each answers.

    The session is saved before each engine is created (with `persist`), so `down` and the
    next `run` find a half-started session. Anything that goes wrong, Ctrl-C included, stops
    what was started and deletes what it made."""
    say = say or (lambda *a: None)
    try:
        if persist:
            session.save()
        for name in lab.services:           # launch them all first: they boot in parallel
            say("starting", name)
            kwargs = {"lab_id": lab.id, "session_id": session.id, "port": (ports or {}).get(name),
                      "workspace": session.workspace}
            if runtime.name == "docker":
                kwargs["progress"] = lambda event, n=name: say("pull", n, event)
            state = ServiceState.from_dict(runtime.launch(services.get(name), **kwargs))
            log.for_lab(lab.id).info("started %s on %s: %s", name, runtime.name,
                                     {k: v for k, v in state.items() if k != "password" and v not in (None, "")})
            session.services[name] = state
            if persist:
                session.save()
        if meanwhile:
            meanwhile(session)
        for name, state in session.services.items():
            wait_ready(runtime, services.get(name), state)
            say("ready", name, state)
    except BaseException as exc:
        interrupted = isinstance(exc, (KeyboardInterrupt, SystemExit))
        log.for_lab(lab.id).error("start %s: %s", "interrupted" if interrupted else "failed",
                                  f"{type(exc).__name__}: {exc}".rstrip(": "))
        _remove_all(runtime, session, persist)
        if interrupted:
            raise Interrupted(f"interrupted while starting {lab.id}; nothing was left running",
                              f"`labrunner run {lab.id}` starts it again") from None
        raise


def _unpublished_runs_locally(lab, runtime_name: str) -> str:
    """`auto` picks the local runtime for a lab whose stand-in image no registry publishes
    (unless an image override says where one is): Docker could only fail to pull it."""
    from labrunner import config

    if runtime_name != "auto":
        return runtime_name
    for name in lab.services:
        service = services.get(name)
        if not service.image_published and service.local is not None \
                and config.image_override(name, service.image) is None:
            return "local"
    return runtime_name


def start(lab, runtime_name: str = "auto", *, ports: dict[str, int] | None = None,
          workspace: str | None = None, on_event=None, meanwhile=None) -> Started:
    """Start the lab's services for a learner, or bring back the ones `down` stopped (on
    their data), or reuse the running ones. `meanwhile(session)` runs once every engine is
    launched, before waiting for them to answer."""
    say = on_event or (lambda *a: None)
    existing = sessions.find(lab.id)
    if existing and runtime_name in ("auto", existing.runtime):
        if workspace and Workspace.for_lab(lab, workspace).path != Workspace.for_lab(lab, existing.workspace).path:
            say("note", f"--workspace is ignored: {lab.id} already uses {existing.workspace} "
                        f"(`labrunner down {lab.id} --wipe` first to change it)")
        was_stopped = existing.stopped
        try:
            restarted = revive(existing, say)
        except ServiceError as exc:
            # Never wipe a learner's data to get going again: say what happened, keep it.
            raise ServiceError(f"{lab.id} could not be brought back: {exc.message}; its data is kept",
                               f"`labrunner status` tells more; `labrunner down {lab.id} --wipe` then "
                               f"`labrunner run {lab.id}` starts afresh (your progress is kept)",
                               log_tail=exc.log_tail) from None
        if meanwhile:
            meanwhile(existing)
        return Started(existing, reused=not restarted and not was_stopped, restarted=restarted)
    if existing:
        raise UsageError(f"{lab.id} has its services and data on the {existing.runtime} runtime",
                         f"run it there (`labrunner run {lab.id} --runtime {existing.runtime}`), or "
                         f"`labrunner down {lab.id} --wipe` first to start afresh on {runtime_name}")
    runtime = runtimes.get(_unpublished_runs_locally(lab, runtime_name))
    ws = Workspace.for_lab(lab, workspace)
    session = Session(lab=lab.id, runtime=runtime.name, workspace=str(ws.path))
    ws.check_location()
    launch(lab, runtime, session, ports=ports, say=say, meanwhile=meanwhile)
    try:
        ws.prepare()
    except BaseException as exc:
        stop(session, wipe=True)        # a workspace that cannot be made: nothing left running
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write your lab files to {ws.path}: {exc.strerror or exc}",
                             "choose a folder of your own with --workspace") from None
        raise
    session.save()
    return Started(session, fresh=True)


def revive(session: Session, say=None) -> list[str]:
    """Bring back engines that stopped (`down`, a crash, `fault kill`, a reboot) on their own
    data and port; return the names of those restarted."""
    say = say or (lambda *a: None)
    restarted = []
    for name in list(session.services):
        if probe(session, name) is None:
            continue
        if not session.stopped and _thawed(session, name):
            say("restart", f"{name} was paused (`labrunner fault pause`); it is running again")
            continue
        if not session.stopped:
            # (whether it died or hangs cannot be told reliably a moment after a kill)
            on_data = " on its data" if services.get(name).keeps_data else ""
            say("restart", f"{name} was not answering; starting it again{on_data}")
        try:
            inject(session, name, "restart")
        except ServiceError as exc:               # the engine would not start on its data
            raise ServiceError(f"{name} would not start again ({exc.message})", exc.fix,
                               log_tail=exc.log_tail) from None
        except Exception as exc:                  # container gone, data folder gone ...
            raise ServiceError(f"{name} could not be restarted: {exc}") from None
        restarted.append(name)
    if session.stopped:
        session.stopped = False
    session.save()
    ensure_ready(session)
    return restarted


def probe(session: Session, name: str) -> Exception | None:
    """The one health probe `run`, `check`, `status` and `doctor` share: None when the service
    answers a real request, else what went wrong."""
    try:
        services.get(name).probe(session.endpoint(name))
    except Exception as exc:       # refused, reset, timed out, 5xx: not answering
        return exc
    return None


def _thawed(session: Session, name: str) -> bool:
    """A paused engine (SIGSTOP, a paused container) answers again once resumed: try that
    first, before a restart that would cut off its clients."""
    runtime = runtime_of(session)
    if not runtime.paused(session.services[name]):
        return False
    inject(session, name, "resume")
    return probe(session, name) is None


# A cluster's endpoint may be between writers for a moment (a failover the learner just caused
# with `labrunner fault`): a check waits this long for it before saying it does not answer.
CLUSTER_GRACE = 8.0


def _probe_with_grace(session: Session, name: str) -> Exception | None:
    import time

    deadline = time.monotonic() + (CLUSTER_GRACE if services.get(name).nodes else 0.0)
    while True:
        exc = probe(session, name)
        if exc is None or time.monotonic() >= deadline:
            return exc
        time.sleep(0.25)


def ensure_ready(session: Session) -> None:
    """Every service answers its probe, or a ServiceError that says how to bring it back."""
    for name, state in session.services.items():
        exc = _probe_with_grace(session, name)
        if exc is not None:
            log.for_lab(session.lab).warning("%s not answering: %s: %s", name, type(exc).__name__, exc)
            live = sessions.find(session.lab)
            if live is None or live.id != session.id:
                raise ServiceError(f"the services of lab '{session.lab}' were stopped (`labrunner down`)",
                                   f"start them again with `labrunner run {session.lab}`") from None
            raise ServiceError(
                f"the {name} engine of lab '{session.lab}' is not answering at {state['host']}:{state['port']}",
                f"`labrunner status` tells more; `labrunner run {session.lab}` brings it back on its data",
            ) from None


def stop(session: Session, *, wipe: bool = False) -> list[str]:
    """Stop every service of a session; return what was stopped. By default the engines'
    data is kept (a stopped container, a data folder) for the next `run`; with `wipe` the
    containers, processes and folders go, and so does the session."""
    stopped = []
    try:
        runtime = runtime_of(session)
    except ServiceError:
        runtime = None    # Docker is gone: nothing we can stop there; forget the session
        wipe = True
    if wipe:
        if runtime is not None:
            _remove_all(runtime, session, persist=True)
        stopped = list(session.services)
    else:
        for name, state in session.services.items():
            try:
                session.services[name] = ServiceState.from_dict(runtime.signal(state, "stop"))
            except ServiceError:
                pass          # already gone: `run` starts it afresh
            stopped.append(name)
        session.stopped = True
        session.save()
    log.for_lab(session.lab).info("%s %s (session %s)", "removed" if wipe else "stopped, data kept:",
                                  ", ".join(stopped) or "nothing", session.id)
    return stopped


def _remove_all(runtime, session: Session, persist: bool) -> None:
    for state in session.services.values():
        try:
            runtime.remove(state)
        except Exception as exc:                # keep removing the others
            log.for_lab(session.lab).warning("could not remove %s: %s", state.get("service"), exc)
    sweep = getattr(runtime, "sweep_session", None)
    if sweep:
        sweep(session.id)                       # what a kill mid-start left unrecorded
    if persist:
        live = sessions.find(session.lab)
        if live is not None and live.id == session.id:
            session.delete()


def sweep(keep_data: bool = True) -> list[str]:
    """Stop what no session file owns any more (labelled containers, engines with pid files),
    on every runtime that answers. Stopped sessions' data stays unless keep_data is False."""
    keep = {s.id for s in sessions.all_sessions()} if keep_data else set()
    from labrunner.runtimes import docker
    from labrunner.runtimes.local import LocalRuntime

    found = LocalRuntime().sweep(keep)
    if docker.available():
        found += docker.DockerRuntime().sweep(keep)
    return found


def act_on_node(session: Session, service: str, action: str, node: str) -> str:
    """A fault on one node of a cluster (`fault kill aurora-postgresql/writer`), a failover
    (action "failover") or a replica's promotion ("promote", "new-replica"): the cluster's own
    control does it; returns what it says."""
    if service not in session.services:
        raise UsageError(f"lab '{session.lab}' runs no service '{service}'",
                         f"its services: {', '.join(session.services)}")
    definition = services.get(service)
    if not definition.node_action:
        if action in ("promote", "new-replica"):
            raise UsageError(f"{service} has no read replica to promote",
                             "`labrunner promote` acts on an RDS instance with a read replica "
                             "(rds-postgres-multiaz, in the lab rds-postgres-replicas)")
        what = "failover" if action == "failover" else f"fault {action} {service}/{node}"
        raise UsageError(f"{service} is one engine, not a cluster of nodes: `labrunner {what}` does not apply",
                         f"`labrunner fault {action if action != 'failover' else 'restart'} {service}` acts "
                         "on the whole engine")
    from labrunner.services.base import hook

    return hook(definition.node_action)(session.endpoint(service), action, node)


def inject(session: Session, service: str, action: str) -> dict:
    """Fault injection: kill | stop | pause | resume | restart a service; waits for it after a
    restart or resume, and records where it now answers (the same port: every container is
    bound to a port labrunner chose or was given, which Docker keeps across restarts)."""
    if service not in session.services:
        raise UsageError(f"lab '{session.lab}' runs no service '{service}'",
                         f"its services: {', '.join(session.services)}")
    runtime = runtime_of(session)
    state = ServiceState.from_dict(runtime.signal(session.services[service], action))
    session.services[service] = state
    live = sessions.find(session.lab)
    if live is not None and live.id == session.id:
        session.save()
    if action in ("restart", "resume"):
        wait_ready(runtime, services.get(service), state)
    return state
