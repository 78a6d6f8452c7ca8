#!/usr/bin/env bash
# Host side of the DynamoDB stand-in (run by images/build.sh with IMAGE and CACHE set): moto's
# wheels (with the server's flask + flask-cors; the full moto[server] extra pulls every service's
# deps) and labrunner's moto launcher (PartiQL as DynamoDB runs it, errors as JSON, never an
# HTML 500 page: the same file the local runtime runs) into the build context ($1).
set -euo pipefail
PREPARE="dynamodb/prepare.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../_wheels.sh"
moto_version="${IMAGE##*:moto-}"                 # labrunner-local/dynamodb:moto-5.2.5 -> 5.2.5
bookworm_wheels "$1" "dynamodb-moto-$moto_version" "moto[dynamodb]==$moto_version" flask flask-cors
launcher_files "$1" "$moto_version" moto_dynamodb.py
