"""Typical wrong answers for neptune-gremlin, each proven caught by `labrunner test`: a reference
version of graph.py with one change."""

F = "graph.py"


def _load_with(workspace, answer, changes):
    workspace.install_variant(F, "graph-1-load.py", changes)
    answer.call(F, "load", "data/vertices.csv", "data/edges.csv", connect="neptune-gremlin", timeout=60)


def ids_left_to_the_server(workspace, answer):
    """No T.id: the server makes up numeric ids, and the edges find no vertex to join."""
    _load_with(workspace, answer, {'t = g.add_v(row.pop("~label")).property(T.id, row.pop("~id"))':
                                   't = g.add_v(row.pop("~label"))\n        row.pop("~id")'})


def numbers_kept_as_text(workspace, answer):
    _load_with(workspace, answer, {'"Int": int,': '"Int": str,'})


def friends_edge_reversed(workspace):
    workspace.install_variant(F, "graph-2-friends.py", {'g.V(person_id).out("knows")': 'g.V(person_id).in_("knows")'})


def friends_with_a_lambda(workspace):
    workspace.install_variant(F, "graph-2-friends.py", {
        'g.V(person_id).out("knows").values("name")':
        'g.V(person_id).out("knows").filter_(lambda: "it.get().label() == \'person\'").values("name")'})


def friends_both_ways(workspace):
    """both('knows'): the people who know the person come along with those the person knows."""
    workspace.install_variant(F, "graph-2-friends.py", {'g.V(person_id).out("knows")': 'g.V(person_id).both("knows")'})


def reach_without_emit(workspace):
    """repeat().times() with no emit(): only the people at exactly `hops` edges are counted."""
    workspace.install_variant(F, "graph-3-reach.py", {'.repeat(__.out("knows")).emit().times(hops)':
                                                      '.repeat(__.out("knows")).times(hops)'})


def reach_counts_paths(workspace):
    workspace.install_variant(F, "graph-3-reach.py",
                              {'.where(P.neq("me")).dedup().count()': '.where(P.neq("me")).count()'})


def reach_counts_the_person(workspace):
    workspace.install_variant(F, "graph-3-reach.py", {'.where(P.neq("me")).dedup().count()': '.dedup().count()'})


def recommend_includes_friends(workspace):
    workspace.install_variant(F, "graph-4-recommend.py", {'.where(P.without("friends"))': ""})


def recommend_fewest_first(workspace):
    workspace.install_variant(F, "graph-4-recommend.py",
                              {".by(Column.values, Order.desc)": ".by(Column.values, Order.asc)"})


def recommend_limit_before_order(workspace):
    """limit() before order(): the first people the map happens to hold, not the top ones."""
    workspace.install_variant(F, "graph-4-recommend.py", {
        ".unfold().order().by(Column.values, Order.desc).by(Column.keys, Order.asc)\n              .limit(limit)":
        ".unfold().limit(limit).order().by(Column.values, Order.desc).by(Column.keys, Order.asc)\n              "})


def ring_one_hop_only(workspace):
    workspace.install_variant(F, "graph-5-fraud.py", {
        '.repeat(__.out("used").in_("used").simple_path()).emit()': '.out("used").in_("used")'})


def ring_edge_reversed(workspace):
    workspace.install_variant(F, "graph-5-fraud.py", {'__.out("used").in_("used")': '__.in_("used").out("used")'})


def upsert_adds_to_a_set(workspace):
    workspace.install_variant(F, "graph.py", {
        '{"name": CardinalityValue.single(name), "city": CardinalityValue.single(city)}':
        '{"name": name, "city": city}'})


def upsert_always_adds(workspace):
    workspace.install_variant(F, "graph.py", {
        """    g.merge_v({T.id: person_id}) \\
        .option(Merge.on_create, {T.label: "person", "name": name, "city": city}) \\
        .option(Merge.on_match, {"name": CardinalityValue.single(name), "city": CardinalityValue.single(city)}) \\
        .iterate()""":
        """    g.add_v("person").property(T.id, person_id).property("name", name).property("city", city).iterate()"""})
