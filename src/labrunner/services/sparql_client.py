"""A small SPARQL 1.1 client over HTTP (urllib only): the `sparql` fixture and learner client, and
the prompt `labrunner shell neptune-sparql` opens.

    sparql.select("SELECT ?s WHERE { ?s ?p ?o } LIMIT 3")   # [{"s": "http://..."}, ...]
    sparql.query(text)      # SELECT/ASK: the parsed SPARQL JSON results; CONSTRUCT/DESCRIBE: triples
    sparql.update("INSERT DATA { <urn:a> <urn:b> 1 }")
    sparql.load_turtle(text, graph=None)                     # Turtle into the default or a named graph
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

RESULTS_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMBERS = {f"{XSD}{t}": int for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                                      "positiveInteger", "negativeInteger", "nonPositiveInteger",
                                      "unsignedInt", "unsignedLong")}
NUMBERS.update({f"{XSD}{t}": float for t in ("decimal", "double", "float")})


class SparqlError(Exception):
    """The server refused a query or update (its message says why: a syntax error, ...)."""


class SparqlClient:
    def __init__(self, base_url: str, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    # -- requests --------------------------------------------------------------------------------

    def _post(self, path: str, body: bytes, content_type: str, accept: str = "*/*") -> bytes:
        request = urllib.request.Request(f"{self.base_url}{path}", data=body, method="POST",
                                         headers={"Content-Type": content_type, "Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace").strip()
            raise SparqlError(f"the server answered {exc.code}: {text or exc.reason}") from None

    def query(self, text: str):
        """SELECT and ASK: the SPARQL 1.1 JSON results as a dict ({"head":..., "results"|"boolean":...}).
        CONSTRUCT and DESCRIBE: a list of (subject, predicate, object) triples, each term as
        plain_term() gives it."""
        form = query_form(text)
        accept = NTRIPLES if form in ("CONSTRUCT", "DESCRIBE") else RESULTS_JSON
        body = urllib.parse.urlencode({"query": text}).encode()
        raw = self._post("/query", body, "application/x-www-form-urlencoded", accept)
        if accept == NTRIPLES:
            return parse_ntriples(raw.decode("utf-8"))
        return json.loads(raw)

    def select(self, text: str) -> list[dict]:
        """A SELECT's rows as dicts of plain Python values (unbound variables left out)."""
        results = self.query(text)
        if not isinstance(results, dict) or "results" not in results:
            raise SparqlError("not a SELECT query: use query() for ASK, CONSTRUCT and DESCRIBE")
        return [{name: plain(term) for name, term in row.items()} for row in results["results"]["bindings"]]

    def ask(self, text: str) -> bool:
        return bool(self.query(text).get("boolean"))

    def update(self, text: str) -> None:
        body = urllib.parse.urlencode({"update": text}).encode()
        self._post("/update", body, "application/x-www-form-urlencoded")

    def load_turtle(self, text: str, graph: str | None = None) -> None:
        """Add Turtle to the default graph, or to a named graph (SPARQL 1.1 Graph Store protocol)."""
        target = f"?graph={urllib.parse.quote(graph, safe='')}" if graph else "?default"
        self._post(f"/store{target}", text.encode("utf-8"), "text/turtle")

    def count(self, graph: str | None = None) -> int:
        where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
        return int(self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")[0]["n"])

    def close(self) -> None:
        pass                                      # one HTTP request per call: nothing kept open


# ---- terms ----------------------------------------------------------------------------------------

def plain(term: dict):
    """A SPARQL JSON term as a Python value: IRIs and strings as str, numbers as int/float, booleans."""
    value, datatype = term.get("value"), term.get("datatype", "")
    if term.get("type") == "bnode":
        return f"_:{value}"
    if datatype in NUMBERS:
        try:
            return NUMBERS[datatype](value)
        except ValueError:
            return value
    if datatype == f"{XSD}boolean":
        return value == "true"
    return value


_TERM = r'(<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:@[\w-]+|\^\^<[^>]*>)?)'
_TRIPLE = re.compile(rf"^\s*{_TERM}\s+{_TERM}\s+{_TERM}\s*\.\s*$")


def parse_ntriples(text: str) -> list[tuple]:
    triples = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _TRIPLE.match(line)
        if match:
            triples.append(tuple(plain_term(t) for t in match.groups()))
    return triples


def plain_term(text: str):
    """An N-Triples term as a Python value: <iri> -> "iri"; "lit"^^xsd:integer -> int; "lit" -> str."""
    if text.startswith("<"):
        return text[1:-1]
    if text.startswith("_:"):
        return text
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"(?:@[\w-]+|\^\^<([^>]*)>)?', text)
    value = json.loads(f'"{match.group(1)}"') if match else text
    return plain({"type": "literal", "value": value, "datatype": (match.group(2) if match else "") or ""})


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword after the prologue."""
    stripped = re.sub(r"#[^\n]*", "", text)
    stripped = re.sub(r"(?is)^\s*((PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*", "", stripped)
    match = re.match(r"(?i)\s*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", stripped)
    return match.group(1).upper() if match else "SELECT"


def is_update(text: str) -> bool:
    stripped = re.sub(r"#[^\n]*", "", text)
    stripped = re.sub(r"(?is)^\s*((PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*", "", stripped)
    return bool(re.match(r"(?i)\s*(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", stripped))


# ---- the prompt ---------------------------------------------------------------------------------

def table(rows: list[dict], names: list[str]) -> str:
    cells = [[_show(row.get(n)) for n in names] for row in rows]
    widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]
    line = lambda values: " | ".join(v.ljust(w) for v, w in zip(values, widths))   # noqa: E731
    out = [line(names), "-+-".join("-" * w for w in widths)] + [line(c) for c in cells]
    return "\n".join(out)


def _show(value) -> str:
    return "" if value is None else str(value)


def run_text(client: SparqlClient, text: str) -> str:
    """What the prompt prints for one query or update."""
    if is_update(text):
        client.update(text)
        return "done"
    form = query_form(text)
    if form == "ASK":
        return "true" if client.ask(text) else "false"
    if form in ("CONSTRUCT", "DESCRIBE"):
        triples = client.query(text)
        return table([{"subject": s, "predicate": p, "object": o} for s, p, o in triples],
                     ["subject", "predicate", "object"]) + f"\n({len(triples)} triples)"
    results = client.query(text)
    names = results["head"]["vars"]
    rows = [{n: plain(t) for n, t in row.items()} for row in results["results"]["bindings"]]
    return table(rows, names) + f"\n({len(rows)} row{'s' if len(rows) != 1 else ''})"


def prompt_loop(client: SparqlClient, label: str, read=input, write=print) -> int:
    write(f"SPARQL prompt on {label}. End a query with ';' or an empty line; Ctrl-D leaves.")
    lines: list[str] = []
    while True:
        try:
            line = read("sparql> " if not lines else "   ...> ")
        except EOFError:
            write("")
            return 0
        except KeyboardInterrupt:
            write("")
            lines = []
            continue
        done = line.rstrip().endswith(";") or (not line.strip() and lines)
        lines.append(line.rstrip().rstrip(";") if line.rstrip().endswith(";") else line)
        if not done:
            continue
        text = "\n".join(lines).strip()
        lines = []
        if not text:
            continue
        try:
            write(run_text(client, text))
        except (SparqlError, OSError) as exc:
            write(f"error: {exc}")
