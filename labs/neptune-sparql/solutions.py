"""Reference solutions for neptune-sparql: each installs the step's files in queries/ and, for
an update, runs it (so later steps start from the store it leaves)."""

from pathlib import Path


def _install(workspace, *names):
    for name in names:
        workspace.install_solution(f"queries/{name}")


def _run_update(workspace, sparql, name):
    sparql.update((Path(workspace.path) / "queries" / name).read_text(encoding="utf-8"))


def load_and_list_people(workspace, sparql, lab_dir):
    sparql.load_turtle((Path(lab_dir) / "workspace" / "data" / "company.ttl").read_text(encoding="utf-8"))
    _install(workspace, "1-people.rq")


def write_workplaces(workspace):
    _install(workspace, "2-workplaces.rq")


def write_contacts(workspace):
    _install(workspace, "3-contacts.rq")


def write_headcount(workspace):
    _install(workspace, "4-headcount.rq")


def hire_and_retire(workspace, sparql):
    _install(workspace, "5-hire.ru", "5-retire-cobol.ru")
    _run_update(workspace, sparql, "5-hire.ru")
    _run_update(workspace, sparql, "5-retire-cobol.ru")


def construct_and_save(workspace, sparql):
    _install(workspace, "6-colleagues.rq", "6-save-colleagues.ru")
    _run_update(workspace, sparql, "6-save-colleagues.ru")
