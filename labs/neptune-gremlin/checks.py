"""Checks for neptune-gremlin. Each runs the learner's functions in graph.py (in a child process,
with a `g` of its own) against the live graph and against a variant graph the check seeds with
ids and names made up on the spot, so a hard-coded answer fails. The right answers are worked
out here in Python from the graph's edges, never from the reference solution.

Fixtures: g (a gremlinpython traversal source on the server), answer, lab_dir.
"""

import csv
import random
import string
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import P, T

from labrunner.checks import expect, fail

FILE = "graph.py"
NAMES = ["Alba", "Bruno", "Carla", "Duarte", "Elsa", "Fabio", "Gil", "Helena", "Igor", "Joana", "Kiko",
         "Lara", "Mauro", "Nuno", "Olga", "Paulo", "Quim", "Rita", "Sara", "Tiago", "Ulla", "Vasco"]


def _tag() -> str:
    return "v" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))


def _run(answer, *calls):
    return [r.value_or_fail() for r in answer.run(FILE, list(calls), connect="neptune-gremlin", shared=True,
                                                  timeout=40)]


def _drop(g, ids) -> None:
    if ids:
        g.V(*ids).drop().iterate()


# ---- what the right answers are, worked out in Python --------------------------------------

class Social:
    """People and `knows` edges as read from the graph (or seeded): the answers follow from them."""

    def __init__(self, names: dict, knows: list):
        self.names = names                       # id -> name
        self.out = defaultdict(list)
        self.into = defaultdict(list)
        for source, target in knows:
            self.out[source].append(target)
            self.into[target].append(source)

    def friends(self, pid, edges=None):
        return sorted(self.names[t] for t in (edges or self.out)[pid])

    def reach(self, pid, hops) -> int:
        seen, frontier = set(), {pid}
        for _ in range(hops):
            frontier = {t for f in frontier for t in self.out[f]}
            seen |= frontier
        return len(seen - {pid})

    def exactly(self, pid, hops) -> int:
        """People at the end of a walk of exactly `hops` edges (repeat().times() without emit())."""
        frontier = {pid}
        for _ in range(hops):
            frontier = {t for f in frontier for t in self.out[f]}
        return len(frontier - {pid})

    def paths(self, pid, hops) -> int:
        total, frontier = 0, [pid]
        for _ in range(hops):
            frontier = [t for f in frontier for t in self.out[f]]
            total += len(frontier)
        return total

    def recommend(self, pid, limit, exclude_friends=True):
        known = set(self.out[pid])
        counts = Counter(x for f in known for x in self.out[f]
                         if x != pid and (x not in known or not exclude_friends))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], self.names[kv[0]]))[:limit]
        return [[self.names[x], n] for x, n in ranked]


def _live_social(g) -> Social:
    people = g.V().has_label("person").project("id", "name").by(T.id).by(__.values("name").limit(1)).to_list()
    knows = g.E().has_label("knows").project("f", "t").by(__.out_v().id_()).by(__.in_v().id_()).to_list()
    return Social({p["id"]: p["name"] for p in people}, [(k["f"], k["t"]) for k in knows])


def _seed_social(g, size=9, edges=16):
    """A random social graph under fresh ids: returns (Social, ids). Names are unique."""
    tag = _tag()
    ids = [f"{tag}-p{i}" for i in range(size)]
    names = dict(zip(ids, random.sample(NAMES, size)))
    pairs = set()
    while len(pairs) < edges:
        a, b = random.sample(ids, 2)
        if (b, a) not in pairs:             # one direction only: a reversed traversal must differ
            pairs.add((a, b))
    for pid in ids:
        g.add_v("person").property(T.id, pid).property("name", names[pid]).iterate()
    for number, (a, b) in enumerate(sorted(pairs)):
        g.V(a).add_e("knows").to(__.V(b)).property(T.id, f"{tag}-k{number}").property("since", 2000 + number).iterate()
    return Social(names, sorted(pairs)), ids


def _person_with_friends(social: Social, minimum=2):
    candidates = [p for p in social.names if len(social.out[p]) >= minimum and social.into[p]]
    return random.choice(candidates or list(social.names))


# ---- step 1: load ---------------------------------------------------------------------------

def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return [{h: c for h, c in zip(header, row) if c != ""} for row in reader]


