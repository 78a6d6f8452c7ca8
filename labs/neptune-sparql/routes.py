"""Correct queries the reference solutions do not take, each proven to pass by `labrunner test`:
full IRIs and rdf:type spelled out, property paths, COALESCE for a missing email, a subquery
with FILTER instead of HAVING, DELETE ... WHERE written out, sameTerm."""

from pathlib import Path

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def _write(workspace, name, text):
    (Path(workspace.path) / "queries" / name).write_text(text, encoding="utf-8")


def people_with_full_iris(workspace, sparql, lab_dir):
    sparql.load_turtle((Path(lab_dir) / "workspace" / "data" / "company.ttl").read_text(encoding="utf-8"))
    _write(workspace, "1-people.rq", f"""SELECT DISTINCT ?name WHERE {{
  ?p {RDF_TYPE} <http://example.org/Person> .
  ?p <http://xmlns.com/foaf/0.1/name> ?name .
}} ORDER BY ASC(?name)
""")


def workplaces_with_property_paths(workspace):
    _write(workspace, "2-workplaces.rq", """PREFIX ex: <http://example.org/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT ?person ?company ?city WHERE {
  ?p a ex:Person ; foaf:name ?person ;
     ex:worksFor/foaf:name ?company ;
     ex:worksFor/ex:locatedIn/foaf:name ?city .
}
""")


def contacts_with_coalesce(workspace):
    _write(workspace, "3-contacts.rq", """PREFIX ex: <http://example.org/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT ?name ?email WHERE {
  ?p a ex:Person ; foaf:name ?name ; ex:age ?age .
  OPTIONAL { ?p ex:email ?e }
  BIND (COALESCE(?e, "") AS ?email)
  FILTER (?age > 30)
}
""")


def headcount_from_a_subquery(workspace):
    _write(workspace, "4-headcount.rq", """PREFIX ex: <http://example.org/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT ?company ?employees ?averageAge WHERE {
  {
    SELECT ?c (COUNT(?p) AS ?employees) (AVG(?age) AS ?averageAge)
    WHERE { ?p a ex:Person ; ex:worksFor ?c ; ex:age ?age }
    GROUP BY ?c
  }
  ?c foaf:name ?company .
  FILTER (?employees >= 2)
}
ORDER BY DESC(?employees) ?company
""")


def updates_written_out(workspace):
    _write(workspace, "5-hire.ru", """INSERT DATA {
  <http://example.org/zoe> a <http://example.org/Person> ;
      <http://xmlns.com/foaf/0.1/name> "Zoe Costa" ;
      <http://example.org/age> 28 ;
      <http://example.org/worksFor> <http://example.org/initech> .
}
""")
    _write(workspace, "5-retire-cobol.ru", """PREFIX ex: <http://example.org/>
DELETE { ?person ex:skill ?skill }
WHERE { ?person ex:skill ?skill . FILTER (?skill = ex:cobol) }
""")


def colleagues_with_sameterm(workspace):
    where = """WHERE {
  ?a a ex:Person . ?a ex:worksFor ?c .
  ?b a ex:Person . ?b ex:worksFor ?c .
  FILTER (!sameTerm(?a, ?b))
}"""
    _write(workspace, "6-colleagues.rq",
           f"PREFIX ex: <http://example.org/>\nCONSTRUCT {{ ?b ex:colleagueOf ?a }}\n{where}\n")
    _write(workspace, "6-save-colleagues.ru", "PREFIX ex: <http://example.org/>\n"
           f"INSERT {{ GRAPH <http://example.org/derived> {{ ?a ex:colleagueOf ?b }} }}\n{where}\n")
