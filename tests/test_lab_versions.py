"""A lab's text names the engine versions its stand-ins run, or says that it speaks of AWS.

Every "<engine> <version>" in a lab's texts (intro, steps, differences, outro, lab.yaml) for an engine
the lab runs must be a version its service runs (the pinned image's tag, or the local runtime's
engine), unless the paragraph is about AWS (names AWS, RDS, ElastiCache, MemoryDB, Aurora, Amazon,
Extended Support) or says the version differs or cannot be tried here. A lab that tells a learner
"this is PostgreSQL 16" while PostgreSQL 18 runs fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from labrunner import services

REPO = Path(__file__).resolve().parent.parent
FAMILY = {"postgres": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB", "elasticache": "Valkey",
          "memorydb": "Valkey", "sqlserver": "SQL Server", "aurora-postgresql": "PostgreSQL",
          "elasticache-cluster": "Valkey", "documentdb": "MongoDB", "neptune-gremlin": "Gremlin Server",
          "neptune-sparql": "Oxigraph", "ethereum": "anvil", "aurora-mysql": "MariaDB", "rds-postgres-multiaz": "PostgreSQL"}
# What the local runtime runs where it differs from the image: Debian's MariaDB (bookworm) for both
# the MySQL and MariaDB labs; the wheels' PostgreSQL and Valkey are the images' versions (images/build.sh
# checks the stand-in images against those pins).
LOCAL = {"mariadb": ["10.11"]}
ABOUT_AWS = re.compile(r"\b(AWS|RDS|ElastiCache|MemoryDB|Aurora|Amazon|differs?|cannot be tried here|"
                       r"Extended Support)\b")


def versions_run(service: str) -> list[str]:
    tag = services.get(service).image.rsplit(":", 1)[-1]
    return [tag.split("-")[0].removeprefix("v")] + LOCAL.get(service, [])


def stray_versions(texts: list[tuple[str, str]], service: str) -> list[str]:
    family, runs = FAMILY[service], versions_run(service)
    found = []
    for where, text in texts:
        for paragraph in re.split(r"\n\s*\n", text):
            if ABOUT_AWS.search(paragraph):
                continue
            for match in re.finditer(rf"\b{family} (\d+(?:\.\d+)*)\b", paragraph):
                version = match.group(1)
                if not any(run == version or run.startswith(version + ".") for run in runs):
                    found.append(f"{where}: '{match.group(0)}' but the {service} stand-in runs {', '.join(runs)}")
    return found


def lab_texts(lab_dir: Path) -> list[tuple[str, str]]:
    paths = [lab_dir / name for name in ("intro.md", "outro.md", "differences.md") if (lab_dir / name).exists()]
    paths += sorted((lab_dir / "steps").glob("*.md")) + [lab_dir / "lab.yaml"]
    return [(str(p.relative_to(REPO)), p.read_text(encoding="utf-8")) for p in paths]


LABS = sorted(p.parent for p in (REPO / "labs").glob("*/lab.yaml"))


@pytest.mark.parametrize("lab_dir", LABS, ids=[p.name for p in LABS])
def test_lab_names_only_the_versions_its_stand_ins_run(lab_dir):
    raw = yaml.safe_load((lab_dir / "lab.yaml").read_text(encoding="utf-8"))
    problems = [p for s in raw["services"] if s in FAMILY for p in stray_versions(lab_texts(lab_dir), s)]
    assert problems == []


def test_a_wrong_version_is_found_and_an_aws_paragraph_is_not():
    texts = [("intro.md", "You are connected to PostgreSQL 16 on your laptop.\n\n"
                          "RDS for PostgreSQL offers 13 to 18; PostgreSQL 17 is one of them.")]
    assert stray_versions(texts, "postgres") == [
        "intro.md: 'PostgreSQL 16' but the postgres stand-in runs 18.6"]
    assert stray_versions([("x.md", "This is PostgreSQL 18, release 18.6.")], "postgres") == []
    assert stray_versions([("x.md", "Locally MariaDB 10.11 answers.")], "mariadb") == []
    assert stray_versions([("x.md", "The chain is anvil 1.6.0.")], "ethereum") == [
        "x.md: 'anvil 1.6.0' but the ethereum stand-in runs 1.7.1"]
    assert stray_versions([("x.md", "Here MongoDB 7.0 answers.")], "documentdb") == [
        "x.md: 'MongoDB 7.0' but the documentdb stand-in runs 8.0.17"]