def _shipped(lab_dir):
    data = Path(lab_dir) / "workspace" / "data"
    return _read_csv(data / "vertices.csv"), _read_csv(data / "edges.csv")


def _check_loaded(g, vertices, edges, where):
    wanted = Counter(v["~label"] for v in vertices)
    ids = [v["~id"] for v in vertices]
    found = {v["id"]: v for v in g.V(*ids).project("id", "label").by(T.id).by(T.label).to_list()}
    if not found:
        sample = g.V().limit(3).id_().to_list()
        if sample and not any(isinstance(i, str) for i in sample):
            fail(f"no vertex has the id {ids[0]!r} from {where}; the graph's ids are {sample!r}, numbers the "
                 "server made up. Neptune's loader keeps each row's ~id as the vertex id (a string): "
                 "add_v(label).property(T.id, row['~id'])")
        fail(f"none of the vertices of {where} is in the graph (no vertex with id {ids[0]!r}): load() has "
             "not written them" + (" — once load() is written, run `python load_data.py` in your lab folder "
                                   "(after eval \"$(labrunner env)\")" if where.startswith("data/") else ""))
    missing = [i for i in ids if i not in found]
    expect(not missing, f"{len(missing)} vertices of {where} are missing, e.g. {missing[:3]!r}")
    for v in vertices:
        expect(found[v["~id"]]["label"] == v["~label"],
               f"vertex {v['~id']!r} has the label {found[v['~id']]['label']!r}; {where} says {v['~label']!r}")
    person = next(v for v in vertices if v["~label"] == "person")
    props = g.V(person["~id"]).value_map().next()
    for column, text in person.items():
        if column.startswith("~"):
            continue
        key, _, kind = column.partition(":")
        expect(key in props, f"vertex {person['~id']!r} has no property {key!r} (column {column!r} of {where}); "
                             "the part before ':' is the property's name")
        value = props[key][0]
        if kind in ("Int", "Long"):
            expect(isinstance(value, int) and value == int(text),
                   f"{person['~id']}'s {key} is {value!r} ({type(value).__name__}); the column {column!r} says "
                   f"an integer, {int(text)} — convert the cell with int()")
        else:
            expect(value == text, f"{person['~id']}'s {key} is {value!r}; {where} says {text!r}")
    expect(all(len(values) == 1 for values in props.values()),
           f"{person['~id']} has a property with several values: {props!r}")
    edge = edges[0]
    got = g.E(edge["~id"]).project("label", "from", "to").by(T.label).by(__.out_v().id_()).by(__.in_v().id_()).to_list()
    expect(got, f"no edge has the id {edge['~id']!r} from {where}: keep each edge's ~id (property(T.id, ...))")
    got = got[0]
    expect((got["from"], got["to"]) == (edge["~from"], edge["~to"]),
           f"edge {edge['~id']!r} goes from {got['from']!r} to {got['to']!r}; {where} says from "
           f"{edge['~from']!r} (~from) to {edge['~to']!r} (~to)")
    expect(got["label"] == edge["~label"], f"edge {edge['~id']!r} is labelled {got['label']!r}, not {edge['~label']!r}")
    since = g.E(edge["~id"]).values("since").to_list()
    expect(since and isinstance(since[0], int), f"edge {edge['~id']!r}'s since is {since!r}: the column since:Int "
                                                "makes it an integer (int(cell))")
    count_e = g.E(*[e["~id"] for e in edges]).count().next()
    expect(count_e == len(edges), f"{count_e} of the {len(edges)} edges of {where} are in the graph")
    return wanted


def shipped_graph_loaded(g, lab_dir):
    vertices, edges = _shipped(lab_dir)
    wanted = _check_loaded(g, vertices, edges, "data/vertices.csv and data/edges.csv")
    return "loaded: " + ", ".join(f"{n} {label}s" for label, n in sorted(wanted.items())) + f", {len(edges)} edges"


