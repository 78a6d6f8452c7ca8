"""Start moto's DynamoDB server with labrunner's PartiQL fixes: `python -m labrunner.services.moto_dynamodb -p PORT`.

moto 5.2.5 hands PartiQL to a small parser that answers HTTP 500 on a parameterised
INSERT, UPDATE and DELETE, ignores `begins_with`, fails on `a=?` written without
spaces, cannot add to a number (`SET Plays = Plays + ?`) and lets INSERT overwrite an
existing key. This launcher replaces moto's `execute_statement` with a translator for
the statements DynamoDB's PartiQL allows on one table (SELECT, INSERT, UPDATE, DELETE):
each is turned into the condition and update expressions moto already evaluates for
Query, PutItem, UpdateItem and DeleteItem. A form it does not translate is refused with
one line of DynamoDB-style JSON naming the limit and the way around it; any other moto
crash is answered the same way, never with an HTML 500 page.

It patches moto internals, so it refuses to run on any moto but MOTO_VERSION.
This file imports nothing from labrunner: a container image can run it as it is.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import traceback

MOTO_VERSION = "5.2.5"
PREFIX = "com.amazonaws.dynamodb.v20120810#"
LIMIT = "moto (the local DynamoDB emulator) cannot run this PartiQL form"
WAY_AROUND = ("write it as SELECT/INSERT/UPDATE/DELETE on one table with the key in WHERE, "
              "or use the API calls (query, put-item, update-item, delete-item)")

KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "IS", "MISSING", "NULL", "TRUE", "FALSE"}
FUNCTIONS = {"begins_with", "attribute_exists", "attribute_not_exists", "attribute_type", "contains", "size",
             "list_append", "if_not_exists"}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<str>'(?:[^']|'')*')
  | (?P<name>"(?:[^"]|"")*")
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<param>\?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><<|>>|<=|>=|<>|!=|[=<>+\-(),.{}\[\]:*])
""", re.VERBOSE)


class Unsupported(Exception):
    """A statement this translator does not handle: moto's own parser gets a try."""


# ---- tokens ------------------------------------------------------------------

def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise Unsupported(f"unexpected {text[pos]!r}")
        kind, value = match.lastgroup, match.group()
        pos = match.end()
        if kind == "space":
            continue
        if kind == "str":
            value = value[1:-1].replace("''", "'")
        elif kind == "name":
            value = value[1:-1].replace('""', '"')
        elif kind == "word" and value.upper() in KEYWORDS:
            kind, value = "kw", value.upper()
        tokens.append((kind, value))
    return tokens


