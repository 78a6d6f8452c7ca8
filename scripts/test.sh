#!/usr/bin/env bash
# The one command that sets up everything the tests need on a fresh machine and runs them:
#   bash scripts/test.sh            (extra arguments go to pytest, e.g. -k docker)
# - a virtualenv in .venv with labrunner (editable) and its dev extras (moto, pytest, awscli)
# - Docker: Debian's docker.io and a dockerd in the background (scripts/docker-up.sh)
# - the local stand-in images, built from a Debian root (images/build.sh), used by the
#   Docker runtime through the image override a class mirror would use
# - `labrunner test --all` on both runtimes, then pytest (Docker tests required, not skipped)
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

if [ "$(id -u)" = 0 ] && ! command -v docker-compose >/dev/null; then
  say "installing docker-compose (validates compose/*.yml)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null; }
fi

say "making sure Docker runs"
bash scripts/docker-up.sh
say "building the local stand-in images"
bash images/build.sh >/dev/null
# shellcheck disable=SC1091
source images/overrides.env

export LABRUNNER_REQUIRE_DOCKER=1
if [ $# -eq 0 ]; then
  say "labrunner test --all (every lab, every runtime here)"
  LABRUNNER_HOME="$(mktemp -d)" .venv/bin/labrunner test --all --runtime all
fi

say "running the tests"
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
code=$?
set -e
if [ "$code" = 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$code"