def load_reads_any_file(g, answer):
    """load() on files the check writes, with other ids, names, labels' columns and numbers."""
    tag = _tag()
    people = random.sample(NAMES, 4)
    vertices = [{"~id": f"{tag}-p{i}", "~label": "person", "name:String": name, "age:Int": str(random.randint(18, 90))}
                for i, name in enumerate(people)]
    vertices.append({"~id": f"{tag}-d0", "~label": "device", "kind:String": "watch"})
    edges = [{"~id": f"{tag}-k{i}", "~from": f"{tag}-p{i}", "~to": f"{tag}-p{i + 1}", "~label": "knows",
              "since:Int": str(random.randint(1990, 2025))} for i in range(3)]
    ids = [v["~id"] for v in vertices]
    with tempfile.TemporaryDirectory(prefix="labrunner-neptune-") as folder:
        vpath, epath = Path(folder, "v.csv"), Path(folder, "e.csv")
        _write_csv(vpath, ["~id", "~label", "name:String", "age:Int", "kind:String"], vertices)
        _write_csv(epath, ["~id", "~from", "~to", "~label", "since:Int"], edges)
        try:
            (counts,) = _run(answer, ("load", (str(vpath), str(epath))))
            expect(counts == {"vertices": len(vertices), "edges": len(edges)},
                   f"load() returned {counts!r} for a file of {len(vertices)} vertices and {len(edges)} edges; "
                   f"expected {{'vertices': {len(vertices)}, 'edges': {len(edges)}}}")
            _check_loaded(g, vertices, edges, "the check's own files")
        finally:
            _drop(g, ids)
    return "load() also loads files it has never seen"


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header])


# ---- step 2: friends ----------------------------------------------------------------------------

def _friends_case(social, pid, got, where):
    want = social.friends(pid)
    if got == want:
        return
    if got == social.friends(pid, social.into) and want != got:
        fail(f"friends(g, {pid!r}) on {where} returned {got!r}: the people who know {pid}, its incoming "
             f"`knows` edges. An edge goes from the person who knows to the person known: follow "
             f"out('knows'); expected {want!r}")
    both = sorted(social.names[t] for t in set(social.out[pid]) | set(social.into[pid]))
    if isinstance(got, list) and sorted(got) == both and both != want:
        fail(f"friends(g, {pid!r}) on {where} returned {got!r}: it follows `knows` edges both ways, so people who "
             f"know {pid} but whom {pid} does not know are in it. Follow out('knows') only; expected {want!r}")
    if isinstance(got, list) and sorted(got) == want:
        fail(f"friends(g, {pid!r}) returned {got!r}, not sorted; expected {want!r}")
    fail(f"friends(g, {pid!r}) on {where} returned {got!r}; expected {want!r}")


def friends_follow_outgoing_edges(g, answer):
    live = _live_social(g)
    expect(live.names, "the graph holds no person: load the data first (step 1)")
    pid = "p01" if "p01" in live.names else _person_with_friends(live)
    (got,) = _run(answer, ("friends", (pid,)))
    _friends_case(live, pid, got, "the loaded graph")
    social, ids = _seed_social(g)
    try:
        pid = _person_with_friends(social)
        (got,) = _run(answer, ("friends", (pid,)))
        _friends_case(social, pid, got, "the check's own graph")
    finally:
        _drop(g, ids)
    return "friends() follows outgoing knows edges, on the loaded graph and on another"


# ---- step 3: reach --------------------------------------------------------------------------

def _reach_case(social, pid, hops, got, where):
    want = social.reach(pid, hops)
    if got == want:
        return
    if got == social.paths(pid, hops) and got != want:
        fail(f"reach(g, {pid!r}, {hops}) on {where} returned {got}: the number of paths. Someone reached by "
             f"two routes is one person: dedup() before count(); expected {want} people")
    if got == social.exactly(pid, hops) and got != want:
        fail(f"reach(g, {pid!r}, {hops}) on {where} returned {got}: only the people at the end of {hops}-edge walks, "
             f"not those met on the way — add emit() so that every hop's arrivals count; expected {want}")
    if got == want + 1:
        fail(f"reach(g, {pid!r}, {hops}) on {where} returned {got}: it counts {pid} itself (a cycle leads back); "
             f"leave the person out (as_('me') ... where(P.neq('me'))); expected {want}")
    fail(f"reach(g, {pid!r}, {hops}) on {where} returned {got!r}; expected {want} different people within "
         f"{hops} knows edges")


