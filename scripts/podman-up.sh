#!/usr/bin/env bash
# Podman serving the Docker API, with labrunner's locally built stand-in images loaded into
# it, so the tests can run labrunner's Docker runtime on Podman as a learner's laptop would.
#
#   eval "$(bash scripts/podman-up.sh [NAME...])"   exports LABRUNNER_PODMAN_HOST=unix://<socket>
#
# NAME: the stand-ins to load (valkey postgres ...: LABRUNNER_IMAGE_<NAME> of images/overrides.env);
# without one, all of them.
# Idempotent: installs Debian's podman if missing (as root), starts `podman system service`
# in the background on a private socket (not Docker's, not Podman's default: nothing else
# finds it by accident), and loads into it each image of images/overrides.env whose id
# differs from Docker's copy (`docker save | podman load`). A second run only checks.
# Without systemd or journald: cgroupfs, file events. Logs: the cache dir.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/labrunner-ci/podman"
SOCK="$CACHE/podman.sock"
LOG="$CACHE/service.log"
PIDFILE="$CACHE/service.pid"
die() { echo "podman-up: $*" >&2; exit 1; }
say() { echo "podman-up: $*" >&2; }
mkdir -p "$CACHE"
# One at a time: parallel test workers each run this script, and one must not restart the
# service or load images while another is in the middle of the same.
exec 9>"$CACHE/podman-up.lock"
flock 9

if ! command -v podman >/dev/null; then
  [ "$(id -u)" = 0 ] || die "podman is not installed and installing it needs root (apt-get install podman)"
  say "installing podman"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends podman crun conmon >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends podman crun conmon >/dev/null; } \
    || die "apt-get install podman failed"
fi
# Settings that work where there is no systemd and no journald (a CI container as root), and
# where the open-files and process limits are below what rootful Podman asks for (crun:
# "setrlimit RLIMIT_NOFILE: Operation not permitted"): containers get this shell's hard limits.
# Podman lowers its own process limit to 32768 as it starts, and cannot raise it again for a
# container without CAP_SYS_RESOURCE: hence the cap given for nproc.
limit() {
  local v cap="${2:-1048576}"
  v="$(ulimit -H "$1")"; [ "$v" = unlimited ] || [ "$v" -gt "$cap" ] && v="$cap"
  echo "$v:$v"
}
# crun refuses a hybrid cgroup v1/v2 host ("cgroups in hybrid mode not supported"); runc (which
# Docker uses too) runs there.
runtime=crun
if [ -d /sys/fs/cgroup/unified ] && command -v runc >/dev/null; then runtime=runc; fi
export CONTAINERS_CONF="$CACHE/containers.conf"
cat >"$CONTAINERS_CONF.new" <<EOF
[containers]
default_ulimits = ["nofile=$(limit -n)", "nproc=$(limit -u 32768)"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "$runtime"
EOF
if cmp -s "$CONTAINERS_CONF.new" "$CONTAINERS_CONF"; then rm "$CONTAINERS_CONF.new"; else
  mv "$CONTAINERS_CONF.new" "$CONTAINERS_CONF"; changed=1; fi
PODMAN=(podman)

answers() { curl -sf --max-time 5 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }

# The service's pid (written by the shell that execs it), alive and not a zombie.
running() {
  local pid; pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = podman ] \
    && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}
stop() {
  say "stopping podman service ($(cat "$PIDFILE"))"
  kill "$(cat "$PIDFILE")" 2>/dev/null || true
  for _ in $(seq 1 100); do running || return 0; sleep 0.1; done
  die "podman service ($(cat "$PIDFILE")) did not stop"
}
start() {
  rm -f "$SOCK" "$PIDFILE"
  say "starting podman system service (log: $LOG)"
  # setsid -f: the service outlives this script; the small shell writes its own pid, which
  # exec hands on to podman (setsid's own pid would be wrong where it forks).
  # In /: the service outlives this script, and conmon, which it starts for every container,
  # fails ("Failed to get working directory") once the caller's folder (a clone) is deleted.
  (cd / && setsid -f sh -c 'echo $$ >"$0.part" && mv "$0.part" "$0" && exec "$@"' "$PIDFILE" \
    "${PODMAN[@]}" system service --time=0 "unix://$SOCK" >>"$LOG" 2>&1 </dev/null 9>&-)   # not the lock
  for _ in $(seq 1 50); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
  [ -s "$PIDFILE" ] || die "podman system service did not start; see $LOG"
  # The small shell writes its pid a moment before it execs podman: until then it is named sh.
  for _ in $(seq 1 50); do [ "$(cat "/proc/$(cat "$PIDFILE")/comm" 2>/dev/null)" = sh ] || break; sleep 0.1; done
}
# A service started before that rule (from a folder of its caller's) is started again.
misplaced() { [ "$(readlink "/proc/$(cat "$PIDFILE")/cwd" 2>/dev/null)" != / ]; }

if [ "${changed:-0}" = 1 ] && running; then stop; fi     # new settings: it must read them again
if running && misplaced; then stop; fi
if ! answers; then
  started=0
  running && say "podman service ($(cat "$PIDFILE")) is running but not answering yet; waiting"
  for _ in $(seq 1 150); do
    answers && break
    if ! running; then                  # never started, or gone (e.g. still stopping a moment ago)
      [ "$started" = 0 ] || die "podman system service exited; see $LOG (last line: $(tail -n1 "$LOG" 2>/dev/null))"
      start; started=1
    fi
    sleep 0.2
  done
  answers || die "podman system service did not answer on $SOCK; see $LOG (last line: $(tail -n1 "$LOG" 2>/dev/null))"
fi

# The stand-in images, as Docker has them (images/build.sh), copied only when Podman's differ.
if [ -f images/overrides.env ] && docker info >/dev/null 2>&1; then
  load=()
  # NAME arguments (e.g. valkey postgres) pick LABRUNNER_IMAGE_NAME; none: every stand-in.
  wanted=" ${*^^} "
  while IFS= read -r line; do
    name="${line#export LABRUNNER_IMAGE_}" && name="${name%%=*}" && image="${line#*=}"
    [ $# -eq 0 ] || [[ "$wanted" == *" $name "* ]] || continue
    want="$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" || continue
    have="$("${PODMAN[@]}" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
    [ "sha256:$have" = "$want" ] || [ "$have" = "$want" ] || load+=("$image")
  done < <(grep '^export LABRUNNER_IMAGE_' images/overrides.env)
  if [ ${#load[@]} -gt 0 ]; then
    say "loading ${load[*]} into podman"
    docker save "${load[@]}" | "${PODMAN[@]}" load -q >/dev/null || die "podman load failed"
    "${PODMAN[@]}" image prune -f >/dev/null 2>&1 || true      # the copies they replaced
  fi
fi
echo "export LABRUNNER_PODMAN_HOST=unix://$SOCK"
