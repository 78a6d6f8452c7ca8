"""A lab's files cannot hurt: it reads only inside its own folder, its Python cannot end labrunner
at import, and a malformed lab.yaml is refused quickly in one line (and does not break `list`)."""

import os
import re
import time

import pytest
import yaml

from labrunner.errors import LabError
from labrunner.labs.loader import load_code, parse_lab


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):          # write repeated values out: lab files refuse aliases
        return True


def edit(lab_dir, change):
    data = yaml.safe_load((lab_dir / "lab.yaml").read_text())
    change(data)
    (lab_dir / "lab.yaml").write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False))


def error_of(lab_dir, with_code=False) -> str:
    with pytest.raises(LabError) as info:
        lab = parse_lab(lab_dir)
        if with_code:
            load_code(lab)
    message = info.value.one_line()
    assert "\n" not in message
    return message


# --- 1. every file a lab names is inside its own folder ---------------------------------------

def test_an_absolute_path_is_refused(lab_copy):
    lab_dir = lab_copy()
    edit(lab_dir, lambda d: d.__setitem__("differences", "/etc/passwd"))
    message = error_of(lab_dir)
    assert message.startswith("labs/dynamodb-basics/lab.yaml: differences: '/etc/passwd' is an absolute path")


def test_a_path_up_and_out_is_refused(lab_copy, tmp_path):
    lab_dir = lab_copy()
    (tmp_path / "x.md").write_text("# not the lab's\n")
    edit(lab_dir, lambda d: d["steps"][0].__setitem__("text", "../../x.md"))
    message = error_of(lab_dir)
    assert "lab.yaml: steps[0].text: '../../x.md' leads outside the lab folder" in message


def test_a_symlink_leading_out_is_refused(lab_copy, tmp_path):
    lab_dir = lab_copy()
    (tmp_path / "secret.md").write_text("# a file of someone else's\n")
    text = lab_dir / "steps" / "01-create-table.md"
    text.unlink()
    text.symlink_to(tmp_path / "secret.md")
    assert "steps[0].text: 'steps/01-create-table.md' leads outside the lab folder" in error_of(lab_dir)


def test_a_symlink_in_the_workspace_leading_out_is_refused(lab_copy, tmp_path):
    """Starter files are copied into the learner's folder: a link out would copy someone's file."""
    lab_dir = lab_copy()
    (tmp_path / "secret.txt").write_text("not the lab's")
    (lab_dir / "workspace" / "notes.txt").symlink_to(tmp_path / "secret.txt")
    message = error_of(lab_dir)
    assert "labs/dynamodb-basics/workspace/notes.txt is a symlink that leads outside the lab folder" in message


def test_a_symlink_that_stays_inside_is_fine(lab_copy):
    lab_dir = lab_copy()
    (lab_dir / "about.md").symlink_to(lab_dir / "intro.md")
    edit(lab_dir, lambda d: d.__setitem__("intro", "about.md"))
    assert parse_lab(lab_dir).intro == "about.md"


def test_lab_read_refuses_a_path_outside_the_lab(lab_copy, tmp_path):
    lab = parse_lab(lab_copy())
    (tmp_path / "x.md").write_text("outside")
    for bad in ("../../x.md", "/etc/passwd", str(tmp_path / "x.md")):
        with pytest.raises(LabError) as info:
            lab.read(bad)
        assert "labs/dynamodb-basics/lab.yaml" in info.value.one_line()
    assert lab.read("intro.md").strip()


def test_show_does_not_print_a_file_outside_the_lab(cli, lab_copy, tmp_path):
    lab_dir = lab_copy()
    (tmp_path / "private.md").write_text("PRIVATE-CONTENT\n")
    edit(lab_dir, lambda d: d.__setitem__("differences", str(tmp_path / "private.md")))
    result = cli("--labs-dir", str(lab_dir.parent), "show", "dynamodb-basics")
    assert result.code == 4, result
    assert "PRIVATE-CONTENT" not in result.out + result.err
    assert result.err.count("\n") == 1 and "differences:" in result.err


# --- 2. a lab's Python cannot end labrunner at import -------------------------------------------