def reach_counts_people_not_paths(g, answer):
    live = _live_social(g)
    expect(live.names, "the graph holds no person: load the data first (step 1)")
    results = _run(answer, ("reach", ("p01", 2)), ("reach", ("p01", 3)))
    for hops, got in zip((2, 3), results):
        _reach_case(live, "p01", hops, got, "the loaded graph")
    social, ids = _seed_social(g, size=10, edges=20)
    try:
        pid = max(social.names, key=lambda p: social.paths(p, 3) - social.reach(p, 3))
        results = _run(answer, ("reach", (pid, 1)), ("reach", (pid, 3)))
        for hops, got in zip((1, 3), results):
            _reach_case(social, pid, hops, got, "the check's own graph")
    finally:
        _drop(g, ids)
    return "reach() counts people, each once"


# ---- step 4: recommend ------------------------------------------------------------------------

def _recommend_case(social, pid, limit, got, where):
    want = social.recommend(pid, limit)
    got = [list(x) for x in got] if isinstance(got, list) else got
    if got == want:
        return
    known = set(social.friends(pid))
    if isinstance(got, list):
        names = [x[0] for x in got if isinstance(x, list) and x]
        already = [n for n in names if n in known]
        if already:
            fail(f"recommend(g, {pid!r}, {limit}) on {where} recommends {already!r}, whom {pid} already knows: "
                 "leave out the person's friends (aggregate('friends') ... where(P.without('friends')))")
        if social.names.get(pid) in names:
            fail(f"recommend(g, {pid!r}, {limit}) recommends {pid} to themselves: leave the person out")
        every = {tuple(x) for x in social.recommend(pid, 10_000)}
        if got and all(isinstance(x, list) and tuple(x) in every for x in got):
            fail(f"recommend(g, {pid!r}, {limit}) on {where} returned {got!r}: right counts, in the wrong "
                 f"order; expected {want!r} (most mutual friends first, then by name, then the limit)")
    fail(f"recommend(g, {pid!r}, {limit}) on {where} returned {got!r}; expected {want!r}")


def recommend_ranks_by_mutual_friends(g, answer):
    live = _live_social(g)
    expect(live.names, "the graph holds no person: load the data first (step 1)")
    (got,) = _run(answer, ("recommend", ("p01", 3)))
    _recommend_case(live, "p01", 3, got, "the loaded graph")
    social, ids = _seed_social(g, size=10, edges=24)
    try:
        pid = max(social.names, key=lambda p: len(social.recommend(p, 10)))
        # every limit from 1 up: a limit() that cuts before the ranking keeps whichever come first, not the top
        limits = list(range(1, len(social.recommend(pid, 10)) + 1)) or [10]
        results = _run(answer, *[("recommend", (pid, limit)) for limit in limits])
        for limit, got in zip(limits, results):
            _recommend_case(social, pid, limit, got, "the check's own graph")
    finally:
        _drop(g, ids)
    return "recommend() ranks friends of friends by mutual friends"


# ---- step 5: fraud ring ---------------------------------------------------------------------

def _ring(used: list, account):
    """Accounts connected to `account` through shared devices or cards, at any distance."""
    by_account, by_item = defaultdict(set), defaultdict(set)
    for a, item in used:
        by_account[a].add(item)
        by_item[item].add(a)
    seen, todo = {account}, [account]
    while todo:
        for item in by_account[todo.pop()]:
            for other in by_item[item] - seen:
                seen.add(other)
                todo.append(other)
    return sorted(seen - {account})


def _direct(used, account):
    items = {i for a, i in used if a == account}
    return sorted({a for a, i in used if i in items} - {account})


def _ring_case(used, account, got, where):
    want = _ring(used, account)
    if got == want:
        return
    if got == _direct(used, account) and got != want:
        fail(f"fraud_ring(g, {account!r}) on {where} returned {got!r}: only the accounts sharing a device or card "
             f"with {account} directly. A ring goes on through their devices and cards too: repeat(...).emit(); "
             f"expected {want!r}")
    if isinstance(got, list) and account in got:
        fail(f"fraud_ring(g, {account!r}) lists {account} itself; expected only the other accounts, {want!r}")
    if got == []:
        fail(f"fraud_ring(g, {account!r}) on {where} returned []: `used` edges go from the account to the device "
             f"or card — out('used') reaches them, in_('used') comes back to the accounts; expected {want!r}")
    fail(f"fraud_ring(g, {account!r}) on {where} returned {got!r}; expected {want!r}")


