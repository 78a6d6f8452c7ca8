"""Checks for neptune-sparql. Each reads the learner's query or update from queries/ in the lab
folder, runs it on the live store, then seeds triples of its own (people, companies, skills with
names made up on the spot) and runs it again, so a hard-coded answer fails. The right answers are
worked out here in Python from the store's triples, never from the reference queries.

Fixtures: sparql (labrunner's SPARQL client: select, query, update, load_turtle), workspace, lab_dir.
"""

import random
import re
import string
from collections import defaultdict
from pathlib import Path

from labrunner.checks import expect, fail
from labrunner.services.sparql_client import SparqlError

EX = "http://example.org/"
FOAF = "http://xmlns.com/foaf/0.1/"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DERIVED = EX + "derived"
FIRST = ["Alba", "Bruno", "Carla", "Duarte", "Elsa", "Fabio", "Gil", "Helena", "Igor", "Joana", "Lara", "Mauro"]
LAST = ["Costa", "Lima", "Reis", "Moura", "Pinto", "Vaz", "Sousa", "Neves"]


def _tag() -> str:
    return "v" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))


# ---- running the learner's files ------------------------------------------------------------

def _text(workspace, name) -> str:
    path = Path(workspace.path) / "queries" / name
    expect(path.is_file(), f"queries/{name} is missing from your lab folder; write the step's query there")
    text = path.read_text(encoding="utf-8")
    body = re.sub(r"#[^\n]*", "", text)
    body = re.sub(r"(?i)\b(PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)", "", body)
    expect(body.strip(), f"queries/{name} is not written yet (it holds only comments and prefixes)")
    return text


def _select(sparql, workspace, name) -> tuple[list, list]:
    text = _text(workspace, name)
    try:
        results = sparql.query(text)
    except SparqlError as exc:
        fail(f"queries/{name}: {exc}")
    if not isinstance(results, dict) or "head" not in results or "results" not in results:
        fail(f"queries/{name} is not a SELECT query; the step asks for a SELECT")
    from labrunner.services.sparql_client import plain

    names = results["head"]["vars"]
    return names, [{n: plain(t) for n, t in row.items()} for row in results["results"]["bindings"]]


def _construct(sparql, workspace, name) -> list:
    text = _text(workspace, name)
    try:
        triples = sparql.query(text)
    except SparqlError as exc:
        fail(f"queries/{name}: {exc}")
    if not isinstance(triples, list):
        fail(f"queries/{name} is not a CONSTRUCT query; the step asks for a CONSTRUCT")
    return triples


def _update(sparql, workspace, name) -> None:
    text = _text(workspace, name)
    try:
        sparql.update(text)
    except SparqlError as exc:
        fail(f"queries/{name}: {exc}")


def _column(names, rows, wanted, name):
    expect(wanted in names, f"queries/{name} selects {', '.join('?' + n for n in names) or 'nothing'}; the step "
                            f"asks for ?{wanted}")
    return [row.get(wanted) for row in rows]


# ---- the store's facts, read as Python ---------------------------------------------------------

class Facts:
    def __init__(self, sparql):
        rows = sparql.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
        self.out = defaultdict(lambda: defaultdict(list))
        for row in rows:
            self.out[row["s"]][row["p"]].append(row["o"])

    def of_type(self, kind):
        return [s for s, props in self.out.items() if EX + kind in props.get(TYPE, [])]

    def one(self, s, p):
        values = self.out[s].get(p, [])
        return values[0] if values else None

    def name(self, s):
        return self.one(s, FOAF + "name")


def _seed(sparql, triples):
    """Insert the check's own triples (list of N-Triples lines) into the default graph."""
    sparql.update("INSERT DATA {\n" + "\n".join(triples) + "\n}")


def _unseed(sparql, triples):
    sparql.update("DELETE DATA {\n" + "\n".join(triples) + "\n}")


