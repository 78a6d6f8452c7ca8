"""`labrunner prepare`: a class bundle made for real (images saved from Docker, wheels built by pip,
the labs), installed into a fresh virtual environment and a fresh LABRUNNER_HOME; a damaged bundle
refused before anything is installed; `--check`; and the acceptance test: in a network namespace
with no network at all, after `prepare --from`, dynamodb-basics runs and a check passes on the local
runtime and on Docker (a private Docker daemon inside the namespace, which starts with no image and
gets its image only from the bundle)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import REPO, docker_required

LAB = "dynamodb-basics"
TEACHER_LAB = "class-music"          # a teacher's own lab (--labs-dir), a copy of dynamodb-basics
PYTHON_BIN = Path(sys.executable).parent


def labrunner(*args: str, home: Path, fresh: bool = False, timeout: float = 900) -> subprocess.CompletedProcess:
    """`labrunner ARGS` in its own process; `fresh`: as on a machine with no labrunner settings
    (no LABRUNNER_IMAGE_* overrides, no mirror)."""
    environ = {k: v for k, v in os.environ.items() if not (fresh and k.startswith("LABRUNNER_"))}
    environ["LABRUNNER_HOME"] = str(home)
    environ.pop("LABRUNNER_WORKSPACES", None)
    return subprocess.run([sys.executable, "-m", "labrunner", *args], capture_output=True, text=True,
                          env=environ, timeout=timeout)


def _docker_up() -> bool:
    from labrunner.runtimes import docker

    docker.connect.cache_clear()
    return docker.available()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """`labrunner prepare --course module-7.txt --bundle course.tar` (dynamodb-basics and a teacher's
    lab), made once, with network."""
    root = tmp_path_factory.mktemp("course")
    teacher = root / "labs" / TEACHER_LAB
    shutil.copytree(REPO / "labs" / LAB, teacher, ignore=shutil.ignore_patterns("__pycache__"))
    lab_yaml = teacher / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text().replace(f"id: {LAB}", f"id: {TEACHER_LAB}", 1))
    target = root / "course.tar"
    course_file = root / "module-7.txt"
    course_file.write_text(f"# module 7, databases\n{LAB}   # the first lab\n\n{TEACHER_LAB}\n{LAB}\n")
    done = labrunner("--labs-dir", str(root / "labs"), "prepare", "--course", str(course_file),
                     "--bundle", str(target), home=root / "home")
    docker_up = _docker_up()
    if docker_up or docker_required():
        assert done.returncode == 0, done
    else:            # no Docker here: the bundle is made without images, and says so
        assert done.returncode == 1 and "no Docker here" in done.stdout, done
    assert target.is_file(), done
    return target


def manifest_of(bundle: Path) -> dict:
    with tarfile.open(bundle) as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def member_span(bundle: Path, name: str) -> tuple[int, int]:
    """Where a member's data starts in the file, and its size."""
    with tarfile.open(bundle) as tar:
        member = tar.getmember(name)
        return member.offset_data, member.size


def nothing_installed(home: Path, venv: Path) -> None:
    assert not venv.exists()
    assert not (home / "config.toml").exists()
    assert not (home / "data" / "labs").exists()
    assert not (home / "cache" / "engines").exists() or not any((home / "cache" / "engines").rglob("*.*"))


# ---- the bundle ------------------------------------------------------------------------------------

def test_the_bundle_lists_every_file_with_its_size_and_checksum(course):
    manifest = manifest_of(course)
    with tarfile.open(course) as tar:
        names = tar.getnames()
        sizes = {m.name: m.size for m in tar.getmembers()}
    assert names[:2] == ["manifest.json", "manifest.sha256"]          # read first when installing
    assert set(names[2:]) == set(manifest["files"])
    assert all(manifest["files"][n]["size"] == sizes[n] for n in names[2:])
    assert [lab["id"] for lab in manifest["labs"]] == [LAB, TEACHER_LAB]
    assert [lab["builtin"] for lab in manifest["labs"]] == [True, False]
    wheels = [n for n in names if n.startswith("wheels/")]
    from labrunner import __version__

    assert f"wheels/labrunner-{__version__}-py3-none-any.whl" in wheels
    for package in ("boto3", "moto", "click", "flask"):                # labrunner's and the local extra's
        assert any(n.split("/")[1].lower().startswith(package + "-") for n in wheels), package
    assert f"labs/{TEACHER_LAB}/lab.yaml" in names and f"labs/{LAB}/checks.py" in names
    assert manifest["labrunner"] == __version__
    if _docker_up():
        assert "images/images.tar" in names
        assert [row["service"] for row in manifest["images"]] == ["dynamodb"]


