#!/usr/bin/env bash
# The one command that sets up everything the tests need on a fresh machine and runs them:
#   bash scripts/test.sh            (extra arguments go to pytest, e.g. -k docker)
# - a virtualenv in .venv with labrunner (editable) and its dev extras (moto, pytest, awscli)
# - Docker: Debian's docker.io and a dockerd in the background (scripts/docker-up.sh)
# - the local stand-in images, built from a Debian root (images/build.sh), used by the
#   Docker runtime through the image override a class mirror would use
# - pytest, Docker tests required, not skipped; tests/test_labs.py runs `labrunner test LAB`
#   for every lab on both runtimes (Oracle and SQL Server skip, naming the image they need)
# A second run reuses the pip cache, the Debian root and the images: a few minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "== $*" >&2; }

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
say "installing labrunner and its test dependencies"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"

# Debian packages the tests use: docker-compose validates compose/*.yml; MariaDB's server and
# client are the local runtime's engine for the mysql and mariadb stand-ins.
need=()
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb-dump >/dev/null || need+=(mariadb-client)
command -v java >/dev/null || need+=(default-jre-headless)     # Gremlin Server's local runtime
command -v chromium >/dev/null || need+=(chromium)              # opens `labrunner report` HTML (tests/test_report.py)
command -v chromedriver >/dev/null || need+=(chromium-driver)   # drives the class dashboard (tests/test_class_dashboard.py)
command -v ip >/dev/null || need+=(iproute2)                     # the no-network test brings up lo in its namespace (tests/test_prepare.py)
command -v unshare >/dev/null || need+=(util-linux)              # unshare -n: the same test's network namespace
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; }
  # Debian starts a system-wide MariaDB on install where it can; labrunner runs its own.
  if command -v service >/dev/null; then service mariadb stop >/dev/null 2>&1 || true; fi
fi

say "making sure Docker runs"
bash scripts/docker-up.sh
say "building the local stand-in images"
bash images/build.sh >/dev/null
# shellcheck disable=SC1091
source images/overrides.env
# The local runtime fetches Gremlin Server's jars into labrunner's engine cache from a Maven
# registry. Unless one is configured, use this machine's own Maven repository, which the
# Gremlin image's build (mvn) just filled: same layout, so a file:// URL serves as the registry.
if [ -z "${LABRUNNER_MAVEN_REGISTRY:-}" ] && [ -d "$HOME/.m2/repository/org/apache/tinkerpop" ]; then
  export LABRUNNER_MAVEN_REGISTRY="file://$HOME/.m2/repository"
fi

export LABRUNNER_REQUIRE_DOCKER=1
export LABRUNNER_REQUIRE_CHROMIUM=1
say "running the tests"
set +e
# Parallel workers (pytest-xdist): most of a lab proof's time is waiting on engines (start, failover,
# restore). --dist load with --maxschedchunk 1 hands each free worker the next test (without it,
# xdist gives each worker a run of consecutive tests first: one worker got every long proof), and
# tests/conftest.py puts the longest first. LABRUNNER_TEST_WORKERS=0 runs them in this process.
.venv/bin/python -m pytest -q -p no:cacheprovider --durations=30 \
  -n "${LABRUNNER_TEST_WORKERS:-3}" --dist load --maxschedchunk 1 "$@"
code=$?
set -e
if [ "$code" = 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$code"