def _lit(value):
    if isinstance(value, int):
        return f'"{value}"^^<http://www.w3.org/2001/XMLSchema#integer>'
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _people(tag, count, companies, with_email=0.5, ages=()):
    """Seeded people: (triples, [(iri, name, age, company, email)]); the first get `ages`, if given."""
    triples, people = [], []
    names = random.sample([f"{f} {l}" for f in FIRST for l in LAST], count)
    for i, name in enumerate(names):
        iri = f"{EX}{tag}-person{i}"
        age = ages[i] if i < len(ages) else random.choice([25, 30, 31, 44, 58, random.randint(20, 65)])
        company = random.choice(companies)
        email = f"{tag}{i}@example.net" if random.random() < with_email else None
        triples += [f"<{iri}> <{TYPE}> <{EX}Person> .", f"<{iri}> <{FOAF}name> {_lit(name)} .",
                    f"<{iri}> <{EX}age> {_lit(age)} .", f"<{iri}> <{EX}worksFor> <{company}> ."]
        if email:
            triples.append(f"<{iri}> <{EX}email> {_lit(email)} .")
        people.append((iri, name, age, company, email))
    return triples, people


def _company(tag, i, city):
    iri = f"{EX}{tag}-company{i}"
    name = f"{random.choice(['Nova', 'Lumen', 'Vertex', 'Orbit', 'Kappa'])} {tag.upper()}{i}"
    return iri, name, [f"<{iri}> <{TYPE}> <{EX}Company> .", f"<{iri}> <{FOAF}name> {_lit(name)} .",
                       f"<{iri}> <{EX}locatedIn> <{city}> ."]


def _loaded(sparql):
    expect(sparql.ask(f"ASK {{ <{EX}ana> <{FOAF}name> ?n }}"),
           "the store holds no ex:ana: load data/company.ttl first (step 1: python load_data.py)")


# ---- step 1 -------------------------------------------------------------------------------------

def dataset_loaded(sparql, lab_dir):
    _loaded(sparql)
    text = (Path(lab_dir) / "workspace" / "data" / "company.ttl").read_text(encoding="utf-8")
    wanted = len(re.findall(r"^ex:\w+\s+a\s+ex:Person", text, re.M))
    found = int(sparql.select(f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?p a <{EX}Person> }}")[0]["n"])
    expect(found >= wanted, f"the store holds {found} ex:Person; data/company.ttl describes {wanted}")
    return f"company.ttl is loaded ({sparql.count()} triples)"


def _people_case(sparql, workspace, where):
    names, rows = _select(sparql, workspace, "1-people.rq")
    got = _column(names, rows, "name", "1-people.rq")
    facts = Facts(sparql)
    want = sorted(facts.name(p) for p in facts.of_type("Person"))
    if got == want:
        return
    if any(isinstance(v, str) and v.startswith("http") for v in got):
        fail(f"queries/1-people.rq returns IRIs such as {next(v for v in got if str(v).startswith('http'))!r} "
             "in ?name: select the foaf:name of each person, not the person")
    others = sorted(set(got) - set(want))
    if others:
        fail(f"queries/1-people.rq on {where} also lists {others[:3]!r}, which are not ex:Person: add "
             "`?person a ex:Person` to the pattern")
    if sorted(v for v in got if v is not None) == want:
        fail(f"queries/1-people.rq returns the right names in another order; ORDER BY ?name")
    if not got:
        fail(f"queries/1-people.rq on {where} returned no rows; expected {len(want)} names — check the IRIs "
             "against the data (ex:Person, foaf:name: IRIs are case-sensitive) and each PREFIX line")
    if got == want[:len(got)]:
        fail(f"queries/1-people.rq on {where} returned the first {len(got)} of {len(want)} names: drop the LIMIT")
    fail(f"queries/1-people.rq on {where} returned {got!r}; expected {want!r}")


def people_query(sparql, workspace):
    _loaded(sparql)
    _people_case(sparql, workspace, "the loaded data")
    tag = _tag()
    triples, _ = _people(tag, 3, [f"{EX}acme"])
    _, _, company = _company(tag, 0, f"{EX}lisbon")
    triples += company
    _seed(sparql, triples)
    try:
        _people_case(sparql, workspace, "the check's own people")
    finally:
        _unseed(sparql, triples)
    return "1-people.rq lists every person's name, sorted"


# ---- step 2 -------------------------------------------------------------------------------------