def test_sys_exit_at_import_is_a_lab_error_naming_file_and_line(lab_copy):
    lab_dir = lab_copy()
    checks = lab_dir / "checks.py"
    checks.write_text("import sys\n\nsys.exit(7)\n" + checks.read_text())
    message = error_of(lab_dir, with_code=True)
    assert message.startswith("labs/dynamodb-basics/checks.py line 3 called sys.exit(7) at import")


def test_raise_systemexit_in_mistakes_is_a_lab_error(lab_copy):
    lab_dir = lab_copy()
    (lab_dir / "mistakes.py").write_text("def helper():\n    raise SystemExit\n\n\nhelper()\n")
    message = error_of(lab_dir, with_code=True)
    assert message.startswith("labs/dynamodb-basics/mistakes.py line 2 raised SystemExit at import")


def test_sys_exit_in_a_shared_module_names_the_shared_file(lab_copy):
    lab_dir = lab_copy()
    shared = lab_dir.parent / "_shared"
    shared.mkdir()
    (shared / "boom.py").write_text("import sys\nCHECKS = []\nsys.exit(3)\n")
    (lab_dir / "solutions.py").write_text(
        "from labrunner.labs.shared import export\n" + (lab_dir / "solutions.py").read_text()
        + "\nexport('boom', 'CHECKS', globals(), __file__)\n")
    message = error_of(lab_dir, with_code=True)
    assert message.startswith("labs/_shared/boom.py line 3 called sys.exit(3) at import")


def test_an_exception_at_import_names_the_line(lab_copy):
    lab_dir = lab_copy()
    checks = lab_dir / "checks.py"
    checks.write_text("x = 1\ny = x / 0\n" + checks.read_text())
    message = error_of(lab_dir, with_code=True)
    assert message.startswith("labs/dynamodb-basics/checks.py line 2: fails on import: ZeroDivisionError")


def test_labrunner_exits_4_with_one_line_not_7(cli, lab_copy):
    """Through the command line: `test` loads the lab's code before it starts any engine."""
    lab_dir = lab_copy()
    checks = lab_dir / "checks.py"
    checks.write_text("import sys\n\nsys.exit(7)\n" + checks.read_text())
    result = cli("--labs-dir", str(lab_dir.parent), "test", "dynamodb-basics", "--runtime", "local")
    assert result.code == 4, result
    assert result.err.startswith("labrunner: labs/dynamodb-basics/checks.py line 3 called sys.exit(7) at import")
    assert result.err.count("\n") == 1


