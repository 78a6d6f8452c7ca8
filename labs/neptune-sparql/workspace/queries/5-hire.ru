# Step 5: write your SPARQL here (see the step text). These prefixes are ready to use:
PREFIX ex: <http://example.org/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>