def test_a_bundle_round_trip_into_a_fresh_venv_and_home(course, tmp_path):
    """--from into a new venv and an empty LABRUNNER_HOME: labrunner and its engines installed from
    the bundle's wheels alone, the teacher's lab registered, the image named in the config file."""
    home, venv = tmp_path / "home", tmp_path / "venv"
    done = labrunner("prepare", "--from", str(course), "--venv", str(venv), home=home, fresh=True)
    assert done.returncode == 0, done
    assert "files match their checksums" in done.stdout
    bin_dir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("LABRUNNER_")}
    env["LABRUNNER_HOME"] = str(home)
    listed = subprocess.run([str(bin_dir / "labrunner"), "list", "--json"], capture_output=True, text=True,
                            env=env, timeout=120)
    ids = {lab["id"] for lab in json.loads(listed.stdout)["labs"] if not lab.get("error")}     # (exit 1 if
    # another lab in this tree is half-written: not this test's business)
    assert {LAB, TEACHER_LAB} <= ids
    assert (home / "data" / "labs" / TEACHER_LAB / "lab.yaml").is_file()
    moto = subprocess.run([str(bin_dir / "python"), "-c", "import moto, labrunner; print(moto.__version__, labrunner.__file__)"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert moto.returncode == 0 and moto.stdout.startswith("5.2.5 ") and str(venv) in moto.stdout, moto
    check = subprocess.run([str(bin_dir / "labrunner"), "prepare", "--check", TEACHER_LAB, "--json"],
                           capture_output=True, text=True, env=env, timeout=120)
    row = json.loads(check.stdout)["labs"][0]
    assert row["lab"] == TEACHER_LAB and row["local"]["ready"], check
    images = manifest_of(course)["images"]
    if images and images[0]["image"] != images[0]["default"]:          # an override image: named in the config
        assert f'dynamodb = "{images[0]["image"]}"' in (home / "config.toml").read_text()


@pytest.mark.parametrize("where", ["a wheel", "the images", "the manifest"])
def test_a_flipped_byte_is_refused_before_anything_is_installed(cli, course, tmp_path, labrunner_home, where):
    manifest = manifest_of(course)
    if where == "the images" and "images/images.tar" not in manifest["files"]:
        pytest.skip("the bundle holds no images (no Docker where it was made)")
    name = {"a wheel": next(n for n in manifest["files"] if n.startswith("wheels/labrunner-")),
            "the images": "images/images.tar", "the manifest": "manifest.json"}[where]
    damaged = tmp_path / "course.tar"
    shutil.copyfile(course, damaged)
    start, size = member_span(damaged, name)
    with open(damaged, "r+b") as fh:
        fh.seek(start + size // 2)
        byte = fh.read(1)
        fh.seek(start + size // 2)
        fh.write(bytes([byte[0] ^ 0x01]))
    venv = tmp_path / "venv"
    result = cli("prepare", "--from", str(damaged), "--venv", str(venv))
    assert result.code == 4, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and f"{name} does not match its checksum" in lines[0], result
    assert "nothing was installed" in lines[0] and "Traceback" not in result.err
    nothing_installed(labrunner_home, venv)


def test_a_truncated_bundle_is_refused_naming_the_file_cut_short(cli, course, tmp_path, labrunner_home):
    manifest = manifest_of(course)
    name = max(manifest["files"], key=lambda n: manifest["files"][n]["size"])      # the biggest member
    start, size = member_span(course, name)
    cut = tmp_path / "course.tar"
    with open(course, "rb") as src, open(cut, "wb") as out:
        shutil.copyfileobj(src, out)
        out.truncate(start + size // 3)
    venv = tmp_path / "venv"
    result = cli("prepare", "--from", str(cut), "--venv", str(venv))
    assert result.code == 4, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and f"{name} is cut short" in lines[0] and "nothing was installed" in lines[0], result
    nothing_installed(labrunner_home, venv)


def test_a_damaged_header_is_refused_naming_the_file_it_hides(cli, course, tmp_path, labrunner_home):
    """A flipped byte in a member's tar header: tar readers then stop there; the member is named missing."""
    manifest = manifest_of(course)
    name = next(n for n in manifest["files"] if n.startswith("labs/"))
    damaged = tmp_path / "course.tar"
    shutil.copyfile(course, damaged)
    with tarfile.open(damaged) as tar:
        header = tar.getmember(name).offset
    with open(damaged, "r+b") as fh:
        fh.seek(header + 10)                       # inside the member's name field
        byte = fh.read(1)
        fh.seek(header + 10)
        fh.write(bytes([byte[0] ^ 0x20]))
    result = cli("prepare", "--from", str(damaged))
    assert result.code == 4, result
    assert f"{name} is missing or its header is damaged" in result.err and "nothing was installed" in result.err
    nothing_installed(labrunner_home, tmp_path / "no-venv")


def test_a_bundle_for_another_python_is_refused_before_anything_is_installed(cli, course, tmp_path, labrunner_home):
    """The manifest (and its checksum) rewritten to say another Python: refused, nothing installed."""
    import hashlib
    import io

    other = tmp_path / "course.tar"
    with tarfile.open(course) as src, tarfile.open(other, "w", format=tarfile.PAX_FORMAT) as out:
        for member in src:
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["python"] = "cp27-os2-m68k"
                data = json.dumps(manifest).encode()
                text_sum = hashlib.sha256(data).hexdigest().encode()
            elif member.name == "manifest.sha256":
                data = text_sum
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    result = cli("prepare", "--from", str(other))
    assert result.code == 4, result
    assert "holds wheels for cp27-os2-m68k" in result.err and "nothing was installed" in result.err
    nothing_installed(labrunner_home, tmp_path / "no-venv")


def test_a_compressed_bundle_verifies_and_a_damaged_one_is_refused(cli, tmp_path, labrunner_home):
    """A bundle named .tar.gz is gzip (one stream): read back whole; a flipped byte in it is refused."""
    from labrunner import bundle, offline
    from labrunner.labs import catalog

    entries = [bundle.Entry(path, name) for path, name in offline.lab_files(catalog.get(LAB, with_code=False))]
    target = tmp_path / "course.tar.gz"
    written = bundle.write(target, entries, {"labrunner": "0", "python": offline.python_tag(), "labs": [],
                                             "images": []}, compress=True)
    assert target.read_bytes()[:2] == b"\x1f\x8b"
    assert bundle.verify(target)["files"] == written["files"]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    result = cli("prepare", "--from", str(target))
    assert result.code == 4 and len(result.err.strip().splitlines()) == 1, result
    assert "labrunner: course.tar.gz is damaged: " in result.err and "nothing was installed" in result.err
    nothing_installed(labrunner_home, tmp_path / "no-venv")


def test_a_gzip_bundle_altered_where_no_member_is_hashed_is_refused(tmp_path):
    """A change that decompresses to a valid tar (here: in the zero padding after the last member,
    which no sha256 covers) still breaks the gzip stream's CRC; tarfile alone never checks it."""
    import gzip

    from labrunner import bundle

    good = tmp_path / "good.tar.gz"
    bundle.write(good, [], {"labrunner": "0", "python": "x", "labs": [], "images": []}, compress=True)
    raw = bytearray(gzip.decompress(good.read_bytes()))
    raw[-1] = 0x01                                          # the tar's last padding byte
    altered = tmp_path / "course.tar.gz"
    crc_of_good = good.read_bytes()[-8:]                    # the original CRC and length, kept
    altered.write_bytes(gzip.compress(bytes(raw), mtime=0)[:-8] + crc_of_good)
    with pytest.raises(bundle.BundleDamaged) as caught:
        bundle.verify(altered)
    assert "course.tar.gz is damaged" in caught.value.one_line()


# ---- --check -------------------------------------------------------------------------------------

def test_check_names_engine_files_not_cached(cli, monkeypatch):
    """A fresh LABRUNNER_HOME has no Gremlin Server jars: neptune-gremlin is not ready locally."""
    monkeypatch.delenv("GREMLIN_SERVER_HOME", raising=False)
    result = cli("prepare", "--check", "neptune-gremlin", "--json")
    row = result.json()["labs"][0]
    assert row["lab"] == "neptune-gremlin" and not row["local"]["ready"]
    assert "39 of 39 engine files not cached" in row["local"]["detail"]


def test_check_reports_a_lab_missing_its_image_as_not_ready(cli, docker_runtime, monkeypatch):
    from labrunner import config, services

    image = config.resolve_image("dynamodb", services.get("dynamodb").image)
    if not docker_runtime.client.images.list(name=image):
        pytest.skip(f"{image} is not on this machine (source images/overrides.env)")
    ready = cli("prepare", "--check", LAB)
    assert ready.code == 0 and "docker: ready (images present)" in ready.out, ready
    monkeypatch.setenv("LABRUNNER_IMAGE_DYNAMODB", "labrunner-local/no-such-image:0")
    missing = cli("prepare", "--check", LAB)
    assert f"{LAB}  docker: not ready (image labrunner-local/no-such-image:0 not present)" in missing.out, missing
    assert len(missing.out.strip().splitlines()) == 1


def test_check_names_the_image_behind_a_registry_mirror(cli, docker_runtime, monkeypatch):
    """With no override, the image a class mirror serves is the one looked for (and pulled by prepare)."""
    monkeypatch.delenv("LABRUNNER_IMAGE_DYNAMODB", raising=False)
    monkeypatch.setenv("LABRUNNER_REGISTRY_MIRROR", "mirror.invalid:5000")
    from labrunner import services

    result = cli("prepare", "--check", LAB)
    assert f"image mirror.invalid:5000/{services.get('dynamodb').image} not present" in result.out, result


def test_prepare_usage_errors_are_one_line(cli, tmp_path):
    course_file = tmp_path / "course.txt"
    course_file.write_text("# module 7\n\n")
    for args, text in ((("prepare",), "name the labs to prepare"),
                       (("prepare", "--course", str(course_file)), "names no lab"),
                       (("prepare", "dynamodb-basic"), "did you mean 'dynamodb-basics'"),
                       (("prepare", "--from", str(tmp_path / "none.tar")), "no bundle at"),
                       (("prepare", "--venv", str(tmp_path)), "--venv goes with --from")):
        result = cli(*args)
        assert result.code == 4 and text in result.err and len(result.err.strip().splitlines()) == 1, (args, result)


# ---- the acceptance test: no network at all ----------------------------------------------------------

def _netns_or_skip(need_dockerd: bool = False) -> None:
    why = None
    if os.geteuid() != 0:
        why = "needs root (unshare -n)"
    elif not shutil.which("unshare") or not shutil.which("ip"):
        why = "needs unshare and ip (util-linux, iproute2)"
    elif need_dockerd and not shutil.which("dockerd"):
        why = "needs dockerd to start a private Docker daemon in the namespace"
    elif subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        why = "unshare -n is not permitted here"
    if why:
        if docker_required():
            pytest.fail(f"LABRUNNER_REQUIRE_DOCKER=1 but the no-network test cannot run: {why}")
        pytest.skip(why)


NO_NETWORK = """
set -u
ip link set lo up
python3 - <<'PY' || exit 90
import socket
try:
    socket.create_connection(("192.0.2.1", 443), timeout=3)
except OSError as exc:
    print("no network:", exc)
else:
    raise SystemExit("this namespace reaches the network")
PY
test "$(ip -o link | wc -l)" = 1 || { echo "a link other than lo"; exit 91; }
"""

LOCAL_RUN = r"""
labrunner prepare --check dynamodb-basics > "$OUT/check.txt" || exit 9
labrunner run dynamodb-basics --runtime local --no-input || exit 10
labrunner check; test $? = 1 || exit 11                    # nothing done yet: the check fails
eval "$(labrunner env)"
python -c "
import boto3
boto3.client('dynamodb').create_table(TableName='Music', BillingMode='PAY_PER_REQUEST',
    AttributeDefinitions=[{'AttributeName': 'Artist', 'AttributeType': 'S'},
                          {'AttributeName': 'SongTitle', 'AttributeType': 'S'}],
    KeySchema=[{'AttributeName': 'Artist', 'KeyType': 'HASH'},
               {'AttributeName': 'SongTitle', 'KeyType': 'RANGE'}])" || exit 12
labrunner check || exit 13                                 # the learner's own table passes
labrunner status --json > "$OUT/status-local.json"
labrunner down --all --wipe || exit 14
"""

DOCKER_RUN = r"""
D=$(mktemp -d /tmp/lrdk.XXXX)
dockerd --data-root "$D/data" --exec-root "$D/x" -H "unix://$D/s" --pidfile "$D/pid" \
  --iptables=false --ip-masq=false >"$OUT/dockerd.log" 2>&1 &
DOCKERD=$!
stop_dockerd() { kill "$DOCKERD" 2>/dev/null; wait "$DOCKERD" 2>/dev/null; rm -rf "$D"; }
trap stop_dockerd EXIT
export DOCKER_HOST="unix://$D/s"
for i in $(seq 120); do python -c "import docker; docker.from_env().ping()" 2>/dev/null && break; sleep 0.5; done
python -c "import docker; assert not docker.from_env().images.list(), 'the private daemon has images'" || exit 20
"""

DOCKER_AFTER = r"""
labrunner prepare --check dynamodb-basics > "$OUT/check.txt" || exit 19
python -c "
import docker, json, sys
tags = [t for i in docker.from_env().images.list() for t in i.tags]
json.dump(tags, open(sys.argv[1], 'w'))" "$OUT/images.json" || exit 21
labrunner run dynamodb-basics --runtime docker --no-input || exit 22
labrunner check; test $? = 1 || exit 23
eval "$(labrunner env)"
python -c "
import boto3
boto3.client('dynamodb').create_table(TableName='Music', BillingMode='PAY_PER_REQUEST',
    AttributeDefinitions=[{'AttributeName': 'Artist', 'AttributeType': 'S'},
                          {'AttributeName': 'SongTitle', 'AttributeType': 'S'}],
    KeySchema=[{'AttributeName': 'Artist', 'KeyType': 'HASH'},
               {'AttributeName': 'SongTitle', 'KeyType': 'RANGE'}])" || exit 24
labrunner check || exit 25
labrunner status --json > "$OUT/status-docker.json"
labrunner down --all --wipe || exit 26
"""


def _in_empty_netns(script: str, tmp_path: Path, course: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """Run `script` under `unshare -n` with a fresh venv path and a fresh LABRUNNER_HOME; the
    labrunner on PATH is the venv's, made by `prepare --from` inside the namespace."""
    out = tmp_path / "out"
    out.mkdir()
    venv, home = tmp_path / "venv", tmp_path / "home"
    install = (f'"{sys.executable}" -m labrunner prepare --from "{course}" --venv "{venv}" || exit 5\n'
               f'export PATH="{venv}/bin:$PATH"\n'
               f'test "$(command -v labrunner)" = "{venv}/bin/labrunner" || exit 6\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABRUNNER_", "DOCKER_", "TESTCONTAINERS_", "VIRTUAL_ENV"))}
    (tmp_path / "user").mkdir()
    env.update(LABRUNNER_HOME=str(home), HOME=str(tmp_path / "user"), OUT=str(out), PATH=f"{PYTHON_BIN}:{os.environ['PATH']}",
               NO_COLOR="1", COLUMNS="120")
    full = NO_NETWORK + script.replace("@INSTALL@", install)
    done = subprocess.run(["unshare", "-n", "bash", "-c", full], capture_output=True, text=True, env=env,
                          timeout=1200)
    return done, out


@pytest.mark.local
def test_no_network_local_runtime_after_prepare_from(course, tmp_path):
    _netns_or_skip()
    done, out = _in_empty_netns("@INSTALL@" + LOCAL_RUN, tmp_path, course)
    assert done.returncode == 0, done
    assert "no network:" in done.stdout
    status = json.loads((out / "status-local.json").read_text())["labs"][0]
    assert status["lab"] == LAB and status["steps"][0]["done"] and not status["steps"][0]["solved_by_solution"]
    assert status["runtime"] == "local"
    assert "local: ready" in (out / "check.txt").read_text()


@pytest.mark.docker
def test_no_network_docker_runtime_after_prepare_from(course, tmp_path):
    """A private dockerd inside the namespace (its own data root, exec root and socket; its bridge
    lives in the namespace, without iptables rules: ports are published by its userland proxy on the
    namespace's 127.0.0.1). It starts with no image; the image comes from the bundle."""
    _netns_or_skip(need_dockerd=True)
    images = manifest_of(course)["images"]
    if not images:
        if docker_required():
            pytest.fail("LABRUNNER_REQUIRE_DOCKER=1 but the bundle was made without images")
        pytest.skip("the bundle holds no images (no Docker where it was made)")
    done, out = _in_empty_netns(DOCKER_RUN + "@INSTALL@" + DOCKER_AFTER, tmp_path, course)
    log = (out / "dockerd.log").read_text() if (out / "dockerd.log").exists() else ""
    assert done.returncode == 0, (done, log[-3000:])
    assert images[0]["image"] in json.loads((out / "images.json").read_text())
    status = json.loads((out / "status-docker.json").read_text())["labs"][0]
    assert status["lab"] == LAB and status["steps"][0]["done"] and not status["steps"][0]["solved_by_solution"]
    assert status["runtime"] == "docker"
    assert "docker: ready (images present)" in (out / "check.txt").read_text()
    if images[0]["image"] != images[0]["default"]:      # an override: found through the config `--from` wrote
        assert "from the config file's [images]" in status["services"][0]["standin"]
    assert "images: loaded" in done.stdout
