#!/bin/sh
# Started with amazon/dynamodb-local's arguments (-jar DynamoDBLocal.jar -sharedDb -inMemory ...):
# ignore them all and serve moto, through labrunner's launcher, on DynamoDB Local's port.
exec /opt/moto/bin/python /opt/moto/moto_dynamodb.py -H 0.0.0.0 -p 8000
