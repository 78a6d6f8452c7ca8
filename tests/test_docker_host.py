"""Where labrunner looks for a Docker daemon (testcontainers' order), with real socket files in a
private HOME and XDG_RUNTIME_DIR. No daemon needed: this is the search, not the connection."""

from __future__ import annotations

import socket
import sys

import pytest

from labrunner.runtimes.docker_host import candidates

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets; Windows has a named pipe")


@pytest.fixture
def places(tmp_path, monkeypatch):
    home, runtime_dir = tmp_path / "home", tmp_path / "xdg"
    home.mkdir()
    runtime_dir.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    for var in ("DOCKER_HOST", "TESTCONTAINERS_HOST_OVERRIDE", "TC_HOST"):
        monkeypatch.delenv(var, raising=False)
    made = []

    def listen(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        made.append(sock)
        return f"unix://{path}"

    yield home, runtime_dir, listen
    for sock in made:
        sock.close()


def test_rootless_podman_in_xdg_runtime_dir_is_found(places):
    home, runtime_dir, listen = places
    url = listen(runtime_dir / "podman" / "podman.sock")
    found = {h.url: h for h in candidates()}
    assert url in found and found[url].kind == "Podman"


def test_system_sockets_come_before_a_users_own(places):
    home, runtime_dir, listen = places
    podman = listen(runtime_dir / "podman" / "podman.sock")
    colima = listen(home / ".colima" / "default" / "docker.sock")
    urls = [h.url for h in candidates()]
    assert urls.index(colima) < urls.index(podman)


def test_docker_host_alone_wins_over_every_socket(places, monkeypatch):
    home, runtime_dir, listen = places
    listen(runtime_dir / "podman" / "podman.sock")
    monkeypatch.setenv("DOCKER_HOST", "unix:///somewhere/else.sock")
    assert [(h.url, h.source) for h in candidates()] == [("unix:///somewhere/else.sock", "DOCKER_HOST")]


def test_testcontainers_override_comes_before_docker_host(places, monkeypatch):
    home, runtime_dir, listen = places
    url = listen(runtime_dir / "podman" / "podman.sock")
    monkeypatch.setenv("DOCKER_HOST", "unix:///somewhere/else.sock")
    monkeypatch.setenv("TESTCONTAINERS_HOST_OVERRIDE", url)
    assert [(h.url, h.kind, h.source) for h in candidates()] == [(url, "Podman", "TESTCONTAINERS_HOST_OVERRIDE")]


def test_a_bare_host_name_override_is_not_a_daemon(places, monkeypatch):
    """testcontainers' TESTCONTAINERS_HOST_OVERRIDE=localhost says where ports are reached, not
    which daemon: DOCKER_HOST still decides."""
    monkeypatch.setenv("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
    monkeypatch.setenv("DOCKER_HOST", "unix:///somewhere/else.sock")
    assert [h.url for h in candidates()] == ["unix:///somewhere/else.sock"]


def test_tc_host_in_testcontainers_properties(places, monkeypatch):
    home, runtime_dir, listen = places
    url = listen(runtime_dir / "podman" / "podman.sock")
    (home / ".testcontainers.properties").write_text(f"ryuk.disabled=true\ntc.host={url}\n")
    monkeypatch.setenv("DOCKER_HOST", "unix:///somewhere/else.sock")
    assert [h.url for h in candidates()] == [url]


def test_a_docker_context_comes_before_the_sockets(places, tmp_path, monkeypatch):
    import json

    home, runtime_dir, listen = places
    podman = listen(runtime_dir / "podman" / "podman.sock")
    config = tmp_path / "docker-config"
    (config / "contexts" / "meta" / "abc").mkdir(parents=True)
    (config / "config.json").write_text(json.dumps({"currentContext": "colima"}))
    (config / "contexts" / "meta" / "abc" / "meta.json").write_text(json.dumps(
        {"Name": "colima", "Endpoints": {"docker": {"Host": "unix:///x/.colima/default/docker.sock"}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    hosts = candidates()
    assert (hosts[0].url, hosts[0].kind, hosts[0].source) == (
        "unix:///x/.colima/default/docker.sock", "Colima", "docker context 'colima'")
    assert podman in [h.url for h in hosts]