def _workplaces_case(sparql, workspace, where):
    names, rows = _select(sparql, workspace, "2-workplaces.rq")
    for wanted in ("person", "company", "city"):
        _column(names, rows, wanted, "2-workplaces.rq")
    got = sorted((r.get("person"), r.get("company"), r.get("city")) for r in rows)
    facts = Facts(sparql)
    want = []
    for p in facts.of_type("Person"):
        for c in facts.out[p].get(EX + "worksFor", []):
            for town in facts.out[c].get(EX + "locatedIn", []):
                want.append((facts.name(p), facts.name(c), facts.name(town)))
    want.sort()
    if got == want:
        return
    lives = sorted((facts.name(p), facts.name(c), facts.name(t)) for p in facts.of_type("Person")
                   for c in facts.out[p].get(EX + "worksFor", []) for t in facts.out[p].get(EX + "livesIn", []))
    if got == lives:
        fail("queries/2-workplaces.rq gives the city each person lives in (ex:livesIn); the step asks for the city "
             "the company is in: ?company ex:locatedIn ?town")
    iris = [(column, value) for row in got for column, value in zip(("person", "company", "city"), row)
            if isinstance(value, str) and value.startswith("http")]
    if iris:
        fail(f"queries/2-workplaces.rq returns IRIs such as {iris[0][1]!r} in ?{iris[0][0]}: the step asks for "
             f"names — bind ?{iris[0][0]} to the foaf:name of the {iris[0][0]}, one more triple pattern")
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    parts = ([f"missing {missing[:3]!r}"] if missing else []) + (
        [f"rows that should not be there: {extra[:3]!r}"] if extra else [])
    join = (" — every pattern of one row must share its variables: the company whose name is ?company must "
            "be the ?c the person works for" if extra and len(got) > len(want) else "")
    fail(f"queries/2-workplaces.rq on {where}: {'; '.join(parts) or 'duplicate rows'} ({len(got)} rows, expected "
         f"{len(want)}){join}")


def workplaces_join(sparql, workspace):
    _loaded(sparql)
    _workplaces_case(sparql, workspace, "the loaded data")
    tag = _tag()
    c_iri, _, company = _company(tag, 0, random.choice([f"{EX}porto", f"{EX}madrid"]))
    triples, people = _people(tag, 3, [c_iri])
    triples += company + [f"<{p[0]}> <{EX}livesIn> <{EX}lisbon> ." for p in people]
    _seed(sparql, triples)
    try:
        _workplaces_case(sparql, workspace, "the check's own company")
    finally:
        _unseed(sparql, triples)
    return "2-workplaces.rq joins person, company and city"


# ---- step 3 -------------------------------------------------------------------------------------

def _contacts_case(sparql, workspace, where):
    names, rows = _select(sparql, workspace, "3-contacts.rq")
    _column(names, rows, "name", "3-contacts.rq")
    _column(names, rows, "email", "3-contacts.rq")
    got = sorted((r.get("name"), r.get("email") or "") for r in rows)
    facts = Facts(sparql)
    want, thirty = [], []
    for p in facts.of_type("Person"):
        age = facts.one(p, EX + "age")
        if isinstance(age, int) and age > 30:
            want.append((facts.name(p), facts.one(p, EX + "email") or ""))
        if age == 30:
            thirty.append(facts.name(p))
    want.sort()
    if got == want:
        return
    # Someone listed without an email shows the OPTIONAL works: then a person left out is missing
    # for another reason (their age compared as text, say), whatever their email
    optional_works = any(not e for _, e in got)
    without = [n for n, e in want if not e and (n, e) not in got and not optional_works]
    if without:
        fail(f"queries/3-contacts.rq on {where} leaves out {without[:3]!r}, who have no email: a person without "
             "one must still be listed, ?email unbound — put the email pattern in OPTIONAL { ... }")
    at_thirty = [n for n, _ in got if n in thirty]
    if at_thirty:
        fail(f"queries/3-contacts.rq lists {at_thirty!r}, who is 30: older than 30 is FILTER (?age > 30)")
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    ages = {facts.name(p): facts.one(p, EX + "age") for p in facts.of_type("Person")}
    textual = [n for n, _ in missing if isinstance(ages.get(n), int) and str(ages[n]) < "30"]
    if textual:
        fail(f"queries/3-contacts.rq on {where} leaves out {textual[:2]!r}, aged {ages[textual[0]]}: the FILTER "
             "compares the age as text (\"104\" sorts before \"30\"); compare the number, FILTER (?age > 30)")
    fail(f"queries/3-contacts.rq on {where}: missing {missing[:3]!r}; rows that should not be there: {extra[:3]!r}")


