"""Load data/company.ttl into the store with one SPARQL update, as you could on Neptune.

    eval "$(labrunner env)"      # sets NEPTUNE_SPARQL_UPDATE
    python load_data.py

Turtle's `@prefix ex: <...> .` lines become SPARQL's `PREFIX ex: <...>`, and the triples go
inside INSERT DATA { ... }: Turtle's `;`, `,` and `a` are valid SPARQL there too.
"""

import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

endpoint = os.environ.get("NEPTUNE_SPARQL_UPDATE")
if not endpoint:
    sys.exit('NEPTUNE_SPARQL_UPDATE is not set: run eval "$(labrunner env)" first')

with open("data/company.ttl", encoding="utf-8") as fh:
    turtle = fh.read()
prefixes = re.findall(r"^@prefix\s+(\S*)\s*(<[^>]*>)\s*\.\s*$", turtle, re.M)
body = re.sub(r"^@prefix[^\n]*\n", "", turtle, flags=re.M)
update = "".join(f"PREFIX {name} {iri}\n" for name, iri in prefixes) + "INSERT DATA {\n" + body + "\n}\n"

request = urllib.request.Request(endpoint, data=urllib.parse.urlencode({"update": update}).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
try:
    with urllib.request.urlopen(request, timeout=30):
        pass
except urllib.error.HTTPError as exc:
    sys.exit(f"the server refused the update ({exc.code}): {exc.read().decode(errors='replace')}")
print(f"loaded data/company.ttl ({turtle.count(' a ex:')} subjects with a type)")
