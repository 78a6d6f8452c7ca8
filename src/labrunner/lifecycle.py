"""Start, reach, reset and stop the services of a lab session (both runtimes, one path)."""

from __future__ import annotations

from labrunner import log, runtimes, services, sessions
from labrunner.errors import ServiceError
from labrunner.runtimes.base import wait_ready
from labrunner.sessions import Session
from labrunner.workspace import Workspace


def runtime_of(session: Session):
    return runtimes.get(session.runtime)


def start(lab, runtime_name: str = "auto", *, ports: dict[str, int] | None = None,
          workspace: str | None = None, on_event=None, meanwhile=None) -> tuple[Session, bool]:
    """Start every service the lab needs; return (session, reused). Reuses a live session.

    `meanwhile(session)` runs once every engine is launched, before waiting for them to answer."""
    say = on_event or (lambda *a: None)
    existing = sessions.find(lab.id)
    if existing and (runtime_name in ("auto", existing.runtime)):
        try:
            _revive(existing, say)
            from labrunner import checker

            checker.spawn(lab, existing)     # no-op when it is already running
            return existing, True
        except ServiceError:
            say("restart", f"the earlier {lab.id} services could not be brought back; starting fresh ones")
            stop(existing)
    elif existing:
        stop(existing)
    runtime = runtimes.get(runtime_name)
    ws = Workspace.for_lab(lab, workspace)
    session = Session(lab=lab.id, runtime=runtime.name, workspace=str(ws.path))
    try:
        for name in lab.services:           # launch them all first: they boot in parallel
            say("starting", name)
            kwargs = {"lab_id": lab.id, "session_id": session.id, "port": (ports or {}).get(name),
                      "workspace": session.workspace}
            if runtime.name == "docker":
                kwargs["progress"] = lambda event, n=name: say("pull", n, event)
            state = runtime.launch(services.get(name), **kwargs)
            log.for_lab(lab.id).info("started %s on %s: %s", name, runtime.name,
                                     {k: v for k, v in state.items() if k != "password"})
            session.services[name] = state
            session.save()            # saved at once, so `down` finds a half-started session
        if meanwhile:
            meanwhile(session)
        for name, state in session.services.items():
            wait_ready(runtime, services.get(name), state)
            say("ready", name, state)
    except BaseException as exc:
        log.for_lab(lab.id).error("start failed: %s", exc)
        stop(session)
        raise
    ws.prepare()
    session.save()
    from labrunner import checker

    checker.spawn(lab, session)
    return session, False


def _revive(session: Session, say) -> None:
    """Bring back engines that stopped (a crash, `fault kill`, a reboot) on their own data."""
    for name in list(session.services):
        try:
            services.get(name).probe(session.endpoint(name))
        except Exception:
            say("restart", f"{name} had stopped; starting it again on its data")
            try:
                inject(session, name, "restart")
            except Exception as exc:          # container gone, data folder gone, ...
                raise ServiceError(f"{name} could not be restarted: {exc}") from None
    ensure_ready(session)


def ensure_ready(session: Session) -> None:
    """Every service answers its probe, or a ServiceError that says how to bring it back."""
    for name, state in session.services.items():
        service = services.get(name)
        try:
            service.probe(session.endpoint(name))
        except Exception as exc:
            log.for_lab(session.lab).warning("%s not answering: %s: %s", name, type(exc).__name__, exc)
            raise ServiceError(
                f"the {name} engine of lab '{session.lab}' is not answering at {state['host']}:{state['port']}",
                f"start it again with `labrunner run {session.lab}` (your progress is kept)",
            ) from None


def stop(session: Session) -> list[str]:
    """Stop and remove every service of a session; return what was stopped."""
    from labrunner import checker

    checker.stop(session.lab)
    stopped = []
    try:
        runtime = runtime_of(session)
    except ServiceError:
        runtime = None    # Docker is gone: nothing we can stop there; forget the session
    for name, state in session.services.items():
        if runtime is not None:
            runtime.remove(state)
        stopped.append(name)
    log.for_lab(session.lab).info("stopped %s (session %s)", ", ".join(stopped) or "nothing", session.id)
    session.delete()
    return stopped


def fixtures_for(lab, session: Session, *, workspace: Workspace | None = None, replay: bool = False,
                 shared: dict | None = None):
    from labrunner.checks.fixtures import Fixtures

    ws = workspace or Workspace(session.workspace, lab, replay=replay)
    return Fixtures(lab=lab, session=session, workspace=ws, replay=replay, shared=shared)


def reset_to(lab, session: Session, step_index: int, *, workspace: Workspace | None = None,
             shared: dict | None = None) -> None:
    """Wipe the engines' data, then replay the solutions of the steps before step_index.

    The learner's own workspace files are left as they are (replay mode)."""
    from labrunner.checks import runner

    ensure_ready(session)
    for name in session.services:
        services.get(name).reset(session.endpoint(name))
    ws = workspace or Workspace(session.workspace, lab, replay=True)
    for step in lab.steps[:step_index]:
        with fixtures_for(lab, session, workspace=ws, replay=True, shared=shared) as fixtures:
            runner.apply(lab, "solutions", step.solution, fixtures)


def inject(session: Session, service: str, action: str) -> dict:
    """Fault injection: kill | stop | pause | resume | restart a service; waits for it after a
    restart or resume, and records where it now answers (the same port: every container is
    bound to a port labrunner chose or was given, which Docker keeps across restarts)."""
    runtime = runtime_of(session)
    state = runtime.signal(session.services[service], action)
    session.services[service] = state
    if sessions.find(session.lab) is not None and sessions.find(session.lab).id == session.id:
        session.save()
    if action in ("restart", "resume"):
        wait_ready(runtime, services.get(service), state)
    return state
