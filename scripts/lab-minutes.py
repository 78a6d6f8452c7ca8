"""How long each lab takes a learner: an estimate a teacher can rerun and argue with.

    python scripts/lab-minutes.py [LAB ...] [--json] [--calibrate] [--set LAB ...]

For each lab the estimate adds four parts, each printed so it can be checked:

  reading   words of the intro, every step's text, the first hint of every step (the tier a
            learner typically opens), "How this differs on AWS" and the outro, at READING_WPM
            words a minute (technical text, code blocks included);
  writing   the lines a learner writes, at MINUTES_PER_LINE (typing, looking up, running,
            fixing: debugging included). A line is a non-blank, non-comment line of the
            reference solution that is new or changed against what the learner had before:
            the starter file in workspace/ (or the previous step's reference version of the
            same file), plus the commands and SQL written out in the step's solution function
            in solutions.py (install_solution calls and docstrings excluded);
  steps     STEP_MINUTES per step: running `labrunner check`, reading its verdict, looking at
            the engine's state, one retry;
  waiting   the engines' cold start on the local runtime (ENGINE_START_SECONDS, measured
            with benchmarks/ready.py where cheap, else as the lab's text states it).

Image downloads on the Docker runtime are not in the estimate: docs/lab-images.md lists them.

READING_WPM and STEP_MINUTES are stated; MINUTES_PER_LINE is fitted to the walks issue 15
measured (CALIBRATION): --calibrate prints, for each walked lab, the rate that walk implies
and the least-squares rate over all of them. Change a constant only with a new walk. The
model has no term for how hard a line is to think of (a Gremlin traversal against a boto3
call): labs of dense query code are where it is least sure.

The table flags a lab whose lab.yaml `minutes` is more than 20 % off the estimate.
--set LAB ... writes the estimate, rounded to 5, into those labs' `minutes` lines (only the
named labs: their authors may be editing others); a lab walked in CALIBRATION keeps its
walk. tests/test_lab_minutes.py fails when a lab's `minutes` is more than 25 % below the
estimate.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
LABS = REPO / "labs"

READING_WPM = 180          # technical text with code, read to be acted on
MINUTES_PER_LINE = 0.27    # least-squares fit over CALIBRATION (--calibrate), not a typing speed
STEP_MINUTES = 2.0         # check, verdict, a look at the engine, one retry
FLAG_OFF = 0.20            # the table flags |yaml - estimate| / estimate above this
TEST_BELOW = 0.25          # tests/test_lab_minutes.py fails below this

# Issue 15's walks, minutes a learner needed (one walk each, end to end).
CALIBRATION = {"dynamodb-basics": 50, "rds-postgres-basics": 60, "elasticache-sessions-leaderboards": 70}

# Cold start to ready on the local runtime, seconds per service. "measured": benchmarks/ready.py
# --runtime local --repeat 1 on the 2-core build machine, 2026-11-30; "stated": the lab's text
# or the service's notes. Docker adds about a second per container once the image is present.
ENGINE_START_SECONDS = {
    "dynamodb": (2, "measured 1.4 s"),
    "elasticache": (1, "measured 0.2 s"),
    "memorydb": (1, "stated"),
    "elasticache-cluster": (3, "measured 2.2 s"),
    "ethereum": (1, "measured 1.1 s"),
    "neptune-sparql": (1, "measured 0.1 s"),
    "neptune-gremlin": (4, "stated: 'about 3 seconds (4 on Docker)'; not measured here"),
    "documentdb": (4, "measured 3.5 s (SecantusDB)"),
    "postgres": (1, "measured 0.8 s"),
    "aurora-postgresql": (4, "measured 3.3 s (three servers and the supervisor)"),
    "mysql": (10, "stated: 'a few seconds'"),
    "mariadb": (5, "stated: 'a few seconds'"),
    "oracle": (60, "stated: 'well under a minute' after the first start"),
    "sqlserver": (30, "stated"),
}
DEFAULT_START = (10, "assumed")

COMMENT = re.compile(r"^\s*(#|--|//)")


@dataclass
class Estimate:
    lab: str
    steps: int
    words: int
    lines: int
    start_seconds: int
    reading: float
    writing: float
    stepping: float
    waiting: float
    estimate: float
    yaml_minutes: int

    @property
    def too_short(self) -> bool:
        """lab.yaml promises more than TEST_BELOW less time than the estimate."""
        return self.yaml_minutes < (1 - TEST_BELOW) * self.estimate

    @property
    def off(self) -> float:
        """How far lab.yaml is from the estimate, as a fraction of the estimate (negative: short)."""
        return (self.yaml_minutes - self.estimate) / self.estimate


def words(text: str) -> int:
    return len(text.split())


def code_lines(text: str) -> list[str]:
    """Non-blank, non-comment lines, stripped (so re-indenting is not writing)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not COMMENT.match(line)]