class Expr:
    """Turns PartiQL tokens into a DynamoDB expression with #name and :value placeholders."""

    def __init__(self, parameters: list):
        self.parameters = list(parameters or [])
        self.used = 0
        self.names: dict[str, str] = {}
        self.values: dict[str, dict] = {}

    def name(self, attr: str) -> str:
        for key, known in self.names.items():
            if known == attr:
                return key
        key = f"#n{len(self.names)}"
        self.names[key] = attr
        return key

    def value(self, typed: dict) -> str:
        key = f":v{len(self.values)}"
        self.values[key] = typed
        return key

    def next_parameter(self) -> dict:
        if self.used >= len(self.parameters):
            raise Validation("Number of parameters in request and statement don't match.")
        self.used += 1
        return self.parameters[self.used - 1]

    def literal(self, tokens: list, i: int) -> tuple[dict, int]:
        """A PartiQL value at tokens[i] as DynamoDB JSON, and the index after it."""
        kind, text = tokens[i]
        if kind == "str":
            return {"S": text}, i + 1
        if kind == "num":
            return {"N": text}, i + 1
        if kind == "op" and text == "-" and i + 1 < len(tokens) and tokens[i + 1][0] == "num":
            return {"N": "-" + tokens[i + 1][1]}, i + 2
        if kind == "param":
            return self.next_parameter(), i + 1
        if kind == "kw" and text in ("TRUE", "FALSE"):
            return {"BOOL": text == "TRUE"}, i + 1
        if kind == "kw" and text == "NULL":
            return {"NULL": True}, i + 1
        if (kind, text) == ("op", "{"):
            fields, i = {}, i + 1
            while tokens[i] != ("op", "}"):
                if tokens[i][0] not in ("str", "name"):
                    raise Unsupported("a map key must be quoted")
                key = tokens[i][1]
                if tokens[i + 1] != ("op", ":"):
                    raise Unsupported("expected ':' in a map")
                fields[key], i = self.literal(tokens, i + 2)
                if tokens[i] == ("op", ","):
                    i += 1
            return {"M": fields}, i + 1
        if (kind, text) == ("op", "["):
            items, i = [], i + 1
            while tokens[i] != ("op", "]"):
                item, i = self.literal(tokens, i)
                items.append(item)
                if tokens[i] == ("op", ","):
                    i += 1
            return {"L": items}, i + 1
        if (kind, text) == ("op", "<<"):
            items, i = [], i + 1
            while tokens[i] != ("op", ">>"):
                item, i = self.literal(tokens, i)
                items.append(item)
                if tokens[i] == ("op", ","):
                    i += 1
            kinds = {next(iter(v)) for v in items}
            if kinds == {"S"}:
                return {"SS": [v["S"] for v in items]}, i + 1
            if kinds == {"N"}:
                return {"NS": [v["N"] for v in items]}, i + 1
            raise Unsupported("a set must hold only strings or only numbers")
        raise Unsupported(f"expected a value, found {text!r}")

    def path(self, tokens: list, i: int) -> tuple[str, int]:
        parts = [self.name(tokens[i][1])]
        i += 1
        while i < len(tokens):
            if tokens[i] == ("op", ".") and i + 1 < len(tokens) and tokens[i + 1][0] in ("word", "name"):
                parts.append("." + self.name(tokens[i + 1][1]))
                i += 2
            elif tokens[i] == ("op", "[") and i + 2 < len(tokens) and tokens[i + 1][0] == "num" \
                    and tokens[i + 2] == ("op", "]"):
                parts.append(f"[{tokens[i + 1][1]}]")
                i += 3
            else:
                break
        return "".join(parts), i

    def translate(self, tokens: list) -> str:
        """A WHERE condition or a SET value, token by token."""
        out, i, after_in = [], 0, False
        while i < len(tokens):
            kind, text = tokens[i]
            if kind == "word" and text.lower() in FUNCTIONS and i + 1 < len(tokens) and tokens[i + 1] == ("op", "("):
                out.append(text.lower())
                i += 1
            elif kind in ("word", "name"):
                path, i = self.path(tokens, i)
                if i < len(tokens) and tokens[i] == ("kw", "IS"):
                    negated = i + 1 < len(tokens) and tokens[i + 1] == ("kw", "NOT")
                    j = i + 1 + negated
                    if j >= len(tokens) or tokens[j] != ("kw", "MISSING"):
                        raise Unsupported("only IS [NOT] MISSING is translated")
                    out.append(f"attribute_{'exists' if negated else 'not_exists'}({path})")
                    i = j + 1
                else:
                    out.append(path)
            elif kind == "kw" and text in ("AND", "OR", "NOT", "BETWEEN"):
                out.append(text)
                i += 1
            elif kind == "kw" and text == "IN":
                out.append("IN")
                after_in = True
                i += 1
            elif after_in and (kind, text) == ("op", "["):
                out.append("(")
                i += 1
                while tokens[i] != ("op", "]"):
                    value, i = self.literal(tokens, i)
                    out.append(self.value(value))
                    if tokens[i] == ("op", ","):
                        out.append(",")
                        i += 1
                out.append(")")
                i += 1
                after_in = False
            elif kind in ("str", "num", "param") or (kind == "kw" and text in ("TRUE", "FALSE", "NULL")) \
                    or (kind, text) in (("op", "{"), ("op", "<<")) \
                    or ((kind, text) == ("op", "[") and not after_in):
                value, i = self.literal(tokens, i)
                out.append(self.value(value))
            elif kind == "op" and text in ("=", "<>", "!=", "<", "<=", ">", ">=", "(", ")", ",", "+", "-"):
                out.append("<>" if text == "!=" else text)
                i += 1
            else:
                raise Unsupported(f"{text!r} is not translated")
        return " ".join(out)


