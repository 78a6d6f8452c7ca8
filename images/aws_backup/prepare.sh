#!/usr/bin/env bash
# Host side of the AWS Backup stand-in (run by images/build.sh with IMAGE and CACHE set): moto's
# wheels with its DynamoDB and S3 extras (S3 needs PyYAML and py-partiql-parser; the server,
# flask + flask-cors), and both launcher files (backup_server.py and the moto_dynamodb.py it
# imports) into the build context ($1).
set -euo pipefail
PREPARE="aws_backup/prepare.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../_wheels.sh"
moto_version="${IMAGE##*:}"; moto_version="${moto_version#moto-}"   # labrunner-local/aws-backup:5.2.5 -> 5.2.5
bookworm_wheels "$1" "aws-backup-moto-$moto_version" "moto[dynamodb,s3]==$moto_version" flask flask-cors
launcher_files "$1" "$moto_version" moto_dynamodb.py backup_server.py