def test_os_exit_at_import_is_a_lab_error_too(lab_copy):
    """os._exit cannot be caught; while a lab file is imported it raises instead. In a separate
    process: if the guard failed, it would end the test runner itself."""
    import subprocess
    import sys
    from pathlib import Path

    lab_dir = lab_copy()
    checks = lab_dir / "checks.py"
    checks.write_text("import os\n\nos._exit(9)\n" + checks.read_text())
    done = subprocess.run([str(Path(sys.executable).parent / "labrunner"), "--labs-dir", str(lab_dir.parent),
                           "test", "--static", "dynamodb-basics"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 9, done
    assert "labs/dynamodb-basics/checks.py line 3 called os._exit(9) at import" in done.stdout + done.stderr, done


# --- 3. malformed lab.yaml: refused, fast, in one line ----------------------------------------

ALIAS_BOMB = """format_version: 1
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
id: dynamodb-basics
summary: *i
"""


def test_an_alias_bomb_fails_fast_in_a_short_line(lab_copy):
    lab_dir = lab_copy()
    (lab_dir / "lab.yaml").write_text(ALIAS_BOMB)
    started = time.perf_counter()
    message = error_of(lab_dir)
    assert time.perf_counter() - started < 1.0
    assert len(message) < 300 and "lol" not in message
    assert "lab.yaml: line 2: not valid YAML: an anchor (&a) is not allowed" in message


def test_an_alias_is_refused(lab_copy):
    lab_dir = lab_copy()
    text = (lab_dir / "lab.yaml").read_text()
    text = re.sub(r"(?m)^level: ", "level: &lvl ", text, count=1)
    (lab_dir / "lab.yaml").write_text(text)
    assert "an anchor (&lvl) is not allowed" in error_of(lab_dir)


def test_a_duplicate_key_is_refused(lab_copy):
    lab_dir = lab_copy()
    text = (lab_dir / "lab.yaml").read_text()
    (lab_dir / "lab.yaml").write_text(re.sub(r"(?m)^(level: .*)$", "\\1\ntitle: Another", text, count=1))
    message = error_of(lab_dir)
    assert "lab.yaml: line" in message and "duplicate key 'title'" in message


def test_a_lab_yaml_not_in_utf8_names_the_file(lab_copy):
    lab_dir = lab_copy()
    text = (lab_dir / "lab.yaml").read_text()
    (lab_dir / "lab.yaml").write_bytes(text.encode("utf-8") + "# \xe9t\xe9\n".encode("latin-1"))
    message = error_of(lab_dir)
    assert message.startswith("labs/dynamodb-basics/lab.yaml: not UTF-8 text (byte 0xe9")
    assert "save the file as UTF-8" in message


def test_a_step_text_not_in_utf8_names_the_file(lab_copy):
    lab_dir = lab_copy()
    (lab_dir / "steps" / "02-load-items.md").write_bytes(b"# Step 2\n\xff\xfe caf\xe9\n")
    assert error_of(lab_dir).startswith("labs/dynamodb-basics/steps/02-load-items.md: not UTF-8 text")


@pytest.mark.parametrize("value, expected", [
    (-1, "-1 seconds is outside 0..600"),
    (0, "0 seconds is outside 0..600"),
    (float("nan"), "nan seconds is outside"),
    (float("inf"), "inf seconds is outside"),
    (10 ** 30, "seconds is outside 0..600"),
    (True, "expected a number, found bool"),
    ("20", "expected a number, found text"),
])
def test_a_timeout_out_of_range_is_refused(lab_copy, value, expected):
    lab_dir = lab_copy()
    edit(lab_dir, lambda d: d["steps"][1].__setitem__("timeout", value))
    message = error_of(lab_dir)
    assert "steps[1].timeout:" in message and expected in message


@pytest.mark.parametrize("value, expected", [
    (0, "0 is outside 1..600"), (10 ** 30, "is outside 1..600"),
    (float("nan"), "expected a whole number, found a number"), (float("inf"), "expected a whole number"),
])
def test_minutes_out_of_range_are_refused(lab_copy, value, expected):
    lab_dir = lab_copy()
    edit(lab_dir, lambda d: d.__setitem__("minutes", value))
    assert expected in error_of(lab_dir)


def test_a_number_of_thousands_of_digits_is_a_lab_error(lab_copy):
    lab_dir = lab_copy()
    text = re.sub(r"(?m)^minutes: .*$", "minutes: " + "9" * 5000, (lab_dir / "lab.yaml").read_text())
    (lab_dir / "lab.yaml").write_text(text)
    message = error_of(lab_dir)
    assert "not valid YAML" in message and len(message) < 300


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.__setitem__("summary", "x" * 5000), "summary: is 5000 characters long; at most 1000"),
    (lambda d: d.__setitem__("title", "t" * 500), "title: is 500 characters long; at most 120"),
    (lambda d: d.__setitem__("steps", d["steps"] * 10), "steps: has 70 steps; at most 50"),
    (lambda d: d["steps"][0].__setitem__("hints", ["a hint"] * 100), "steps[0].hints: has 100 items; at most 6"),
    (lambda d: d["steps"][0].__setitem__("checks", ["not a name"]), "'not a name' is not a Python function name"),
    (lambda d: d["steps"][0].__setitem__("id", "create-table\n"), "must be lower-case letters"),
    (lambda d: d.__setitem__(1, "a number as a key"), "field names are text; found 1"),
    (lambda d: d["steps"][0].__setitem__("mistakes", [{"apply": "artist_as_number", "expect": " "}]),
     "steps[0].mistakes[0].expect: is empty"),
    (lambda d: d.__setitem__("intro", "intro\0.md"), "intro: is not a file name"),
])
def test_field_bounds(lab_copy, change, expected):
    lab_dir = lab_copy()
    edit(lab_dir, change)
    assert expected in error_of(lab_dir)