class Validation(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---- statements --------------------------------------------------------------

def _split_top(tokens: list, word: str) -> list[tuple[int, list]]:
    """Split tokens on a keyword outside parentheses, as (start index, part) pairs; the AND of a
    BETWEEN belongs to it."""
    parts, current, start, depth, between = [], [], 0, 0, False
    for i, token in enumerate(tokens):
        if token in (("op", "("), ("op", "[")):
            depth += 1
        elif token in (("op", ")"), ("op", "]")):
            depth -= 1
        if depth == 0 and token == ("kw", "BETWEEN"):
            between = True
        if depth == 0 and token == ("kw", word):
            if word == "AND" and between:
                between = False
            else:
                parts.append((start, current))
                current, start = [], i + 1
                continue
        current.append(token)
    parts.append((start, current))
    return parts


def _key_equalities(where: list, key_names: list[str]) -> tuple[dict, list]:
    """{key attribute: position of its value in `where`} for top-level `Key = value` conjuncts,
    and the other conjuncts. A WHERE with a top-level OR pins no key."""
    if any(token == ("kw", "OR") for token in where):
        return {}, [part for _, part in _split_top(where, "AND")]
    found, rest = {}, []
    for start, part in _split_top(where, "AND"):
        if len(part) == 3 and part[1] == ("op", "=") and part[0][0] in ("word", "name") \
                and part[0][1] in key_names and part[2][0] in ("str", "num", "param"):
            found[part[0][1]] = start + 2
        elif len(part) == 3 and part[1] == ("op", "=") and part[2][0] in ("word", "name") \
                and part[2][1] in key_names and part[0][0] in ("str", "num", "param"):
            found[part[2][1]] = start
        else:
            rest.append(part)
    return found, rest


def _table_ref(tokens: list, i: int) -> tuple[str, str | None, int]:
    if tokens[i][0] not in ("word", "name"):
        raise Unsupported("expected a table name")
    table, index, i = tokens[i][1], None, i + 1
    if i + 1 < len(tokens) and tokens[i] == ("op", ".") and tokens[i + 1][0] in ("word", "name"):
        index, i = tokens[i + 1][1], i + 2
    return table, index, i


def _find(tokens: list, word: str, start: int = 0) -> int:
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i] in (("op", "("), ("op", "["), ("op", "{")):
            depth += 1
        elif tokens[i] in (("op", ")"), ("op", "]"), ("op", "}")):
            depth -= 1
        elif depth == 0 and tokens[i][0] in ("word", "kw") and tokens[i][1].upper() == word:
            return i
    return -1


def _ordering(value):
    """Sort key order as DynamoDB keeps it: numbers by value, strings and binary by bytes."""
    if value.type == "S":
        return value.value.encode("utf-8")
    return value.cast_value


def run_select(backend, tokens: list, parameters: list) -> list[dict]:
    where_at = _find(tokens, "WHERE")
    from_at = _find(tokens, "FROM")
    order_at = _find(tokens, "ORDER")
    if from_at < 0:
        raise Unsupported("no FROM")
    projection = tokens[1:from_at]
    table_name, index_name, after = _table_ref(tokens, from_at + 1)
    end = order_at if order_at >= 0 else len(tokens)
    if after != (where_at if where_at >= 0 else end):
        raise Unsupported("only one table")
    table = backend.get_table(table_name)
    schema = table.schema
    if index_name:
        indexes = {i.name: i for i in table.all_indexes()}
        if index_name not in indexes:
            raise Validation("The table does not have the specified index")
        schema = indexes[index_name].schema
    hash_name = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
    range_name = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)

    expr = Expr(parameters)
    names: list[str] = []
    if projection != [("op", "*")]:
        for j, token in enumerate(projection):
            if j % 2 == 1:
                if token != ("op", ","):
                    raise Unsupported("only top-level attributes in the projection")
            elif token[0] in ("word", "name"):
                names.append(token[1])
            else:
                raise Unsupported("only top-level attributes in the projection")
    condition = None
    if where_at >= 0:
        condition = get_filter(expr.translate(tokens[where_at + 1:end]), expr.names, expr.values)
    if expr.used != len(expr.parameters):
        raise Validation("Number of parameters in request and statement don't match.")
    descending = False
    if order_at >= 0:
        rest = tokens[order_at + 1:]
        if len(rest) < 2 or rest[0][1].upper() != "BY" or rest[1][1] != range_name:
            raise Validation("ORDER BY is only supported on the sort key")
        descending = len(rest) > 2 and rest[2][1].upper() == "DESC"

    items = [item for item in table.all_items()
             if all(k["AttributeName"] in item.attrs for k in schema)]
    if condition is not None:
        items = [item for item in items if condition.expr(item)]
    pinned, _ = _key_equalities(tokens[where_at + 1:end] if where_at >= 0 else [], [hash_name])
    if (pinned or order_at >= 0) and range_name:
        items.sort(key=lambda item: _ordering(item.attrs[range_name]), reverse=descending)
    result = []
    for item in items:
        attrs = item.to_json()["Attributes"]
        result.append({n: attrs[n] for n in names if n in attrs} if names else attrs)
    return result


