"""The shape of the code: no import circle among src/labrunner's modules, and no check or solve logic
in the CLI (it calls the step engine, labrunner.steps)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "labrunner"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules) -> str | None:
    """The labrunner module an import of `name` loads: the name itself, else its nearest package."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules) -> list[tuple[str, int, str]]:
    """(imported labrunner module, line, "module" | "function") for every import in the file."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from labrunner.checks import runner` loads the submodule runner when there is one
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for target in targets:
            resolved = _resolve(target, modules) if target.startswith("labrunner") else None
            if resolved and resolved != module:
                found.append((resolved, node.lineno, "module" if id(node) in top else "function"))
    return found


def import_graph():
    modules = all_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph) -> list[list[str]]:
    """One shortest circle through each strongly connected group of modules (Tarjan, then BFS)."""
    edges = {m: sorted({t for t, _, _ in targets}) for m, targets in graph.items()}
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    circles = []
    for group in groups:
        start = group[0]
        paths, seen = [[start]], {start}
        while paths:
            path = paths.pop(0)
            nxt_nodes = [n for n in edges[path[-1]] if n in group]
            if start in nxt_nodes:
                circles.append(path + [start] + ([f"(all of {', '.join(group)} import each other in turn)"]
                                                 if len(group) > len(path) else []))
                break
            for n in nxt_nodes:
                if n not in seen:
                    seen.add(n)
                    paths.append(path + [n])
    return circles


def describe(circle, graph) -> str:
    steps = [] if circle[-1] in graph else [circle.pop()]
    for a, b in zip(circle, circle[1:]):
        where = [f"{line}" + (" in a function" if level == "function" else "") for t, line, level in graph[a] if t == b]
        steps.insert(len(steps) - (1 if steps and steps[-1].startswith("(") else 0),
                     f"{a} (line {', '.join(where)}) -> {b}")
    return "\n  ".join(steps)


def test_the_import_walk_sees_module_and_function_level_imports():
    graph = import_graph()
    levels = {level for targets in graph.values() for _, _, level in targets}
    assert levels == {"module", "function"}
    assert ("labrunner.errors", "module") in {(t, level) for t, _, level in graph["labrunner.services"]}


def test_the_cycle_finder_finds_a_circle():
    graph = {"a": [("b", 1, "module")], "b": [("c", 2, "function")], "c": [("a", 3, "module")], "d": []}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert "b (line 2 in a function) -> c" in describe(cycles(graph)[0], graph)


def test_no_import_circle_among_labrunner_modules():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import circles (every labrunner import counts, module- or function-level):\n" + \
        "\n".join("- " + describe(c, graph) for c in found)


CLI = PACKAGE / "cli"


def check_or_solve_logic_in_cli() -> list[str]:
    """cli/ modules that import labrunner.checks.runner or call runner.apply/run_step/run_check."""
    found = []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "labrunner.checks" and \
                    any(a.name == "runner" for a in node.names) or \
                    isinstance(node, ast.ImportFrom) and node.module == "labrunner.checks.runner" or \
                    isinstance(node, ast.Import) and any(a.name == "labrunner.checks.runner" for a in node.names):
                found.append(f"cli/{path.name}:{node.lineno} imports labrunner.checks.runner")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("apply", "run_step", "run_check") and \
                    isinstance(node.func.value, ast.Name) and node.func.value.id == "runner":
                found.append(f"cli/{path.name}:{node.lineno} calls runner.{node.func.attr}")
    return found


def test_cli_holds_no_check_or_solve_logic():
    assert check_or_solve_logic_in_cli() == []
