"""doctor's own lines: the whole reason Docker was not reached, on one line."""


def test_doctor_shows_the_whole_reason_docker_was_not_reached(cli, tmp_path, monkeypatch):
    socket = tmp_path / "no-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    monkeypatch.delenv("TESTCONTAINERS_HOST_OVERRIDE_URL", raising=False)
    result = cli("doctor", "--json")
    item = next(i for i in result.json()["items"] if i["item"] == "docker")
    detail = item["detail"]
    assert "\n" not in detail
    assert f"unix://{socket}" in detail
    # the reason goes on past its first "(": the cause that says what is wrong
    assert "No such file or directory" in detail, detail
    assert detail.endswith("; labs use the local runtime")