def run_insert(backend, tokens: list, parameters: list) -> list[dict]:
    if len(tokens) < 4 or tokens[1][1].upper() != "INTO":
        raise Unsupported("INSERT INTO table VALUE {...}")
    table_name, index_name, i = _table_ref(tokens, 2)
    if index_name or tokens[i][1].upper() != "VALUE":
        raise Unsupported("INSERT INTO table VALUE {...}")
    expr = Expr(parameters)
    value, end = expr.literal(tokens, i + 1)
    if end != len(tokens) or "M" not in value:
        raise Unsupported("INSERT takes one {...} item")
    if expr.used != len(expr.parameters):
        raise Validation("Number of parameters in request and statement don't match.")
    table = backend.get_table(table_name)
    item = value["M"]
    missing = [k for k in table.table_key_attrs if k not in item]
    if missing:
        raise Validation(f"One or more parameter values were invalid: Missing the key {missing[0]} in the item")
    guard = Expr([])
    try:
        backend.put_item(table_name, item, condition_expression=f"attribute_not_exists({guard.name(table.hash_key_attr)})",
                         expression_attribute_names=guard.names, expression_attribute_values={})
    except Exception as exc:
        if type(exc).__name__ == "ConditionalCheckFailed":
            raise Duplicate() from exc
        raise
    return []


class Duplicate(Exception):
    pass


def _returning(tokens: list) -> tuple[list, str]:
    at = _find(tokens, "RETURNING")
    if at < 0:
        return tokens, ""
    words = [t[1].upper() for t in tokens[at + 1:]]
    if len(words) != 3 or words[0] not in ("ALL", "MODIFIED") or words[1] not in ("OLD", "NEW") or words[2] != "*":
        raise Validation("RETURNING takes ALL OLD *, MODIFIED OLD *, ALL NEW * or MODIFIED NEW *")
    return tokens[:at], f"{words[0]} {words[1]}"


def _key_and_condition(backend, table_name: str, where: list, expr: Expr, *, require_item: bool):
    table = backend.get_table(table_name)
    keys = list(table.table_key_attrs)
    found, rest = _key_equalities(where, keys)
    if set(found) != set(keys):
        raise Validation("Where clause does not contain a mandatory equality on all key attributes")
    # Parameters are taken in statement order, so the whole WHERE is translated once, and each
    # key's value is read back from the placeholders it made.
    offset = len(expr.values)
    condition = expr.translate(where)
    made = list(expr.values.values())[offset:]
    key = {}
    for name, position in found.items():
        before = sum(1 for kind, text in where[:position]
                     if kind in ("str", "num", "param") or (kind == "kw" and text in ("TRUE", "FALSE", "NULL")))
        key[name] = made[before]
    if not rest and not require_item:
        condition = None
    return table, key, condition


def _changed(old: dict, new: dict, modified: bool, side: str) -> dict:
    if not modified:
        return new if side == "NEW" else old
    source = new if side == "NEW" else old
    names = {n for n in set(old) | set(new) if old.get(n) != new.get(n)}
    return {n: source[n] for n in names if n in source}


