"""lab.yaml read as plain data: no aliases or anchors, no duplicate keys, no deep nesting.

An alias can make a few hundred bytes expand into gigabytes (a "billion laughs" file), and a
duplicate key silently drops one of two values; a lab file needs neither, so both are refused
before anything is built. Errors are `Refused(line, problem)`; the loader adds the file's name.
"""

from __future__ import annotations

import functools

MAX_DEPTH = 12          # lab.yaml nests four levels deep (steps -> step -> mistakes -> mistake)


class Refused(Exception):
    def __init__(self, line: int | None, problem: str):
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _line(mark) -> int | None:
    return mark.line + 1 if mark is not None else None


def load(text: str):
    """Parse one YAML document of plain data; Refused says where and why it cannot be."""
    import yaml

    try:
        _scan(text)
        return yaml.load(text, Loader=_strict_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise Refused(_line(mark), exc.problem or exc.context or "not valid YAML") from None
    except yaml.YAMLError as exc:
        raise Refused(None, str(exc).splitlines()[0] if str(exc) else "not valid YAML") from None
    except ValueError as exc:         # e.g. an integer of more digits than Python converts
        raise Refused(None, f"a value cannot be read: {str(exc)[:80]}") from None
    except RecursionError:
        raise Refused(None, f"nested deeper than {MAX_DEPTH} levels") from None


def _scan(text: str) -> None:
    """Walk the parser's events (cheap: nothing is built) refusing aliases, anchors and depth."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = 0
    for event in yaml.parse(text, Loader=base):
        if isinstance(event, yaml.AliasEvent):
            raise Refused(_line(event.start_mark), f"an alias (*{event.anchor:.40}) is not allowed in a "
                                                   "lab file: write the value out")
        if getattr(event, "anchor", None):
            raise Refused(_line(event.start_mark), f"an anchor (&{event.anchor:.40}) is not allowed in a "
                                                   "lab file: write the value out")
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise Refused(_line(event.start_mark), f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


@functools.lru_cache(maxsize=1)
def _strict_loader():
    import reprlib

    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when present

    class StrictLoader(base):
        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen = set()
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        raise yaml.constructor.ConstructorError(
                            None, None, "a merge key (<<) is not allowed in a lab file", key_node.start_mark)
                    if isinstance(key_node, yaml.ScalarNode):      # the usual key: compare without building
                        key = (key_node.tag, key_node.value)
                    else:
                        try:
                            key = hash(self.construct_object(key_node, deep=True)), key_node.tag
                        except TypeError:                        # unhashable: the base class says so
                            continue
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {reprlib.repr(key_node.value)}", key_node.start_mark)
                    seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictLoader
