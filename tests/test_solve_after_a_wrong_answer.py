"""`labrunner solve` on a step the learner has already tried, wrongly: the solution makes the
engine right whatever the learner left, and the step's check passes after it."""

import pytest

from labrunner.services import dynamodb

pytestmark = pytest.mark.local

LAB = "dynamodb-modeling"


@pytest.fixture
def running(start_lab):
    return start_lab(LAB)


def test_solve_replaces_a_gsi1_the_learner_made_with_the_wrong_projection(cli, running):
    for _ in range(3):                                     # to the overloaded-index step
        assert cli("solve", "--yes").code == 0
    assert cli("status", "--json").json()["labs"][0]["current_step"] == "overloaded-index"
    client = dynamodb.client(running.endpoint("dynamodb"))
    client.update_table(        # the learner's try: the right keys, but numbers and no OrderTotal
        TableName="Shop",
        AttributeDefinitions=[{"AttributeName": "GSI1PK", "AttributeType": "S"},
                              {"AttributeName": "GSI1SK", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "GSI1",
            "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                          {"AttributeName": "GSI1SK", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    assert cli("check", "--json").code == 1

    solved = cli("solve", "--yes")
    assert solved.code == 0, solved
    index = next(i for i in client.describe_table(TableName="Shop")["Table"]["GlobalSecondaryIndexes"]
                 if i["IndexName"] == "GSI1")
    assert index["Projection"]["ProjectionType"] == "INCLUDE", index
    assert cli("status", "--json").json()["labs"][0]["current_step"] == "transaction"
