# Sourced by the prepare.sh of the stand-ins that install Python packages into an image
# (dynamodb, aws_backup, documentdb): their wheels for bookworm's python3 (CPython 3.11, glibc
# 2.36, this machine's arch), downloaded on the host once and cached (HTTPS from inside a build
# does not trust every machine's certificate chain); and, for the two built on moto, labrunner's
# launcher files, checked against moto's version.
# Needs CACHE (set by images/build.sh) and PREPARE (the caller's name, for messages); the
# optional array EXTRA_PIP adds pip download options (e.g. --abi none --platform any).

# bookworm_wheels CTX CACHE_NAME REQUIREMENT... : the wheels into $CACHE/wheels/CACHE_NAME
# (once), then into CTX/wheels.
bookworm_wheels() {
  local ctx="$1" wheels="$CACHE/wheels/$2" platforms=() v
  shift 2
  # Older pips do not widen --platform manylinux_2_36 to older glibc tags: list them all.
  for v in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${v}_$(uname -m)"); done
  platforms+=(--platform "manylinux2014_$(uname -m)" --platform "manylinux1_$(uname -m)")
  if [ ! -f "$wheels/requirements.txt" ]; then
    rm -rf "$wheels" "$wheels.part" && mkdir -p "$wheels.part"
    printf '%s\n' "$@" >"$wheels.part/requirements.txt"
    python3 -m pip download -q -d "$wheels.part" -r "$wheels.part/requirements.txt" \
      --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 \
      "${platforms[@]}" ${EXTRA_PIP[@]+"${EXTRA_PIP[@]}"} \
      || { echo "$PREPARE: pip download of $* failed" >&2; exit 1; }
    mv "$wheels.part" "$wheels"
  fi
  cp -a "$wheels" "$ctx/wheels"
}

# launcher_files CTX MOTO_VERSION FILE... : labrunner's service files (they import nothing from
# labrunner) into CTX; moto_dynamodb.py, among them, must be written for MOTO_VERSION.
launcher_files() {
  local ctx="$1" version="$2" src file
  shift 2
  src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/src/labrunner/services"
  for file in "$@"; do
    [ -f "$src/$file" ] || { echo "$PREPARE: $src/$file is missing" >&2; exit 1; }
    cp "$src/$file" "$ctx/$file"
  done
  grep -q "^MOTO_VERSION = \"$version\"" "$ctx/moto_dynamodb.py" \
    || { echo "$PREPARE: moto_dynamodb.py is written for another moto than $version" >&2; exit 1; }
}
