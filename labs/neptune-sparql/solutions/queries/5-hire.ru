PREFIX ex: <http://example.org/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>

INSERT DATA {
  ex:zoe a ex:Person ;
         foaf:name "Zoe Costa" ;
         ex:age 28 ;
         ex:worksFor ex:initech ;
         ex:email "zoe@initech.example" ;
         ex:skill ex:sparql .
}
