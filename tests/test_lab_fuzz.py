"""Fuzz the lab loader: a few hundred seeded mutations of the real labs' lab.yaml (byte flips,
truncation, type swaps, deletions, huge values, aliases, non-UTF-8 bytes) loaded through the
catalog (and, now and then, through its code and the static rules). Nothing but a LabError may
escape, and no load may take 2 s."""

import copy
import functools
import random
import shutil
import time
from pathlib import Path

import pytest
import yaml

from labrunner.errors import LabError
from labrunner.labs import catalog, rules
from labrunner.labs.loader import load_code

REPO = Path(__file__).resolve().parent.parent
SEED = 20261130
ROUNDS = 400

ODD_VALUES = [
    None, True, 0, -1, 10 ** 40, 1.5, float("nan"), float("inf"), -float("inf"), "", " ", "x" * 5000,
    "../../../etc/passwd", "/etc/passwd", "steps/../../x.md", "intro.md\0", "é" * 50, "{{ endpoint }}",
    [], [None], ["a"] * 200, {}, {"apply": "x"}, {"a": {"b": {"c": {"d": {}}}}}, "create-table\n",
    "__import__('os')", "not a name", "[/]", "[bold]x[/bold] [link=file:///etc/passwd]y", "a\nb", "\x1b[2J",
]


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    def ignore_aliases(self, data):
        return True


def _paths(value, prefix=()):
    """Every place in a parsed document: (path, value)."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, prefix + (i,))


def _set(doc, path, value):
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _delete(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    del doc[path[-1]]


@functools.lru_cache(maxsize=None)
def _parsed(text: str):
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _structural(rng, text: str) -> bytes:
    doc = copy.deepcopy(_parsed(text))
    places = [p for p, _ in _paths(doc) if p]
    path = rng.choice(places)
    kind = rng.choice(["swap", "swap", "delete", "duplicate", "huge", "mild", "mild"])
    if kind == "mild":                   # still loads, but may break a lab rule
        step = rng.choice(doc["steps"])
        change = rng.choice(["no-mistakes", "one-hint", "title", "reorder", "same-hints", "markup"])
        if change == "no-mistakes":
            step.pop("mistakes", None)
        elif change == "one-hint":
            step["hints"] = step["hints"][:1]
        elif change == "title":
            step["title"] += " (changed)"
        elif change == "markup":             # text that a renderer could take for markup
            doc["title"] += rng.choice([" [/]", " [bold]", " [link=x]y[/link]"])
        elif change == "reorder":
            rng.shuffle(doc["steps"])
        else:
            step["hints"] = [step["hints"][0]] * 3
    elif kind == "swap":
        _set(doc, path, rng.choice(ODD_VALUES))
    elif kind == "delete":
        _delete(doc, path)
    elif kind == "duplicate" and isinstance(doc.get("steps"), list) and doc["steps"]:
        doc["steps"].append(rng.choice(doc["steps"]))
    else:
        _set(doc, path, "word " * rng.choice([300, 20_000, 60_000]))
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True).encode("utf-8")


def _textual(rng, text: str) -> bytes:
    data = bytearray(text.encode("utf-8"))
    kind = rng.choice(["flip", "flip", "truncate", "alias", "bomb", "dupkey", "bytes", "nest", "line"])
    if kind == "flip":
        for _ in range(rng.randint(1, 12)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == "truncate":
        del data[rng.randrange(len(data)):]
    elif kind == "alias":
        data = data.replace(b"level: ", b"level: &x ", 1) + b"\nsummary: *x\n"
    elif kind == "bomb":
        lines = [b'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        lines += [b"a%d: &a%d [" % (i, i) + b",".join([b"*a%d" % (i - 1)] * 9) + b"]" for i in range(1, 10)]
        data = data.replace(b"summary:", b"\n".join(lines) + b"\nsummary: *a9\nxsummary:", 1)
    elif kind == "dupkey":
        data += b"\nid: another-id\n"
    elif kind == "bytes":
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(128, 256) for _ in range(rng.randint(1, 4)))
    elif kind == "nest":
        depth = rng.choice([20, 2000])
        data += b"\nobjectives: " + b"[" * depth + b"]" * depth + b"\n"
    else:
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        lines.insert(i, lines[rng.randrange(len(lines))])
        data = bytearray(b"\n".join(lines))
    return bytes(data)


@pytest.fixture(scope="module")
def seeds():
    return {p.parent.name: p.read_text(encoding="utf-8") for p in sorted((REPO / "labs").glob("*/lab.yaml"))}


def test_mutated_lab_files_fail_only_as_lab_errors_and_quickly(seeds, tmp_path, monkeypatch, cli):
    labs_dir = tmp_path / "fuzz-labs"
    for lab_id in seeds:
        shutil.copytree(REPO / "labs" / lab_id, labs_dir / lab_id, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("LABRUNNER_LABS_PATH", str(labs_dir))
    rng = random.Random(SEED)
    outcomes, slowest, started_all = {"loaded": 0, "refused": 0, "findings": 0}, 0.0, time.perf_counter()
    for round_no in range(ROUNDS):
        lab_id = rng.choice(sorted(seeds))
        mutate = _structural if rng.random() < 0.5 else _textual
        content = mutate(rng, seeds[lab_id])
        (labs_dir / lab_id / "lab.yaml").write_bytes(content)
        started, loaded = time.perf_counter(), False
        try:
            lab = catalog.get(lab_id, with_code=False)
            assert lab.source == str(labs_dir)
            for name in (lab.intro, lab.differences, lab.outro, *(s.text for s in lab.steps)):
                lab.read(name)
            if round_no % 10 == 0:                 # importing the code each round is slow; now and then
                load_code(lab)
            found = rules.check(lab.path, lab.source)      # the static rules take whatever loads, too
            assert all("\n" not in f.line() for f in found), [f.line() for f in found]
            outcomes["findings"] += len(found)
            outcomes["loaded"] += 1
            loaded = True
        except LabError as exc:
            message = exc.one_line()
            assert "\n" not in message and len(message) < 600, (round_no, message[:600])
            outcomes["refused"] += 1
        except Exception as exc:                   # the finding: show the file that caused it
            pytest.fail(f"round {round_no} ({lab_id}): {type(exc).__name__}: {exc!s:.300}\n"
                        f"lab.yaml was: {content[:2000]!r}")
        took = time.perf_counter() - started
        slowest = max(slowest, took)
        assert took < 2.0, f"round {round_no} ({lab_id}) took {took:.2f} s"
        if loaded or round_no % 10 == 0:          # `list` shows good and broken labs alike
            listing = cli("list")
            assert listing.code in (0, 1) and "internal error" not in listing.err, (round_no, listing)
    total = time.perf_counter() - started_all
    print(f"\nfuzz: {ROUNDS} mutated lab files, {outcomes['loaded']} loaded, {outcomes['refused']} refused, "
          f"{outcomes['findings']} rule findings in the loaded ones, slowest {slowest * 1000:.0f} ms, "
          f"total {total:.1f} s")
    assert outcomes["refused"] > ROUNDS // 4 and outcomes["loaded"] > 0      # the mutations did bite
