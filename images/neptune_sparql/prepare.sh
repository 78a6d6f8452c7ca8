#!/usr/bin/env bash
# Host side of the Oxigraph stand-in (run by images/build.sh with IMAGE and CACHE set): download
# the `oxigraph` wheel of the image tag's version for bookworm's Python (3.11) and this machine's
# CPU into $1/wheels, where the Dockerfile installs it with no network.
set -euo pipefail
ctx="$1"
version="${IMAGE##*:}"                         # labrunner-local/neptune-sparql:0.5.13 -> 0.5.13
arch="$(uname -m)"
case "$arch" in amd64) arch=x86_64 ;; arm64) arch=aarch64 ;; esac
dir="$CACHE/wheels/oxigraph-$version-$arch"
if ! ls "$dir"/oxigraph-*.whl >/dev/null 2>&1; then
  rm -rf "$dir.part" && mkdir -p "$dir.part"
  platforms=()
  for v in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${v}_$arch"); done
  platforms+=(--platform "manylinux2014_$arch")
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$dir.part" \
    --implementation cp --python-version 3.11 "${platforms[@]}" "oxigraph==$version" \
    || { echo "neptune_sparql/prepare.sh: pip download of oxigraph $version failed" >&2; exit 1; }
  rm -rf "$dir" && mv "$dir.part" "$dir"
fi
mkdir -p "$ctx/wheels"
cp "$dir"/oxigraph-*.whl "$ctx/wheels/"
