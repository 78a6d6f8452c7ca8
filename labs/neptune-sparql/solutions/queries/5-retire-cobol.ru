PREFIX ex: <http://example.org/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>

DELETE WHERE {
  ?person ex:skill ex:cobol .
}
