#!/usr/bin/env bash
# Host side of the AWS Backup stand-in (run by images/build.sh with IMAGE and CACHE set):
# download moto's wheels with its DynamoDB and S3 extras on the host, for bookworm's python3
# (CPython 3.11, glibc 2.36, this machine's arch), cache them, copy them and both launcher files
# (backup_server.py and the moto_dynamodb.py it imports) into the build context ($1).
set -euo pipefail
ctx="$1"
moto_version="${IMAGE##*:}"; moto_version="${moto_version#moto-}"   # labrunner-local/aws-backup:5.2.5 -> 5.2.5 (moto)
wheels="$CACHE/wheels/aws-backup-moto-$moto_version"

platforms=()
for v in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${v}_$(uname -m)"); done
platforms+=(--platform "manylinux2014_$(uname -m)" --platform "manylinux1_$(uname -m)")

if [ ! -f "$wheels/requirements.txt" ]; then
  rm -rf "$wheels" "$wheels.part" && mkdir -p "$wheels.part"
  # S3 needs the s3 extra (PyYAML, py-partiql-parser); the server needs flask + flask-cors.
  printf '%s\n' "moto[dynamodb,s3]==$moto_version" flask flask-cors >"$wheels.part/requirements.txt"
  python3 -m pip download -q -d "$wheels.part" -r "$wheels.part/requirements.txt" \
    --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 \
    "${platforms[@]}" \
    || { echo "aws_backup/prepare.sh: pip download of moto $moto_version wheels failed" >&2; exit 1; }
  mv "$wheels.part" "$wheels"
fi
cp -a "$wheels" "$ctx/wheels"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/src/labrunner/services"
for file in moto_dynamodb.py backup_server.py; do
  [ -f "$src/$file" ] || { echo "aws_backup/prepare.sh: $src/$file is missing" >&2; exit 1; }
  cp "$src/$file" "$ctx/$file"
done
grep -q "^MOTO_VERSION = \"$moto_version\"" "$ctx/moto_dynamodb.py" \
  || { echo "aws_backup/prepare.sh: moto_dynamodb.py is written for another moto than $moto_version" >&2; exit 1; }