def fraud_ring_through_shared_devices(g, answer):
    used = [(u["f"], u["t"]) for u in g.E().has_label("used").project("f", "t")
            .by(__.out_v().id_()).by(__.in_v().id_()).to_list()]
    expect(used, "the graph holds no `used` edges: load the data first (step 1)")
    (got,) = _run(answer, ("fraud_ring", ("a01",)))
    _ring_case(used, "a01", got, "the loaded graph")
    tag = _tag()
    accounts = [f"{tag}-a{i}" for i in range(6)]
    items = [f"{tag}-d{i}" for i in range(3)] + [f"{tag}-c{i}" for i in range(3)]
    # a chain a0 - d0 - a1 - c0 - a2 - d1 - a3, and a separate pair a4 - c1 - a5
    seeded = [(accounts[0], items[0]), (accounts[1], items[0]), (accounts[1], items[3]), (accounts[2], items[3]),
              (accounts[2], items[1]), (accounts[3], items[1]), (accounts[4], items[4]), (accounts[5], items[4]),
              (accounts[0], items[5])]
    try:
        for a in accounts:
            g.add_v("account").property(T.id, a).iterate()
        for item in items:
            g.add_v("card" if "-c" in item else "device").property(T.id, item).iterate()
        for number, (a, item) in enumerate(seeded):
            g.V(a).add_e("used").to(__.V(item)).property(T.id, f"{tag}-u{number}").iterate()
        start = random.choice([accounts[0], accounts[3]])
        results = _run(answer, ("fraud_ring", (start,)), ("fraud_ring", (accounts[4],)))
        _ring_case(seeded, start, results[0], "the check's own graph")
        _ring_case(seeded, accounts[4], results[1], "the check's own graph")
    finally:
        _drop(g, accounts + items)
    return "fraud_ring() follows shared devices and cards as far as they go"


# ---- step 6: upsert -------------------------------------------------------------------------

def upsert_creates_then_updates(g, answer):
    pid = f"{_tag()}-p"
    name, city, moved = random.choice(NAMES), random.choice(["Lisbon", "Porto"]), random.choice(["Faro", "Braga"])
    try:
        first, second, third = _run(answer, ("upsert_person", (pid, name, city)),
                                    ("upsert_person", (pid, name, moved)),
                                    ("upsert_person", (pid, name, moved)))
        count = g.V(pid).count().next()
        expect(count == 1, f"after three upserts of {pid!r} the graph has {count} vertices with that id; expected 1")
        props = g.V(pid).value_map().next()
        label = g.V(pid).label().next()
        expect(label == "person", f"{pid} was created with the label {label!r}; expected 'person'")
        cities = props.get("city", [])
        if len(cities) > 1:
            fail(f"{pid}'s city now holds {len(cities)} values, {sorted(cities)!r}: Neptune's default cardinality "
                 "is set, so property('city', v) and mergeV's onMatch add a value instead of replacing it. Use "
                 "property(Cardinality.single, 'city', v), or CardinalityValue.single(v) in onMatch")
        expect(cities == [moved], f"{pid}'s city is {cities!r} after upsert_person(g, {pid!r}, {name!r}, {moved!r}); "
                                  f"expected [{moved!r}]")
        expect(props.get("name") == [name], f"{pid}'s name is {props.get('name')!r}; expected [{name!r}]")
        expect(first == {"id": pid, "name": name, "city": city},
               f"the first upsert returned {first!r}; expected {{'id': {pid!r}, 'name': {name!r}, 'city': {city!r}}}")
        expect(second == third == {"id": pid, "name": name, "city": moved},
               f"the second upsert returned {second!r}; expected the stored vertex, with city {moved!r}")
    finally:
        _drop(g, [pid])
    return f"{pid} created once, then updated in place"


def upsert_keeps_other_people(g, answer):
    """An upsert of one id must not touch another person (a mergeV matched on name would)."""
    live = _live_social(g)
    expect("p01" in live.names, "the loaded graph has no p01: load the data first (step 1)")
    before = g.V("p01").value_map().next()
    pid = f"{_tag()}-p"
    try:
        _run(answer, ("upsert_person", (pid, before["name"][0], "Faro")))
        after = g.V("p01").value_map().next()
        expect(after == before, f"upserting a new person {pid!r} named {before['name'][0]!r} changed p01 "
                                f"({before!r} became {after!r}): match on the id, not the name")
        expect(g.V(pid).count().next() == 1, f"upsert_person(g, {pid!r}, ...) created no vertex {pid!r}")
    finally:
        _drop(g, [pid])
    return "an upsert matches on the id only"
