"""The engine cache against real registries (the npm registry as npm is configured here, PyPI
through pip): fetched once, verified, refetched when damaged, refused when the pin is wrong."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from labrunner import engine_cache
from labrunner.engine_cache import Artifact
from labrunner.errors import RuntimeUnavailable, ServiceError

IS_NUMBER = Artifact("npm", "is-number", "7.0.0",
                     "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==")
SIX = Artifact("pypi", "six", "1.16.0", "sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254",
               classifier="six-1.16.0-py2.py3-none-any.whl")


def npm_registry_or_skip() -> None:
    try:
        engine_cache.registry_url("npm")
    except RuntimeUnavailable:
        pytest.skip("no npm registry configured here (npm absent and LABRUNNER_NPM_REGISTRY unset)")


def test_an_npm_tarball_is_fetched_once_verified_and_unpacked(capsys):
    npm_registry_or_skip()
    seen = []
    path = engine_cache.fetch(IS_NUMBER, progress=lambda done, total: seen.append((done, total)))
    assert path.is_file() and path.name == "is-number-7.0.0.tgz"
    assert seen and seen[-1][0] == path.stat().st_size          # the progress callback saw every byte
    stamp = path.stat().st_mtime_ns
    assert engine_cache.fetch(IS_NUMBER) == path and path.stat().st_mtime_ns == stamp   # no second download
    folder = engine_cache.unpacked(IS_NUMBER)
    assert (folder / "package" / "package.json").is_file()
    assert [row for row in engine_cache.summary() if row["name"] == "is-number"][0]["bytes"] > path.stat().st_size


def test_a_damaged_cached_file_is_fetched_again():
    npm_registry_or_skip()
    path = engine_cache.fetch(IS_NUMBER)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])                      # a download cut short, a disk error
    assert engine_cache.fetch(IS_NUMBER).read_bytes() == good


def test_a_wrong_pin_is_refused_and_nothing_is_kept():
    npm_registry_or_skip()
    wrong = Artifact("npm", "is-number", "7.0.0", "sha256:" + "0" * 64)
    with pytest.raises(ServiceError, match="does not match its pinned checksum"):
        engine_cache.fetch(wrong)
    folder = engine_cache.location(wrong).parent
    assert not any(folder.glob("*")), list(folder.glob("*"))       # neither the file nor a .part


def test_a_missing_version_is_one_line():
    npm_registry_or_skip()
    with pytest.raises(ServiceError, match="answered 404"):
        engine_cache.fetch(Artifact("npm", "is-number", "999.0.0", "sha256:" + "0" * 64))


@pytest.mark.skipif(shutil.which("pip") is None and subprocess.run(["python3", "-m", "pip", "--version"],
                    capture_output=True).returncode != 0, reason="needs pip")
def test_a_wheel_is_fetched_by_pip_and_verified():
    path = engine_cache.fetch(SIX)
    assert path.name == SIX.classifier and path.stat().st_size > 10_000


def test_no_registry_known_says_what_to_set(monkeypatch):
    monkeypatch.delenv("LABRUNNER_MAVEN_REGISTRY", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")                     # no ~/.m2/settings.xml
    with pytest.raises(RuntimeUnavailable) as raised:
        engine_cache.registry_url("maven")
    assert "set LABRUNNER_MAVEN_REGISTRY" in raised.value.one_line()


def test_a_registry_setting_wins(monkeypatch):
    monkeypatch.setenv("LABRUNNER_NPM_REGISTRY", "file:///srv/class-mirror/npm/")
    assert engine_cache.registry_url("npm") == "file:///srv/class-mirror/npm"


def test_an_unsafe_tarball_is_not_unpacked(tmp_path, monkeypatch):
    import io
    import tarfile

    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        payload = b"outside"
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    archive = tmp_path / "evil-1.0.0.tgz"
    archive.write_bytes(data.getvalue())
    import base64
    import hashlib

    digest = "sha512-" + base64.b64encode(hashlib.sha512(archive.read_bytes()).digest()).decode()
    evil = Artifact("npm", "evil", "1.0.0", digest)
    monkeypatch.setenv("LABRUNNER_NPM_REGISTRY", "file://" + str(tmp_path / "registry"))
    target = tmp_path / "registry" / "evil" / "-" / "evil-1.0.0.tgz"
    target.parent.mkdir(parents=True)
    shutil.copy(archive, target)
    with pytest.raises(ServiceError, match="would land outside"):
        engine_cache.unpacked(evil)
    assert not (engine_cache.location(evil).parent.parent / "escaped.txt").exists()


def test_doctor_lists_what_is_cached_and_its_size(cli):
    npm_registry_or_skip()
    path = engine_cache.fetch(IS_NUMBER)
    items = {i["item"]: i for i in cli("doctor", "--json").json()["items"]}
    cache = items["engine cache"]
    assert "1 artifact(s)" in cache["detail"] and "is-number 7.0.0" in cache["detail"]
    assert cache["artifacts"][0]["bytes"] >= path.stat().st_size
