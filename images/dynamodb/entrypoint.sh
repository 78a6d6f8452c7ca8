#!/bin/sh
# Started with amazon/dynamodb-local's arguments (-jar DynamoDBLocal.jar -sharedDb -inMemory ...):
# ignore them all and serve moto on DynamoDB Local's port.
exec /opt/moto/bin/python -m moto.server -H 0.0.0.0 -p 8000