def test_a_huge_lab_yaml_is_refused_by_size(lab_copy):
    lab_dir = lab_copy()
    text = (lab_dir / "lab.yaml").read_text()
    (lab_dir / "lab.yaml").write_text(text + "# " + "word " * 2_000_000 + "\n")
    started = time.perf_counter()
    assert "labs/dynamodb-basics/lab.yaml: larger than 256 KB" in error_of(lab_dir)
    assert time.perf_counter() - started < 1.0


def test_deep_nesting_is_refused(lab_copy):
    lab_dir = lab_copy()
    (lab_dir / "lab.yaml").write_text("format_version: 1\nsummary: " + "[" * 30 + "]" * 30 + "\n")
    assert "lab.yaml: line 2: not valid YAML: nested deeper than 12 levels" in error_of(lab_dir)
    (lab_dir / "lab.yaml").write_text("format_version: 1\nsummary: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "not valid YAML" in error_of(lab_dir)


def test_list_shows_good_labs_and_one_line_per_broken_one(cli, lab_copy):
    bad_yaml = lab_copy("dynamodb-basics")
    (bad_yaml / "lab.yaml").write_bytes(b"format_version: 1\ntitle: caf\xe9\n")
    bad_path = lab_copy("memorydb-durability")
    edit(bad_path, lambda d: d.__setitem__("differences", "/etc/passwd"))
    labs_dir = str(bad_yaml.parent)

    result = cli("--labs-dir", labs_dir, "list")
    assert result.code == 1, result
    broken = [line for line in result.out.splitlines() if line.startswith("broken:")]
    assert len(broken) == 2, result.out
    assert "dynamodb-basics: labs/dynamodb-basics/lab.yaml: not UTF-8 text" in broken[0]
    assert broken[1] == ("broken: memorydb-durability: labs/memorydb-durability/lab.yaml: differences: "
                         "'/etc/passwd' is an absolute path; name a file inside the lab folder")   # one line
    assert "rds-postgres-basics" in result.out        # the good labs are still listed

    listing = cli("--labs-dir", labs_dir, "list", "--json")
    report = listing.json()
    assert listing.code == 1
    assert {lab["id"] for lab in report["broken"]} == {"dynamodb-basics", "memorydb-durability"}
    assert all(lab["error"] and lab["source"] == labs_dir for lab in report["broken"])
    assert "rds-postgres-basics" in {lab["id"] for lab in report["labs"]}
    assert "dynamodb-basics" not in {lab["id"] for lab in report["labs"]}


def test_an_unreadable_labs_folder_does_not_break_list(cli, tmp_path):
    folder = tmp_path / "closed"
    folder.mkdir()
    os.chmod(folder, 0)
    try:
        if os.access(folder, os.R_OK):
            pytest.skip("running as root: every folder is readable")
        result = cli("--labs-dir", str(folder), "list", "--json")
        assert result.code == 0 and result.json()["labs"]
    finally:
        os.chmod(folder, 0o755)


def test_list_never_cuts_a_lab_id_on_a_narrow_terminal(cli, monkeypatch):
    """Ids are typed (`labrunner run <id>`): a 60-column terminal shows each one whole."""
    from labrunner.cli import common
    from labrunner.labs import catalog

    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setattr(common, "_console", None)        # a console measured at 60 columns
    result = cli("list")
    assert result.code == 0, result
    shown_ids = {line.split()[0] for line in result.out.splitlines()[1:] if line[:1].strip()}
    assert set(catalog.lab_dirs()) <= shown_ids, result.out


def test_list_shows_a_title_with_brackets_as_written(cli, lab_copy):
    """A title is text, not rich markup: '[/]' once crashed `list` with an internal error."""
    lab_dir = lab_copy()
    edit(lab_dir, lambda d: d.__setitem__("title", "Keys [/] and [bold]tables"))
    result = cli("--labs-dir", str(lab_dir.parent), "list")
    assert result.code == 0, result
    assert "[/]" in result.out and "[bold]" in result.out          # as written (the table may wrap it)
