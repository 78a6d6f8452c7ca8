"""Typical wrong queries for neptune-sparql, each proven caught by `labrunner test`: a reference
query with one change."""

from pathlib import Path


def _variant(workspace, name, changes):
    workspace.install_variant(f"queries/{name}", f"queries/{name}", changes)


def _load(sparql, lab_dir):
    sparql.load_turtle((Path(lab_dir) / "workspace" / "data" / "company.ttl").read_text(encoding="utf-8"))


def people_of_any_type(workspace, sparql, lab_dir):
    _load(sparql, lab_dir)
    _variant(workspace, "1-people.rq", {"  ?person a ex:Person ;\n          foaf:name ?name .":
                                        "  ?person foaf:name ?name ."})


def people_as_iris(workspace, sparql, lab_dir):
    _load(sparql, lab_dir)
    _variant(workspace, "1-people.rq", {"SELECT ?name": "SELECT (?person AS ?name)",
                                        "foaf:name ?name .": "foaf:name ?n ."})


def city_where_they_live(workspace):
    _variant(workspace, "2-workplaces.rq", {"  ?c foaf:name ?company ;\n     ex:locatedIn ?town .":
                                            "  ?c foaf:name ?company .\n  ?p ex:livesIn ?town ."})


def city_not_joined(workspace):
    _variant(workspace, "2-workplaces.rq", {"  ?town foaf:name ?city .": "  ?somewhere a ex:City ; foaf:name ?city ."})


def email_not_optional(workspace):
    _variant(workspace, "3-contacts.rq", {"  OPTIONAL { ?p ex:email ?email }": "  ?p ex:email ?email ."})


def thirty_counts_as_older(workspace):
    _variant(workspace, "3-contacts.rq", {"?age > 30": "?age >= 30"})


def every_company_kept(workspace):
    _variant(workspace, "4-headcount.rq", {"HAVING (COUNT(DISTINCT ?p) >= 2)\n": ""})


def counting_rows(workspace):
    _variant(workspace, "4-headcount.rq", {"(COUNT(DISTINCT ?p) AS ?employees)": "(COUNT(?p) AS ?employees)",
                                           "     ex:age ?age .": "     ex:age ?age ;\n     ex:skill ?skill ."})


def age_as_a_string(workspace):
    _variant(workspace, "5-hire.ru", {"ex:age 28 ;": 'ex:age "28" ;'})
    workspace.install_solution("queries/5-retire-cobol.ru")


def every_skill_deleted(workspace):
    workspace.install_solution("queries/5-hire.ru")
    _variant(workspace, "5-retire-cobol.ru", {"?person ex:skill ex:cobol .": "?person ex:skill ?skill ."})


def colleague_of_themselves(workspace):
    _variant(workspace, "6-colleagues.rq", {"  FILTER (?a != ?b)\n": ""})
    workspace.install_solution("queries/6-save-colleagues.ru")


def saved_in_the_default_graph(workspace):
    workspace.install_solution("queries/6-colleagues.rq")
    _variant(workspace, "6-save-colleagues.ru",
             {"  GRAPH ex:derived { ?a ex:colleagueOf ?b }": "  ?a ex:colleagueOf ?b"})