def run_update(backend, tokens: list, parameters: list) -> list[dict]:
    tokens, returning = _returning(tokens)
    table_name, index_name, i = _table_ref(tokens, 1)
    where_at = _find(tokens, "WHERE")
    if index_name or where_at < 0:
        raise Validation("UPDATE needs a WHERE clause naming the item's full primary key")
    expr = Expr(parameters)
    sets, removes = [], []
    while i < where_at:
        verb = tokens[i][1].upper()
        if verb not in ("SET", "REMOVE"):
            raise Unsupported(f"{tokens[i][1]!r} in UPDATE")
        j = i + 1
        while j < where_at and tokens[j][1].upper() not in ("SET", "REMOVE"):
            j += 1
        for clause in _split_commas(tokens[i + 1:j]):
            if verb == "REMOVE":
                path, end = expr.path(clause, 0)
                removes.append(path)
            else:
                path, end = expr.path(clause, 0)
                if end >= len(clause) or clause[end] != ("op", "="):
                    raise Unsupported("SET path = value")
                sets.append(f"{path} = {expr.translate(clause[end + 1:])}")
        i = j
    table, key, condition = _key_and_condition(backend, table_name, tokens[where_at + 1:], expr, require_item=True)
    if expr.used != len(expr.parameters):
        raise Validation("Number of parameters in request and statement don't match.")
    update = " ".join(part for part in (
        "SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "") if part)
    hash_value, range_value = backend.get_keys_value(table, key)
    before = table.get_item(hash_value, range_value)
    old = copy.deepcopy(before.to_json()["Attributes"]) if before else {}
    item = backend.update_item(table_name, key, update, expr.names, expr.values, condition_expression=condition)
    if not returning:
        return []
    modified, side = returning.split()
    return [_changed(old, item.to_json()["Attributes"], modified == "MODIFIED", side)]


def _split_commas(tokens: list) -> list[list]:
    parts, current, depth = [], [], 0
    for token in tokens:
        if token in (("op", "("), ("op", "["), ("op", "{"), ("op", "<<")):
            depth += 1
        elif token in (("op", ")"), ("op", "]"), ("op", "}"), ("op", ">>")):
            depth -= 1
        if depth == 0 and token == ("op", ","):
            parts.append(current)
            current = []
            continue
        current.append(token)
    parts.append(current)
    return [p for p in parts if p]


def run_delete(backend, tokens: list, parameters: list) -> list[dict]:
    tokens, returning = _returning(tokens)
    if len(tokens) < 3 or tokens[1][1].upper() != "FROM":
        raise Unsupported("DELETE FROM table WHERE ...")
    table_name, index_name, i = _table_ref(tokens, 2)
    if index_name or i >= len(tokens) or tokens[i][1].upper() != "WHERE":
        raise Validation("DELETE needs a WHERE clause naming the item's full primary key")
    expr = Expr(parameters)
    table, key, condition = _key_and_condition(backend, table_name, tokens[i + 1:], expr, require_item=False)
    if expr.used != len(expr.parameters):
        raise Validation("Number of parameters in request and statement don't match.")
    item = backend.delete_item(table_name, key, expr.names, expr.values, condition_expression=condition)
    if returning == "ALL OLD" and item is not None:
        return [item.to_json()["Attributes"]]
    if returning and returning != "ALL OLD":
        raise Validation("DELETE supports only RETURNING ALL OLD *")
    return []


RUNNERS = {"SELECT": run_select, "INSERT": run_insert, "UPDATE": run_update, "DELETE": run_delete}


def get_filter(expression: str, names: dict, values: dict):
    from moto.dynamodb.comparisons import get_filter_expression

    return get_filter_expression(expression, names, values)


def execute(backend, statement: str, parameters: list) -> list[dict]:
    """Run one PartiQL statement on a moto backend; Unsupported when it is not translated here."""
    tokens = tokenize(statement)
    if not tokens or tokens[0][0] != "word" or tokens[0][1].upper() not in RUNNERS:
        raise Unsupported("not a SELECT, INSERT, UPDATE or DELETE")
    return RUNNERS[tokens[0][1].upper()](backend, tokens, parameters or [])


# ---- reading a statement (checks use these) -----------------------------------

def _select_parts(statement: str):
    """(table, index, WHERE tokens) of a PartiQL SELECT; None when it is not one this module reads."""
    try:
        tokens = tokenize(statement)
    except Unsupported:
        return None
    if not tokens or tokens[0][1].upper() != "SELECT":
        return None
    from_at, where_at = _find(tokens, "FROM"), _find(tokens, "WHERE")
    if from_at < 0 or from_at + 1 >= len(tokens):
        return None
    try:
        table, index, _ = _table_ref(tokens, from_at + 1)
    except Unsupported:
        return None
    order_at = _find(tokens, "ORDER")
    where = tokens[where_at + 1:order_at if order_at > where_at else len(tokens)] if where_at >= 0 else []
    return table, index, where


def pins_key(statement: str, key: str) -> bool:
    """True when a PartiQL SELECT pins `key` with `=` in a top-level AND of its WHERE: DynamoDB then
    runs it as a Query; otherwise as a Scan."""
    parts = _select_parts(statement)
    return bool(parts) and key in _key_equalities(parts[2], [key])[0]


def reads_index(statement: str) -> str:
    """The index a PartiQL SELECT reads ("Music"."GenreIndex" -> "GenreIndex"), or ""."""
    parts = _select_parts(statement)
    return (parts[1] or "") if parts else ""


# ---- patching moto -----------------------------------------------------------

def _refused_on_aws(exc, action: str) -> str:
    """The ValidationException AWS gives for a request moto breaks on, when it is the request's
    fault: a Query whose key condition compares a number with a string (a key value of the wrong
    type), an index created twice. Empty when moto's failure is moto's own (in a Scan's filter,
    AWS compares the two types as unequal and answers; moto breaks)."""
    text = str(exc)
    if action == "Query" and isinstance(exc, TypeError) and "not supported between instances of" in text:
        return ("One or more parameter values were invalid: a value in the condition does not have the "
                "attribute's type (a number compared with a string): pass numbers as N, strings as S")
    if isinstance(exc, ValueError) and "Index already exists" in text:
        return f"Attempting to create an index which already exists ({text})"
    return ""


def _errors():
    from moto.core.exceptions import JsonRESTError

    def error(kind: str, message: str):
        return JsonRESTError(PREFIX + kind, message)

    return error


def install() -> None:
    """Patch moto's DynamoDB backend and handler. Refuses (SystemExit) on another moto version."""
    from importlib.metadata import version

    found = version("moto")
    if found != MOTO_VERSION:
        raise SystemExit(f"labrunner's DynamoDB launcher patches moto {MOTO_VERSION} and this Python has moto "
                         f"{found}: pip install \"moto[dynamodb]=={MOTO_VERSION}\"")
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    error = _errors()

    def execute_statement(self, statement, parameters):
        # moto's own parser is never used: it answers wrongly without a word (begins_with
        # ignored, Tags[0] projected as {}) or with HTTP 500. A form not translated here is
        # refused in one line.
        try:
            return execute(self, statement, parameters)
        except Unsupported as why:
            raise error("InternalFailure", f"{LIMIT} ({why}); {WAY_AROUND}") from None
        except Validation as exc:
            raise error("ValidationException", exc.message) from exc
        except Duplicate as exc:
            raise error("DuplicateItemException", "Duplicate primary key exists in table") from exc

    original_call = DynamoHandler.call_action

    def call_action(self):
        try:
            return original_call(self)
        except Exception as exc:     # moto broke: one JSON line, not Flask's HTML 500 page
            traceback.print_exc()    # the whole story stays in the engine's log
            action = self._get_action() if hasattr(self, "_get_action") else "this request"
            refused = _refused_on_aws(exc, action)
            if refused:              # AWS refuses these too: say so, as AWS would, not "may work on AWS"
                body = json.dumps({"__type": PREFIX + "ValidationException", "message": refused})
                return 400, {"Content-Type": "application/x-amz-json-1.0"}, body
            body = json.dumps({"__type": PREFIX + "InternalFailure",
                               "message": f"moto (the local DynamoDB emulator) failed on {action}: "
                                          f"{type(exc).__name__}: {str(exc)[:200]}; "
                                          "this request may work on DynamoDB Local or AWS"})
            return 400, {"Content-Type": "application/x-amz-json-1.0"}, body

    DynamoDBBackend.execute_statement = execute_statement
    DynamoHandler.call_action = call_action
    for name in ("update_item", "delete_item"):
        setattr(DynamoDBBackend, name, _refusing_an_empty_key(getattr(DynamoDBBackend, name)))


def _refusing_an_empty_key(method):
    """moto 5.2.5 refuses an empty string as a key in PutItem, GetItem and Query, but UpdateItem
    and DeleteItem (and PartiQL's UPDATE and DELETE, which call them) take it, and UpdateItem
    even stores the item. DynamoDB refuses it in every one of them."""
    from moto.dynamodb.exceptions import KeyIsEmptyStringException

    def checked(self, table_name, key, *args, **kwargs):
        table = self.get_table(table_name)
        for attribute in (table.hash_key_attr, table.range_key_attr):
            value = (key or {}).get(attribute) if attribute else None
            if isinstance(value, dict) and value.get("S", value.get("B")) in ("", b""):
                raise KeyIsEmptyStringException(attribute)
        return method(self, table_name, key, *args, **kwargs)

    return checked


def main(argv: list[str] | None = None) -> None:
    install()
    from moto import server

    server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
