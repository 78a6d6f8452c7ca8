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


def people_limited(workspace, sparql, lab_dir):
    """The LIMIT 5 of the step's first try, left in."""
    _load(sparql, lab_dir)
    _variant(workspace, "1-people.rq", {"ORDER BY ?name": "ORDER BY ?name\nLIMIT 5"})


def people_class_in_lower_case(workspace, sparql, lab_dir):
    """ex:person for ex:Person: an IRI that no triple uses, so no rows."""
    _load(sparql, lab_dir)
    _variant(workspace, "1-people.rq", {"a ex:Person": "a ex:person"})


def people_as_iris(workspace, sparql, lab_dir):
    _load(sparql, lab_dir)
    _variant(workspace, "1-people.rq", {"SELECT ?name": "SELECT (?person AS ?name)",
                                        "foaf:name ?name .": "foaf:name ?n ."})


def city_where_they_live(workspace):
    _variant(workspace, "2-workplaces.rq", {"  ?c foaf:name ?company ;\n     ex:locatedIn ?town .":
                                            "  ?c foaf:name ?company .\n  ?p ex:livesIn ?town ."})


def city_not_joined(workspace):
    _variant(workspace, "2-workplaces.rq", {"  ?town foaf:name ?city .": "  ?somewhere a ex:City ; foaf:name ?city ."})


def city_as_an_iri(workspace):
    """?city bound to the city itself, not to its name."""
    _variant(workspace, "2-workplaces.rq", {"     ex:locatedIn ?town .\n  ?town foaf:name ?city .": "     ex:locatedIn ?city ."})


def email_not_optional(workspace):
    _variant(workspace, "3-contacts.rq", {"  OPTIONAL { ?p ex:email ?email }": "  ?p ex:email ?email ."})


def thirty_counts_as_older(workspace):
    _variant(workspace, "3-contacts.rq", {"?age > 30": "?age >= 30"})


def age_compared_as_text(workspace):
    """FILTER on STR(?age): as text, "104" sorts before "30"."""
    _variant(workspace, "3-contacts.rq", {"?age > 30": 'STR(?age) > "30"'})


def every_company_kept(workspace):
    _variant(workspace, "4-headcount.rq", {"HAVING (COUNT(DISTINCT ?p) >= 2)\n": ""})


def counting_rows(workspace):
    _variant(workspace, "4-headcount.rq", {"(COUNT(DISTINCT ?p) AS ?employees)": "(COUNT(?p) AS ?employees)",
                                           "     ex:age ?age .": "     ex:age ?age ;\n     ex:skill ?skill ."})


def two_is_not_enough(workspace):
    """HAVING > 2: 'at least 2' read as 'more than 2'."""
    _variant(workspace, "4-headcount.rq", {"HAVING (COUNT(DISTINCT ?p) >= 2)": "HAVING (COUNT(DISTINCT ?p) > 2)"})


def average_over_skills(workspace):
    """Skills joined in: COUNT(DISTINCT) is right, AVG weighs each person by their skills."""
    _variant(workspace, "4-headcount.rq", {"     ex:age ?age .": "     ex:age ?age ;\n     ex:skill ?skill ."})


def every_triple_to_cobol_deleted(workspace):
    """?s ?p ex:cobol: every triple that points at COBOL goes, not only the skills."""
    _variant(workspace, "5-retire-cobol.ru", {"?person ex:skill ex:cobol": "?s ?p ex:cobol"})
    workspace.install_solution("queries/5-hire.ru")


def age_fixed_by_inserting_again(workspace, sparql):
    """A first run wrote the age as a string; the fixed INSERT DATA adds 28 beside it."""
    sparql.update('INSERT DATA { <http://example.org/zoe> <http://example.org/age> "28" }')
    workspace.install_solution("queries/5-hire.ru")
    workspace.install_solution("queries/5-retire-cobol.ru")


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


def colleagues_one_way(workspace):
    """?a < ?b: each pair once, as a list of pairs would have it; colleagueOf goes both ways."""
    _variant(workspace, "6-colleagues.rq", {"FILTER (?a != ?b)": "FILTER (STR(?a) < STR(?b))"})
    workspace.install_solution("queries/6-save-colleagues.ru")


def saved_in_a_misspelt_graph(sparql, workspace):
    """ex:Derived for ex:derived, after a first run into the right one: the new pairs go elsewhere."""
    workspace.install_solution("queries/6-colleagues.rq")
    workspace.install_solution("queries/6-save-colleagues.ru")
    sparql.update((Path(workspace.path) / "queries" / "6-save-colleagues.ru").read_text(encoding="utf-8"))
    _variant(workspace, "6-save-colleagues.ru", {"GRAPH ex:derived": "GRAPH ex:Derived"})
