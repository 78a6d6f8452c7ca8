#!/usr/bin/env bash
# Make sure a Docker daemon answers `docker info`, plus the tools images/build.sh needs.
# Idempotent and quick when everything is already there. Runs as root without
# systemd (CI): dockerd is started in the background and logs to the cache dir.
set -euo pipefail

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/labrunner-ci"
LOG="$CACHE/dockerd.log"
die() { echo "docker-up: $*" >&2; exit 1; }

# Install Debian packages that are missing; `apt-get update` only if the plain install fails
# (fresh machines have empty package lists).
apt_install() {
  [ "$(id -u)" = 0 ] || die "need root to apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$@" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; } \
    || die "apt-get install $* failed"
}

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
[ ${#need[@]} -eq 0 ] || { echo "docker-up: installing ${need[*]}" >&2; apt_install "${need[@]}"; }
command -v docker >/dev/null || die "no docker CLI on PATH after installing docker.io"

if docker info >/dev/null 2>&1; then exit 0; fi

# Is pid $2 a live $1 process? Zombies do not count: a killed daemon can stay one for a
# while where PID 1 reaps slowly, and dockerd would take it for a running one.
alive() {
  [ -n "$2" ] && [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$1" ] \
    && ! grep -q '^State:[[:space:]]*Z' "/proc/$2/status" 2>/dev/null
}

# LABRUNNER_DOCKER_RUN_DIR moves the pid files (default /var/run): the script's own test runs
# it with a stand-in dockerd, away from the real daemon's files.
RUN_DIR="${LABRUNNER_DOCKER_RUN_DIR:-/var/run}"
PIDFILE="$RUN_DIR/docker.pid"
pid="$(cat "$PIDFILE" 2>/dev/null || true)"
if alive dockerd "$pid"; then
  echo "docker-up: dockerd ($pid) is running but not answering yet; waiting" >&2
else
  # A killed daemon leaves pid files behind: dockerd refuses to start over its own, and
  # waits in vain for the containerd named in the other if that pid still exists.
  rm -f "$PIDFILE"
  cpidfile="$RUN_DIR/docker/containerd/containerd.pid"
  alive containerd "$(cat "$cpidfile" 2>/dev/null || true)" || rm -f "$cpidfile"
  mkdir -p "$CACHE"
  echo "docker-up: starting dockerd (log: $LOG)" >&2
  # The daemon must outlive this script and the shell that ran it: its own session, no terminal
  # to hang up. setsid -f always forks (plain setsid forks only where its caller leads a process
  # group, e.g. under `set -m`), so $! is never dockerd's pid: the small shell writes its own
  # pid, which exec hands on to dockerd, and that is the pid to watch.
  started="$CACHE/dockerd.started"
  rm -f "$started"
  # It starts in /: a daemon that outlives this script must not keep the caller's folder (a
  # clone that may be deleted) as its working directory.
  (cd / && setsid -f sh -c 'echo $$ >"$0.part" && mv "$0.part" "$0" && exec "$@"' "$started" \
    dockerd --pidfile "$PIDFILE" >>"$LOG" 2>&1 </dev/null)
  for _ in $(seq 1 50); do [ -s "$started" ] && break; sleep 0.1; done
  pid="$(cat "$started" 2>/dev/null || true)"
  [ -n "$pid" ] || die "dockerd did not start; see $LOG"
  # The small shell writes its pid a moment before it execs dockerd: until then it is named sh.
  for _ in $(seq 1 50); do [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sh ] || break; sleep 0.1; done
fi

for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  alive dockerd "$pid" || die "dockerd exited; see $LOG (last line: $(tail -n1 "$LOG" 2>/dev/null))"
  sleep 1
done
die "dockerd did not answer 'docker info' within 60 s; see $LOG (last line: $(tail -n1 "$LOG" 2>/dev/null))"