def contacts_filter_optional(sparql, workspace):
    _loaded(sparql)
    _contacts_case(sparql, workspace, "the loaded data")
    tag = _tag()
    # 30 is not older than 30; 104 is, though as text "104" sorts before "30"
    triples, _ = _people(tag, 6, [f"{EX}acme", f"{EX}umbra"], with_email=0.5, ages=(30, 104))
    _seed(sparql, triples)
    try:
        _contacts_case(sparql, workspace, "the check's own people")
    finally:
        _unseed(sparql, triples)
    return "3-contacts.rq keeps people without an email"


# ---- step 4 -------------------------------------------------------------------------------------

def _headcount_case(sparql, workspace, where):
    names, rows = _select(sparql, workspace, "4-headcount.rq")
    for wanted in ("company", "employees", "averageAge"):
        _column(names, rows, wanted, "4-headcount.rq")
    facts = Facts(sparql)
    staff = defaultdict(list)
    for p in facts.of_type("Person"):
        age = facts.one(p, EX + "age")
        for c in facts.out[p].get(EX + "worksFor", []):
            if isinstance(age, int) and facts.name(c):
                staff[facts.name(c)].append(age)
    want = sorted(((c, len(a), sum(a) / len(a)) for c, a in staff.items() if len(a) >= 2),
                  key=lambda r: (-r[1], r[0]))
    got = [(r.get("company"), r.get("employees"), r.get("averageAge")) for r in rows]
    close = lambda a, b: isinstance(a, (int, float)) and abs(a - b) < 0.01   # noqa: E731
    if len(got) == len(want) and all(g[0] == w[0] and g[1] == w[1] and close(g[2], w[2]) for g, w in zip(got, want)):
        return
    single = [c for c, a in staff.items() if len(a) < 2 and c in {g[0] for g in got}]
    if single:
        fail(f"queries/4-headcount.rq on {where} lists {single[:2]!r} with one employee: keep only companies "
             "with at least 2, HAVING (COUNT(DISTINCT ?p) >= 2)")
    counts = {w[0]: w[1] for w in want}
    over = [(g[0], g[1]) for g in got if g[0] in counts and isinstance(g[1], int) and g[1] > counts[g[0]]]
    if over:
        fail(f"queries/4-headcount.rq on {where} counts {over[0][1]} for {over[0][0]!r}, which has "
             f"{counts[over[0][0]]} employees: it counts rows, one per skill or email joined, not people — "
             "COUNT(DISTINCT ?p)")
    named = {g[0]: g for g in got}
    left_out = [w for w in want if w[0] not in named]
    if left_out and all(w[1] == 2 for w in left_out) and all(g[0] in counts for g in got):
        fail(f"queries/4-headcount.rq on {where} leaves out {[w[0] for w in left_out][:2]!r}, with 2 employees: "
             "'at least 2' includes 2 — HAVING (COUNT(DISTINCT ?p) >= 2)")
    if (not left_out and len(got) == len(want) and all(named[w[0]][1] == w[1] for w in want)
            and not all(close(named[w[0]][2], w[2]) for w in want)):
        off = next(w for w in want if not close(named[w[0]][2], w[2]))
        fail(f"queries/4-headcount.rq on {where} gives {off[0]!r} an averageAge of {named[off[0]][2]!r}; expected "
             f"{round(off[2], 2)} — the average is taken over the rows of the group, so a person joined to "
             "several skills or emails weighs more: match only what the average needs (person, company, age)")
    if sorted(got, key=str) != got and sorted(map(str, got)) == sorted(map(str, want)):
        fail("queries/4-headcount.rq has the right rows in another order: ORDER BY DESC(?employees) ?company")
    fail(f"queries/4-headcount.rq on {where} returned {got!r}; expected {[(c, n, round(a, 2)) for c, n, a in want]!r}")


def headcount_aggregates(sparql, workspace):
    _loaded(sparql)
    _headcount_case(sparql, workspace, "the loaded data")
    tag = _tag()
    c0, _, t0 = _company(tag, 0, f"{EX}porto")
    c1, _, t1 = _company(tag, 1, f"{EX}madrid")
    triples, people = _people(tag, 7, [c0, c0, c0, c1])
    triples += t0 + t1 + [f"<{p[0]}> <{EX}skill> <{EX}{s}> ." for p in people for s in ("python", "sparql")]
    _seed(sparql, triples)
    try:
        _headcount_case(sparql, workspace, "the check's own companies")
    finally:
        _unseed(sparql, triples)
    return "4-headcount.rq counts people per company, at least two"


