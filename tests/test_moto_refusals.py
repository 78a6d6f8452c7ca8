"""Requests AWS refuses and moto 5.2.5 breaks on (a Python exception inside moto): labrunner's
launcher answers them as AWS does, a ValidationException, instead of an InternalFailure that says
"this request may work on DynamoDB Local or AWS". Run on a real moto server, started by the local
runtime as `labrunner run --runtime local` starts it; nothing is mocked.

Without the launcher's _refused_on_aws both tests fail: moto answers InternalFailure.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from labrunner import runtimes
from labrunner.runtimes.base import wait_ready
from labrunner.services import dynamodb

pytestmark = pytest.mark.local


@pytest.fixture(scope="module")
def ddb(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABRUNNER_HOME", str(tmp_path_factory.mktemp("refusals-home")))
        runtime = runtimes.get("local")
        state = runtime.launch(dynamodb.SERVICE, lab_id="refusals-test", session_id="refusals", port=None)
        try:
            client = dynamodb.client(wait_ready(runtime, dynamodb.SERVICE, state))
            client.create_table(
                TableName="Music",
                AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                                      {"AttributeName": "Year", "AttributeType": "N"}],
                KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                           {"AttributeName": "Year", "KeyType": "RANGE"}],
                BillingMode="PAY_PER_REQUEST")
            client.put_item(TableName="Music", Item={"Artist": {"S": "Acme"}, "Year": {"N": "2010"}})
            yield client
        finally:
            runtime.remove(state)


def _refusal(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


def test_a_query_comparing_a_number_key_with_a_string_is_a_validation_error(ddb):
    error = _refusal(lambda: ddb.query(
        TableName="Music", KeyConditionExpression="Artist = :a AND #y >= :y",
        ExpressionAttributeNames={"#y": "Year"},
        ExpressionAttributeValues={":a": {"S": "Acme"}, ":y": {"S": "2005"}}))
    assert error["Code"] == "ValidationException", error
    assert "may work on" not in error["Message"]
    assert "number compared with a string" in error["Message"]


def test_an_index_created_twice_is_a_validation_error(ddb):
    def create():
        ddb.update_table(
            TableName="Music",
            AttributeDefinitions=[{"AttributeName": "Year", "AttributeType": "N"},
                                  {"AttributeName": "Artist", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "ByYear", "KeySchema": [{"AttributeName": "Year", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"}}}])

    create()
    error = _refusal(create)
    assert error["Code"] == "ValidationException", error
    assert "already exists" in error["Message"]
