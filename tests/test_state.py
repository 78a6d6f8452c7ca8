"""The typed service state: what a runtime records, a session file keeps and fixtures read."""

import json

import pytest

from labrunner import sessions
from labrunner.state import ServiceState


def test_a_typo_in_a_state_field_is_an_error_not_an_empty_value():
    state = ServiceState(service="postgres", runtime="local", host="127.0.0.1", port=5432)
    with pytest.raises(KeyError):
        state["passwrod"] = "x"
    with pytest.raises(KeyError):
        state.get("contianer")
    with pytest.raises(TypeError, match="unknown service state field"):
        ServiceState.from_dict({"service": "postgres", "runtime": "local", "host": "127.0.0.1", "port": 1,
                                "pidd": 3})


def test_a_session_round_trips_its_typed_states(labrunner_home):
    session = sessions.Session(lab="rds-postgres-basics", runtime="local", workspace="/tmp/ws")
    session.services["postgres"] = ServiceState(service="postgres", runtime="local", host="127.0.0.1", port=5433,
                                                scheme="postgresql", username="postgres", password="Secret1x",
                                                database="appdb", pid=42, started=1.5)
    session.save()
    again = sessions.find("rds-postgres-basics")
    assert isinstance(again.services["postgres"], ServiceState)
    assert again.services["postgres"] == session.services["postgres"]
    endpoint = again.endpoint("postgres")
    assert (endpoint.port, endpoint.username, endpoint.database) == (5433, "postgres", "appdb")


def test_a_session_file_with_an_unknown_state_field_is_not_used(labrunner_home):
    session = sessions.Session(lab="dynamodb-basics", runtime="local", workspace="/tmp/ws")
    session.save()
    path = labrunner_home / "state" / "sessions" / "dynamodb-basics.json"
    data = json.loads(path.read_text())
    data["services"] = {"dynamodb": {"service": "dynamodb", "runtime": "local", "host": "127.0.0.1",
                                     "port": 1, "surprise": True}}
    path.write_text(json.dumps(data))
    assert sessions.find("dynamodb-basics") is None