def new_lines(before: str, after: str) -> int:
    """Lines of `after` that are new or changed against `before`."""
    old, new = code_lines(before), code_lines(after)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return sum(j2 - j1 for tag, _, _, j1, j2 in matcher.get_opcodes() if tag in ("insert", "replace"))


def _docstring_lines(node: ast.FunctionDef) -> set[int]:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        return set(range(body[0].lineno, body[0].end_lineno + 1))
    return set()


def _is_install(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr == "install_solution"


def _installs(fn: ast.FunctionDef, functions: dict, lab_dir: Path, args: tuple[str, ...] = (),
              seen: frozenset = frozenset()) -> list[tuple[str, str]]:
    """(workspace file, solutions/ file) pairs this function installs, in call order, following
    calls to other functions of solutions.py (a helper's f-string name is completed with the
    string arguments the step passed to it)."""
    found = []
    for node in sorted((n for n in ast.walk(fn) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset)):
        if _is_install(node) and node.args:
            name = node.args[0]
            source = next((k.value for k in node.keywords if k.arg == "source"), None)
            src = source.value if isinstance(source, ast.Constant) else None
            if isinstance(name, ast.Constant):
                found.append((name.value, src or name.value))
            elif isinstance(name, ast.JoinedStr):
                prefix = "".join(v.value for v in name.values if isinstance(v, ast.Constant))
                for arg in args:
                    if (lab_dir / "solutions" / (prefix + arg)).is_file():
                        found.append((prefix + arg, prefix + arg))
        elif isinstance(node.func, ast.Name) and node.func.id in functions and node.func.id not in seen:
            passed = tuple(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
            found += _installs(functions[node.func.id], functions, lab_dir, passed, seen | {node.func.id})
    return found


def _typed_lines(fn: ast.FunctionDef, source: list[str]) -> int:
    """Lines of a step's solution function a learner would type as commands (SQL, CLI calls):
    its body without docstring, comments and install_solution calls."""
    skip = _docstring_lines(fn)
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and _is_install(node):
            skip |= set(range(node.lineno, node.end_lineno + 1))
    body = range(fn.body[0].lineno, fn.end_lineno + 1)
    return sum(1 for n in body if n not in skip and source[n - 1].strip() and not COMMENT.match(source[n - 1]))


SHARED = re.compile(r"""export\(\s*["'](\w+)["']\s*,\s*["']SOLUTIONS["']""")


def _modules(lab_dir: Path) -> list[Path]:
    """solutions.py and the labs/_shared modules whose SOLUTIONS it exports."""
    path = lab_dir / "solutions.py"
    shared = SHARED.findall(path.read_text(encoding="utf-8"))
    return [path] + [lab_dir.parent / "_shared" / f"{name}.py" for name in shared]


def written_lines(lab_dir: Path, steps: list[dict]) -> list[int]:
    """Per step, the lines a learner writes (see the module's docstring)."""
    functions, sources, constants = {}, {}, {}
    for path in _modules(lab_dir):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                functions[node.name] = node
                sources[node.name] = text.splitlines()
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = node.value.value
    current: dict[str, str] = {}
    per_step = []
    for step in steps:
        fn = functions.get(step.get("solution", ""))
        if fn is None:
            per_step.append(0)
            continue
        count = _typed_lines(fn, sources[fn.name])
        # SQL or commands kept in module constants the function uses (a schema, a query)
        used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id in constants}
        count += sum(len(code_lines(constants[name])) for name in used)
        for target, src in _installs(fn, functions, lab_dir):
            starter = lab_dir / "workspace" / target
            before = current.get(target, starter.read_text(encoding="utf-8") if starter.is_file() else "")
            after = (lab_dir / "solutions" / src).read_text(encoding="utf-8")
            count += new_lines(before, after)
            current[target] = after
        per_step.append(count)
    return per_step


def lab_ids(labs: Path = LABS) -> list[str]:
    return sorted(p.parent.name for p in labs.glob("*/lab.yaml"))


def raw(lab: str, labs: Path = LABS) -> dict:
    """What the estimate is made of, before the rates."""
    lab_dir = labs / lab
    data = yaml.safe_load((lab_dir / "lab.yaml").read_text(encoding="utf-8"))
    steps = data["steps"]
    texts = [data.get("intro", "intro.md"), data.get("differences", "differences.md"), data.get("outro", "outro.md")]
    total = sum(words((lab_dir / t).read_text(encoding="utf-8")) for t in texts if (lab_dir / t).is_file())
    for step in steps:
        total += words((lab_dir / step["text"]).read_text(encoding="utf-8"))
        hints = step.get("hints") or []
        total += words(hints[0]) if hints else 0
    start = sum(ENGINE_START_SECONDS.get(s, DEFAULT_START)[0] for s in data.get("services", []))
    return {"steps": len(steps), "words": total, "lines": sum(written_lines(lab_dir, steps)),
            "start_seconds": start, "yaml_minutes": int(data["minutes"])}


def estimate(lab: str, per_line: float = MINUTES_PER_LINE, labs: Path = LABS) -> Estimate:
    r = raw(lab, labs)
    reading = r["words"] / READING_WPM
    writing = r["lines"] * per_line
    stepping = r["steps"] * STEP_MINUTES
    waiting = r["start_seconds"] / 60
    return Estimate(lab=lab, steps=r["steps"], words=r["words"], lines=r["lines"], start_seconds=r["start_seconds"],
                    reading=reading, writing=writing, stepping=stepping, waiting=waiting,
                    estimate=reading + writing + stepping + waiting, yaml_minutes=r["yaml_minutes"])


def round5(minutes: float) -> int:
    return max(5, int(5 * round(minutes / 5)))


def chosen(lab: str) -> int:
    """The minutes --set writes: a measured walk where there is one (a measurement beats the
    model it calibrates), else the estimate rounded to 5."""
    return CALIBRATION.get(lab) or round5(estimate(lab).estimate)


def calibrate() -> str:
    """The minutes-per-line rate each walk implies, and the least-squares rate over all walks."""
    rows, num, den = [], 0.0, 0.0
    for lab, walked in CALIBRATION.items():
        e = estimate(lab, per_line=0.0)          # everything but the writing
        rest = walked - e.estimate
        rows.append(f"{lab:36} walked {walked:3} min; reading+steps+waiting {e.estimate:5.1f}; "
                    f"{e.lines:3} lines -> {rest / e.lines if e.lines else float('nan'):.2f} min/line")
        num, den = num + rest * e.lines, den + e.lines * e.lines
    rows.append(f"least-squares rate over the walks: {num / den:.2f} min/line (MINUTES_PER_LINE = {MINUTES_PER_LINE})")
    return "\n".join(rows)


def table(estimates: list[Estimate]) -> str:
    head = (f"{'lab':36} {'steps':>5} {'words':>6} {'lines':>5} {'read':>5} {'write':>5} {'steps':>5} "
            f"{'wait':>4} {'estimate':>8} {'yaml':>4} {'off':>5}")
    out = [head, "-" * len(head)]
    for e in estimates:
        flag = "  <-- more than 20 % off" if abs(e.off) > FLAG_OFF else ""
        flag += f"  (walked: {CALIBRATION[e.lab]})" if e.lab in CALIBRATION else ""
        out.append(f"{e.lab:36} {e.steps:5} {e.words:6} {e.lines:5} {e.reading:5.0f} {e.writing:5.0f} "
                   f"{e.stepping:5.0f} {e.waiting:4.1f} {e.estimate:8.0f} {e.yaml_minutes:4} {e.off:+5.0%}{flag}")
    out.append(f"reading at {READING_WPM} words/min; writing at {MINUTES_PER_LINE} min/line; "
               f"{STEP_MINUTES} min per step; waiting = engines' cold start (local runtime)")
    return "\n".join(out)


def set_minutes(lab: str, minutes: int) -> bool:
    """Rewrite the `minutes:` line of one lab.yaml; True when it changed."""
    path = LABS / lab / "lab.yaml"
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(r"(?m)^minutes: *\d+ *$", f"minutes: {minutes}", text, count=1)
    if n != 1:
        raise SystemExit(f"{path}: no 'minutes: N' line to set")
    path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*", help="labs to estimate (default: every lab)")
    parser.add_argument("--json", action="store_true", help="one JSON object per lab")
    parser.add_argument("--calibrate", action="store_true", help="the rate each walk in CALIBRATION implies")
    parser.add_argument("--set", nargs="+", metavar="LAB", help="write the rounded estimate into these labs' minutes")
    args = parser.parse_args(argv)
    known = lab_ids()
    for lab in args.labs + (args.set or []):
        if lab not in known:
            print(f"no lab {lab!r} in {LABS}; known: {', '.join(known)}", file=sys.stderr)
            return 2
    if args.calibrate:
        print(calibrate())
        return 0
    if args.set:
        for lab in args.set:
            minutes = chosen(lab)
            why = "walked" if lab in CALIBRATION else "estimate"
            print(f"{lab}: minutes {minutes} ({why})" + ("" if set_minutes(lab, minutes) else " (unchanged)"))
        return 0
    estimates = [estimate(lab) for lab in (args.labs or known)]
    if args.json:
        for e in estimates:
            print(json.dumps({**asdict(e), "rounded": round5(e.estimate), "off": round(e.off, 3)}))
    else:
        print(table(estimates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
