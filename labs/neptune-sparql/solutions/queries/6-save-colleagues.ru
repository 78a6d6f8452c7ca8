PREFIX ex: <http://example.org/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>

INSERT {
  GRAPH ex:derived { ?a ex:colleagueOf ?b }
}
WHERE {
  ?a a ex:Person ; ex:worksFor ?company .
  ?b a ex:Person ; ex:worksFor ?company .
  FILTER (?a != ?b)
}
