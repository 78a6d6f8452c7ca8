#!/bin/sh
# AWS Backup + DynamoDB + S3 on the container's port 5000 (published on 127.0.0.1 by labrunner).
exec /opt/moto/bin/python /opt/moto/backup_server.py -H 0.0.0.0 -p 5000
