"""A social and payments graph on Neptune's Gremlin: people who know each other, the accounts they
own, the devices and cards those accounts used.

Every function gets `g`, a gremlinpython traversal source connected to the graph: what you write
is sent as bytecode, as Neptune takes it. Return plain Python values (str, int, lists, dicts).
"""

import csv

from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import Cardinality, Column, Merge, Order, P, T

TYPES = {"String": str, "Int": int, "Long": int, "Double": float, "Float": float,
         "Bool": lambda text: text.lower() == "true"}


def _columns(header):
    """Neptune's loader header: `name:String` -> ("name", str); `~id`, `~label`... kept as they are."""
    columns = []
    for cell in header:
        name, _, kind = cell.partition(":")
        columns.append((name, TYPES[kind] if kind else str))
    return columns


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        columns = _columns(next(reader))
        for row in reader:
            yield {name: cast(cell) for (name, cast), cell in zip(columns, row) if cell != ""}


def load(g, vertices_path, edges_path):
    """Step 1: load Neptune bulk-loader CSV files; return {"vertices": n, "edges": m} loaded."""
    vertices = edges = 0
    for row in _rows(vertices_path):
        t = g.add_v(row.pop("~label")).property(T.id, row.pop("~id"))
        for key, value in row.items():
            t = t.property(Cardinality.single, key, value)
        t.iterate()
        vertices += 1
    for row in _rows(edges_path):
        t = g.V(row.pop("~from")).add_e(row.pop("~label")).to(__.V(row.pop("~to"))).property(T.id, row.pop("~id"))
        for key, value in row.items():
            t = t.property(key, value)
        t.iterate()
        edges += 1
    return {"vertices": vertices, "edges": edges}


def friends(g, person_id):
    """Step 2: the names of the people this person knows (their outgoing `knows` edges), sorted."""
    return sorted(g.V(person_id).out("knows").values("name").to_list())


def reach(g, person_id, hops):
    """Step 3: how many different people can be reached in 1 to `hops` `knows` edges (not the person)."""
    return (g.V(person_id).as_("me").repeat(__.out("knows")).emit().times(hops)
            .where(P.neq("me")).dedup().count().next())


def recommend(g, person_id, limit):
    """Step 4: people two `knows` edges away, not yet known and not the person, ranked by how many
    of the person's friends know them (most first, then by name): [[name, mutual], ...]."""
    raise NotImplementedError


def fraud_ring(g, account_id):
    """Step 5: the other accounts linked to this one through devices or cards they used, at any
    distance (a shared device, then a card shared with that account, ...), as sorted ids."""
    raise NotImplementedError


def upsert_person(g, person_id, name, city):
    """Step 6: create the person, or update name and city if the id exists; one vertex either way.
    Return {"id": ..., "name": ..., "city": ...} as stored."""
    raise NotImplementedError