# ---- step 5 -------------------------------------------------------------------------------------

def zoe_hired(sparql, workspace):
    _loaded(sparql)
    _update(sparql, workspace, "5-hire.ru")
    zoe = f"{EX}zoe"
    facts = Facts(sparql)
    props = facts.out.get(zoe)
    expect(props, "after queries/5-hire.ru the store holds no ex:zoe (<http://example.org/zoe>): "
                  "INSERT DATA { ex:zoe ... }")
    expect(EX + "Person" in props.get(TYPE, []), "ex:zoe is not an ex:Person: add `ex:zoe a ex:Person`")
    expect(props.get(FOAF + "name") == ["Zoe Costa"], f"ex:zoe's foaf:name is {props.get(FOAF + 'name')!r}; "
                                                        "expected 'Zoe Costa'")
    age = props.get(EX + "age", [])
    expect(len(age) < 2, f"ex:zoe has {len(age)} ages, {age!r}: an INSERT adds a triple and never replaces one, so "
                         "an earlier run's age is still there — delete the wrong one (DELETE DATA { ex:zoe ex:age "
                         "... }) and keep `ex:age 28`")
    expect(age == [28], f"ex:zoe's ex:age is {age!r}" + (": a string; write 28 without quotes (an xsd:integer), "
                                                          "or FILTER (?age > 30) compares it as text"
                                                          if age and isinstance(age[0], str) else "; expected 28"))
    expect(props.get(EX + "worksFor") == [EX + "initech"], f"ex:zoe works for {props.get(EX + 'worksFor')!r}; "
                                                            "expected ex:initech")
    return "ex:zoe is in the store, with her age as a number"


def cobol_retired(sparql, workspace):
    _loaded(sparql)
    tag = _tag()
    triples, people = _people(tag, 4, [f"{EX}globex"])
    triples += [f"<{p[0]}> <{EX}skill> <{EX}cobol> ." for p in people[:3]]
    triples += [f"<{p[0]}> <{EX}skill> <{EX}gremlin> ." for p in people]
    # another relation to COBOL: "every ex:skill ex:cobol triple, and nothing else" keeps it
    course = f"<{EX}{tag}-course> <{EX}teaches> <{EX}cobol> ."
    triples.append(course)
    kept_before = int(sparql.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?p <{EX}skill> ?s "
                                    f"FILTER (?s != <{EX}cobol>) }}")[0]["n"])
    _seed(sparql, triples)
    try:
        _update(sparql, workspace, "5-retire-cobol.ru")
        left = sparql.select(f"SELECT ?p WHERE {{ ?p <{EX}skill> <{EX}cobol> }}")
        expect(not left, f"after queries/5-retire-cobol.ru, {len(left)} people still have the skill ex:cobol, e.g. "
                         f"{left[0]['p'] if left else ''!r}")
        kept = int(sparql.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?p <{EX}skill> ?s "
                                 f"FILTER (?s != <{EX}cobol>) }}")[0]["n"])
        expect(kept == kept_before + len(people),
               f"queries/5-retire-cobol.ru also deleted other skills ({kept_before + len(people)} non-COBOL skill "
               f"triples before, {kept} after): delete only `?person ex:skill ex:cobol`")
        expect(sparql.ask(f"ASK {{ <{EX}{tag}-course> <{EX}teaches> <{EX}cobol> }}"),
               "queries/5-retire-cobol.ru also deleted a triple that is not a skill, "
               f"<{EX}{tag}-course> ex:teaches ex:cobol (added by the check): delete only the triples whose "
               "predicate is ex:skill — `?person ex:skill ex:cobol`, not `?s ?p ex:cobol`")
        expect(sparql.ask(f"ASK {{ <{EX}cobol> <{FOAF}name> ?n }}"),
               "queries/5-retire-cobol.ru deleted ex:cobol itself: remove the skill from people, keep the skill")
    finally:
        _unseed(sparql, triples)
    return "nobody has COBOL any more; every other skill is kept"


# ---- step 6 -------------------------------------------------------------------------------------

def _pairs(facts):
    by_company = defaultdict(set)
    for p in facts.of_type("Person"):
        for c in facts.out[p].get(EX + "worksFor", []):
            by_company[c].add(p)
    return {(a, b) for people in by_company.values() for a in people for b in people if a != b}


def _colleague_case(sparql, workspace, where):
    triples = _construct(sparql, workspace, "6-colleagues.rq")
    facts = Facts(sparql)
    want = _pairs(facts)
    got = {(s, o) for s, p, o in triples if p == EX + "colleagueOf"}
    expect(got or not want, f"queries/6-colleagues.rq on {where} built no ex:colleagueOf triple")
    selves = [a for a, b in got if a == b]
    if selves:
        fail(f"queries/6-colleagues.rq pairs {selves[0]!r} with themselves: FILTER (?a != ?b)")
    missing, extra = sorted(want - got), sorted(got - want)
    if missing and not extra and all((b, a) in got for a, b in missing):
        fail(f"queries/6-colleagues.rq on {where} builds each pair one way only: it has {(missing[0][1], missing[0][0])!r} "
             f"but not {missing[0]!r} — colleagues go both ways round: FILTER (?a != ?b), not ?a < ?b")
    expect(not missing and not extra,
           f"queries/6-colleagues.rq on {where}: " + "; ".join(
               ([f"missing {missing[:2]!r}"] if missing else []) + ([f"pairs that are not colleagues: {extra[:2]!r}"]
                                                                     if extra else [])))


def colleagues_constructed(sparql, workspace):
    _loaded(sparql)
    _colleague_case(sparql, workspace, "the loaded data")
    tag = _tag()
    c0, _, t0 = _company(tag, 0, f"{EX}porto")
    triples, _ = _people(tag, 3, [c0])
    triples += t0
    _seed(sparql, triples)
    try:
        _colleague_case(sparql, workspace, "the check's own company")
    finally:
        _unseed(sparql, triples)
    return "6-colleagues.rq builds colleagueOf both ways, never a person with themselves"


def colleagues_saved_in_a_named_graph(sparql, workspace):
    _loaded(sparql)
    tag = _tag()
    c0, _, t0 = _company(tag, 0, f"{EX}madrid")
    triples, _ = _people(tag, 3, [c0])
    triples += t0
    _seed(sparql, triples)
    try:
        _update(sparql, workspace, "6-save-colleagues.ru")
        want = _pairs(Facts(sparql))
        rows = sparql.select(f"SELECT ?a ?b WHERE {{ GRAPH <{DERIVED}> {{ ?a <{EX}colleagueOf> ?b }} }}")
        got = {(r["a"], r["b"]) for r in rows}
        if not got:
            default = sparql.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ ?a <{EX}colleagueOf> ?b }} }} LIMIT 1")
            anywhere = sparql.ask(f"ASK {{ ?a <{EX}colleagueOf> ?b }}")
            where = (f"the graph <{default[0]['g']}>" if default else "the default graph") if anywhere else "nowhere"
            fail(f"the graph <{DERIVED}> (ex:derived) holds 0 colleagueOf triples after queries/6-save-colleagues.ru; "
                 f"they went to {where}: INSERT {{ GRAPH ex:derived {{ ... }} }} WHERE {{ ... }}")
        missing = sorted(want - got)
        if missing:
            a, b = missing[0]
            graphs = [r["g"] for r in sparql.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{a}> <{EX}colleagueOf> <{b}> }} }}")]
            went = (f" — it went to the graph <{graphs[0]}> instead (graph IRIs are case-sensitive)" if graphs else
                    " — it went to the default graph instead"
                    if sparql.ask(f"ASK {{ <{a}> <{EX}colleagueOf> <{b}> }}") else "")
            fail(f"ex:derived misses {len(missing)} colleague pairs, e.g. {missing[0]!r}, of people the check added "
                 f"just now{went}")
        extra = sorted(got - want)
        expect(not extra, f"ex:derived holds pairs that are not colleagues, e.g. {extra[:1]!r}")
    finally:
        sparql.update(f"DELETE WHERE {{ GRAPH <{DERIVED}> {{ ?a <{EX}colleagueOf> ?b }} }}")
        _unseed(sparql, triples)
        try:
            sparql.update(_save_text(workspace))      # the learner's graph as it was, without the check's people
        except SparqlError:
            pass
    return f"ex:derived holds {len(want)} colleague pairs, in their own named graph"


def _save_text(workspace):
    return (Path(workspace.path) / "queries" / "6-save-colleagues.ru").read_text(encoding="utf-8")
