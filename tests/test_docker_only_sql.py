"""The Docker-only labs, proven as far as we can without their engines: every SQL statement in
rds-oracle-basics and rds-sqlserver-basics (step texts and hints, solutions, mistakes, checks,
workspace files) and in the oracle and sqlserver service definitions (set-up and reset) is parsed
with sqlglot in the engine's dialect (`oracle`, `tsql`), and held to the rules of the client that
sends it: SQL*Plus scripts end each statement, python-oracledb gets one statement without its `;`,
and a sqlcmd/pytds batch keeps SET SHOWPLAN_* alone and CREATE SCHEMA first.

What sqlglot does not parse (PL/SQL, Oracle's user and privilege DDL, SQL Server's logins and
DBCC, ...) must match an entry of ALLOWED below: a pattern of that one statement form, with the
reason. A statement that matches nothing fails the test; so does an entry no statement uses.
"""

from __future__ import annotations

import ast
import functools
import logging
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlglot
import yaml
from sqlglot import exp

logging.getLogger("sqlglot").setLevel(logging.ERROR)     # its "falling back to a Command" notes: judged below

REPO = Path(__file__).resolve().parent.parent
LABS = {"rds-oracle-basics": "oracle", "rds-sqlserver-basics": "tsql"}
SERVICES = {"oracle": "oracle", "sqlserver": "tsql"}

# What {{ placeholders }} in step texts and hints become (the values a session shows).
PLACEHOLDERS = {
    "oracle": {"user": "admin", "database": "FREEPDB1", "password": "Pw1secretvalue", "host": "127.0.0.1",
               "port": "1521", "workspace": "/home/learner/labrunner/rds-oracle-basics", "region": "us-east-1"},
    "tsql": {"user": "admin", "database": "appdb", "password": "Pw1secretvalue", "host": "127.0.0.1",
             "port": "1433", "workspace": "/home/learner/labrunner/rds-sqlserver-basics", "region": "us-east-1"},
}
FSTRING_VALUE = "lr_value"          # what an f-string's {expression} becomes: an identifier, valid anywhere

# SQL*Plus's own commands (not sent to the server). SET is SQL*Plus's unless SET ROLE/TRANSACTION/...
SQLPLUS_COMMANDS = {"SET", "SPOOL", "REM", "REMARK", "PROMPT", "EXIT", "QUIT", "COLUMN", "COL", "SHOW", "DESC",
                    "DESCRIBE", "CONNECT", "CONN", "DISCONNECT", "EXEC", "EXECUTE", "@", "@@", "START",
                    "WHENEVER", "TTITLE", "BTITLE", "BREAK", "COMPUTE", "CLEAR", "HOST", "VARIABLE", "VAR", "PRINT",
                    "DEFINE", "UNDEFINE", "ACCEPT", "PAUSE", "TIMING", "SPOOL"}
SQL_SET = {"ROLE", "TRANSACTION", "CONSTRAINT", "CONSTRAINTS"}
PLSQL_START = re.compile(r"^\s*(DECLARE|BEGIN|CREATE\s+(OR\s+REPLACE\s+)?(PROCEDURE|FUNCTION|PACKAGE|TRIGGER|TYPE))\b",
                         re.I)

# The parse tree a statement's first word promises (sqlglot is lenient: "garbage here" parses as an alias).
KINDS = {
    "SELECT": (exp.Select, exp.Union, exp.Intersect, exp.Except), "WITH": (exp.Select, exp.Union),
    "INSERT": (exp.Insert,), "UPDATE": (exp.Update,), "DELETE": (exp.Delete,), "MERGE": (exp.Merge,),
    "CREATE": (exp.Create,), "ALTER": (exp.Alter,), "DROP": (exp.Drop,), "GRANT": (exp.Grant,),
    "REVOKE": (exp.Revoke,), "COMMIT": (exp.Commit,), "ROLLBACK": (exp.Rollback,), "SET": (exp.Set,),
    "USE": (exp.Use,), "EXEC": (exp.Execute,), "EXECUTE": (exp.Execute,), "BEGIN": (exp.Transaction,),
    "TRUNCATE": (exp.TruncateTable,),
}


@dataclass(frozen=True)
class Allowed:
    dialect: str
    pattern: str          # the whole statement must match (case-insensitive, whitespace collapsed)
    reason: str
    inner: str = ""       # a named group that holds SQL sqlglot does parse: it is checked too


# Valid vendor syntax sqlglot cannot parse, one statement form each (checked 2026-11 with sqlglot 30.30).
ALLOWED = [
    # -- Oracle ------------------------------------------------------------------------------------------
    Allowed("oracle", r"EXPLAIN PLAN (SET STATEMENT_ID = '[^']*' )?FOR (?P<query>SELECT .+)",
            "sqlglot has no Oracle EXPLAIN PLAN; the query it explains is parsed", inner="query"),
    Allowed("oracle", r"BEGIN (?P<call>[A-Z_][\w$]*(\.[A-Z_][\w$]*)* ?\(.*\)) ?; END;",
            "a PL/SQL block (also what SQL*Plus's EXEC sends): sqlglot parses no PL/SQL; the call is parsed "
            "as an expression", inner="call"),
    Allowed("oracle", r'CREATE USER \w+ IDENTIFIED BY ("[^"]+"|\w+)( QUOTA (UNLIMITED|\d+[KMG]?) ON \w+)?',
            "Oracle's CREATE USER: sqlglot has no user DDL for Oracle"),
    Allowed("oracle", r'ALTER USER \w+ IDENTIFIED BY ("[^"]+"|\w+)',
            "Oracle's ALTER USER: sqlglot has no user DDL for Oracle"),
    Allowed("oracle", r'DROP USER ("[^"]+"|\w+)( CASCADE)?',
            "Oracle's DROP USER: sqlglot has no user DDL for Oracle"),
    Allowed("oracle", r"GRANT (CREATE SESSION|CONNECT|RESOURCE|DBA|UNLIMITED TABLESPACE|CREATE TABLE)"
                      r"(, (CREATE SESSION|CONNECT|RESOURCE|DBA|UNLIMITED TABLESPACE|CREATE TABLE))* TO \w+",
            "a system privilege or role: sqlglot's GRANT knows object privileges only"),
    Allowed("oracle", r"ALTER SESSION SET (NLS_\w+ = '[^']*'|CURRENT_SCHEMA = \w+)",
            "ALTER SESSION is Oracle's own statement, unknown to sqlglot"),
    Allowed("oracle", r"ALTER TABLE \w+ MODIFY \w+ GENERATED (ALWAYS|BY DEFAULT( ON NULL)?) AS IDENTITY "
                      r"\(START WITH (LIMIT VALUE|\d+)\)",
            "ALTER TABLE ... MODIFY an identity column: sqlglot's Oracle ALTER has no MODIFY ... IDENTITY"),
    # -- SQL Server ----------------------------------------------------------------------------------------
    Allowed("tsql", r"SET IDENTITY_INSERT [\w.\[\]]+ (ON|OFF)",
            "SET IDENTITY_INSERT is SQL Server's own option, unknown to sqlglot"),
    Allowed("tsql", r"(CREATE|ALTER) LOGIN (\w+|\[\w+\]) WITH PASSWORD = '[^']*'(, CHECK_POLICY = (ON|OFF))?",
            "logins are SQL Server's own principals: sqlglot has no CREATE/ALTER LOGIN"),
    Allowed("tsql", r"DROP LOGIN (\w+|\[\w+\])", "logins are SQL Server's own principals: sqlglot has no DROP LOGIN"),
    Allowed("tsql", r"CREATE USER (\w+|\[\w+\]) FOR LOGIN (\w+|\[\w+\])( WITH DEFAULT_SCHEMA = \w+)?",
            "a database user mapped to a login: sqlglot has no T-SQL CREATE USER"),
    Allowed("tsql", r"GRANT (SELECT|INSERT|UPDATE|DELETE|EXECUTE)(, (SELECT|INSERT|UPDATE|DELETE|EXECUTE))* "
                    r"ON (SCHEMA::\w+|OBJECT::\w+\.\w+) TO \w+",
            "GRANT ... ON SCHEMA:: (a securable class): sqlglot's GRANT has no class qualifier"),
    Allowed("tsql", r"ALTER (SERVER )?ROLE \w+ ADD MEMBER (\w+|\[\w+\])",
            "role membership: sqlglot has no ALTER ROLE / ALTER SERVER ROLE"),
    Allowed("tsql", r"CREATE SCHEMA \w+ AUTHORIZATION \w+",
            "a schema with its owner named: sqlglot's CREATE SCHEMA has no AUTHORIZATION clause"),
    Allowed("tsql", r"UPDATE STATISTICS [\w.]+", "UPDATE STATISTICS is SQL Server's own statement"),
    Allowed("tsql", r"DBCC SHOW_STATISTICS \('[\w.]+', \w+\)( WITH (HISTOGRAM|STAT_HEADER|DENSITY_VECTOR))?",
            "DBCC is SQL Server's console command family, unknown to sqlglot"),
    Allowed("tsql", r"ALTER DATABASE (\w+|\[\w+\]) SET SINGLE_USER WITH ROLLBACK IMMEDIATE",
            "ALTER DATABASE ... SET options: sqlglot has no T-SQL ALTER DATABASE"),
]


@dataclass
class Statement:
    where: str            # file:line and how it was found
    dialect: str
    text: str
    via: str              # "sqlplus", "sqlcmd", "driver" (one execute call), "inline" (a `...;` in prose)


@dataclass
class Survey:
    statements: list[Statement] = field(default_factory=list)
    client_commands: list[str] = field(default_factory=list)       # SQL*Plus / sqlcmd commands, not SQL
    errors: list[str] = field(default_factory=list)
    parsed: int = 0
    allowed: dict[str, int] = field(default_factory=dict)           # pattern -> statements it let through
    deliberate: list[str] = field(default_factory=list)             # wrong on purpose, and proven wrong
    samples: dict[str, str] = field(default_factory=dict)           # pattern -> one statement it let through
    whole: int = 0                # statements sqlglot parsed as they stand
    by_form: int = 0              # statements let through by an ALLOWED form (its inner SQL parsed)


def check_all(survey: Survey) -> Survey:
    for statement in list(survey.statements):
        allowed, errors = sum(survey.allowed.values()), len(survey.errors)
        check(statement.text, statement.dialect, statement.where, survey)
        if len(survey.errors) == errors:
            if sum(survey.allowed.values()) > allowed:
                survey.by_form += 1
            else:
                survey.whole += 1
    return survey


# ---- splitting scripts ---------------------------------------------------------------------------------

TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\[[^\]]*\]|--[^\n]*|/\*.*?\*/|\w+|[^\w\s]", re.S)


def split_statements(text: str) -> list[str]:
    """Split on `;` outside quotes, comments and BEGIN ... END blocks (BEGIN TRAN/TRANSACTION is no block)."""
    pieces, start, depth = [], 0, 0
    tokens = list(TOKEN.finditer(text))
    for i, token in enumerate(tokens):
        word = token.group().upper()
        following = tokens[i + 1].group().upper() if i + 1 < len(tokens) else ""
        if word == "BEGIN" and following not in ("TRAN", "TRANSACTION", "DISTRIBUTED"):
            depth += 1
        elif word == "END" and depth and following not in ("IF", "LOOP", "CASE"):
            depth -= 1
        elif word == ";" and depth == 0:
            pieces.append(text[start:token.end()])
            start = token.end()
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip() and p.strip() != ";"]


def sqlplus_script(text: str, where: str, survey: Survey, dialect: str = "oracle") -> None:
    """A SQL*Plus script: SQL*Plus commands one a line; SQL ends with `;` or a `/` line; PL/SQL with `/`."""
    buffer: list[str] = []
    first_line = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not buffer:
            if not stripped or stripped.startswith("--"):
                continue
            words = stripped.split()
            head = words[0].upper().rstrip(";")
            if head.startswith("@"):
                head = "@"
            second = words[1].upper() if len(words) > 1 else ""
            if head in SQLPLUS_COMMANDS and not (head == "SET" and second in SQL_SET):
                if head in ("EXEC", "EXECUTE"):
                    call = stripped.split(None, 1)[1].rstrip().rstrip(";")
                    survey.statements.append(Statement(f"{where}:{number} (EXEC)", dialect,
                                                       f"BEGIN {call}; END;", "sqlplus"))
                else:
                    survey.client_commands.append(f"{where}:{number}: {stripped}")
                continue
            first_line = number
        if stripped == "/":
            if buffer:
                survey.statements.append(Statement(f"{where}:{first_line}", dialect, "\n".join(buffer), "sqlplus"))
            buffer = []
            continue
        buffer.append(line)
        if not PLSQL_START.match(buffer[0]) and stripped.endswith(";"):
            survey.statements.append(Statement(f"{where}:{first_line}", dialect,
                                               "\n".join(buffer).rstrip().rstrip(";"), "sqlplus"))
            buffer = []
    if buffer:
        survey.errors.append(f"{where}:{first_line}: this statement has no `;` (or `/` line) after it, so SQL*Plus "
                             f"keeps it in its buffer and never runs it: {' '.join(buffer)[:80]!r}")


GO = re.compile(r"^\s*GO\s*(\d+)?\s*;?\s*$", re.I)


def sqlcmd_script(text: str, where: str, survey: Survey, via: str = "sqlcmd") -> None:
    """A sqlcmd script: batches end at a GO line (a sqlcmd command, not T-SQL)."""
    batch: list[str] = []
    first_line = 1
    for number, line in enumerate(text.splitlines() + ["GO"], 1):
        if GO.match(line):
            if "\n".join(batch).strip():
                add_batch("\n".join(batch), f"{where}:{first_line}", survey, via)
            batch, first_line = [], number + 1
        elif line.strip().startswith(":"):
            survey.client_commands.append(f"{where}:{number}: {line.strip()}")
        else:
            batch.append(line)


ALONE_IN_BATCH = re.compile(r"^SET\s+(SHOWPLAN_TEXT|SHOWPLAN_XML|SHOWPLAN_ALL|PARSEONLY)\b", re.I)
FIRST_IN_BATCH = re.compile(r"^CREATE\s+(OR\s+ALTER\s+)?(SCHEMA|VIEW|PROC|PROCEDURE|FUNCTION|TRIGGER|DEFAULT|RULE)\b",
                            re.I)


def add_batch(text: str, where: str, survey: Survey, via: str) -> None:
    """A T-SQL batch, held to the server's batch rules, then each statement."""
    statements = split_statements(text)
    for index, statement in enumerate(statements):
        if ALONE_IN_BATCH.match(statement) and len(statements) > 1:
            survey.errors.append(f"{where}: {statement.split()[1]} must be the only statement in its batch "
                                 f"(SQL Server error 1067): {text.strip()[:80]!r}")
        if FIRST_IN_BATCH.match(statement) and index > 0:
            survey.errors.append(f"{where}: {' '.join(statement.split()[:2])} must be the first statement in a "
                                 f"batch (SQL Server error 111): {text.strip()[:80]!r}")
        survey.statements.append(Statement(where, "tsql", statement.rstrip(";"), via))


def driver_sql(text: str, where: str, dialect: str, survey: Survey) -> None:
    """The text of one execute() call: one Oracle statement, or one T-SQL batch."""
    if dialect == "tsql":
        add_batch(text, where, survey, "driver")
        return
    pieces = split_statements(text)
    plsql = bool(PLSQL_START.match(text))
    if len(pieces) > 1 and not plsql:
        survey.errors.append(f"{where}: python-oracledb runs one statement per execute(); this has {len(pieces)}: "
                             f"{text[:80]!r}")
    if text.rstrip().endswith(";") and not plsql:
        survey.errors.append(f"{where}: a SQL statement sent by python-oracledb must not end with `;` "
                             f"(ORA-00933/ORA-03048): {text[:80]!r}")
    if plsql and not re.search(r"\bEND\s*;\s*$", text, re.I):
        survey.errors.append(f"{where}: a PL/SQL block must end with `END;`: {text[:80]!r}")
    survey.statements.append(Statement(where, dialect, text.strip() if plsql else text.strip().rstrip(";"),
                                       "driver"))


# ---- finding SQL in Python ------------------------------------------------------------------------------

SINK_METHODS = {"execute": 0, "executemany": 0}


class _Unresolved(Exception):
    pass


def _bindings(tree: ast.AST) -> dict[str, list[ast.AST]]:
    """Every value assigned to a name in this scope, including for-loop targets over tuple literals."""
    found: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Tuple) and \
                isinstance(node.iter, (ast.Tuple, ast.List)):
            for position, name in enumerate(node.target.elts):
                if isinstance(name, ast.Name):
                    for item in node.iter.elts:
                        if isinstance(item, (ast.Tuple, ast.List)) and len(item.elts) == len(node.target.elts):
                            found.setdefault(name.id, []).append(item.elts[position])
    return found


def _values(node: ast.AST, scopes: list[dict], foreign: dict) -> list[str]:
    """The string(s) an expression can hold, read from the source alone."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        parts = [[v.value] if isinstance(v, ast.Constant) else [FSTRING_VALUE] for v in node.values]
        return ["".join(p[0] for p in parts)]
    if isinstance(node, ast.Name):
        for scope in scopes:
            if node.id in scope:
                return [v for value in scope[node.id] for v in _values(value, scopes, foreign)]
    if isinstance(node, ast.Attribute) and node.attr in foreign:           # solutions.CUSTOMERS from mistakes.py
        return [v for value in foreign[node.attr] for v in _values(value, [foreign], {})]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace" and \
            len(node.args) == 2 and all(isinstance(a, ast.Constant) for a in node.args):
        return [v.replace(node.args[0].value, node.args[1].value)
                for v in _values(node.func.value, scopes, foreign)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in _values(node.left, scopes, foreign) for b in _values(node.right, scopes, foreign)]
    raise _Unresolved(ast.unparse(node))


def python_sql(source: str, where: str, dialect: str, survey: Survey, foreign: dict | None = None) -> int:
    """Every string that reaches cursor.execute/executemany (directly, through a name, a for-loop over
    literals, or a helper of this file that passes its parameter on). Returns the number of call sites."""
    tree = ast.parse(source)
    module_scope = _bindings(ast.Module(body=[n for n in tree.body if not isinstance(n, (ast.FunctionDef,
                                                                                          ast.ClassDef))],
                                        type_ignores=[]))
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    sinks: dict[str, int] = {}             # helper function -> index of its parameter that reaches execute()

    def sink_index(call: ast.Call) -> int | None:
        if isinstance(call.func, ast.Attribute) and call.func.attr in SINK_METHODS:
            return SINK_METHODS[call.func.attr]
        if isinstance(call.func, ast.Name) and call.func.id in sinks:
            return sinks[call.func.id]
        return None

    changed = True
    while changed:
        changed = False
        for name, function in functions.items():
            params = [a.arg for a in function.args.args]
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                index = sink_index(call)
                if index is not None and index < len(call.args) and isinstance(call.args[index], ast.Name) and \
                        call.args[index].id in params and name not in sinks:
                    sinks[name] = params.index(call.args[index].id)
                    changed = True
    sites = 0
    owners = {id(n): f for f in functions.values() for n in ast.walk(f)}
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        index = sink_index(call)
        if index is None or index >= len(call.args):
            continue
        owner = functions.get(getattr(owners.get(id(call)), "name", ""), None)
        argument = call.args[index]
        if owner is not None and owner.name in sinks and isinstance(argument, ast.Name) and \
                argument.id == owner.args.args[sinks[owner.name]].arg:
            continue                      # the helper passing its own parameter on: its callers are the sites
        scopes = ([_bindings(owner)] if owner is not None else []) + [module_scope]
        sites += 1
        try:
            for text in _values(argument, scopes, foreign or {}):
                driver_sql(bind_free(text, dialect), f"{where}:{call.lineno}", dialect, survey)
        except _Unresolved as unresolved:
            survey.errors.append(f"{where}:{call.lineno}: cannot tell which SQL reaches this call from the source "
                                 f"({unresolved}); write it as a literal or a name bound to one")
    return sites


def bind_free(text: str, dialect: str) -> str:
    """Driver placeholders as the server sees them: oracledb's :1 as a named bind, pytds's %s as @P1."""
    counter = iter(range(1, 1000))

    def outside_quotes(match):
        chunk = match.group()
        if chunk.startswith("'"):
            return chunk
        if dialect == "oracle":
            return re.sub(r":(\d+)\b", r":p\1", chunk)
        chunk = re.sub(r"%\((\w+)\)s", r"@\1", chunk)
        return re.sub(r"%s", lambda _: f"@P{next(counter)}", chunk)

    return re.sub(r"'(?:[^']|'')*'|[^']+", outside_quotes, text)


# ---- finding SQL in texts ----------------------------------------------------------------------------------

FENCE = re.compile(r"^[ \t]*```(\w*)[ \t]*\n(.*?)^[ \t]*```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+;)`")
STATEMENT_START = re.compile(r"^(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|GRANT|REVOKE|COMMIT|ROLLBACK|EXEC|"
                             r"USE|EXPLAIN|DBCC|TRUNCATE|MERGE|WITH)\b", re.I)
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def fill(text: str, dialect: str, where: str, survey: Survey) -> str:
    def value(match):
        if match.group(1) not in PLACEHOLDERS[dialect]:
            survey.errors.append(f"{where}: unknown placeholder {match.group()}")
            return match.group()
        return PLACEHOLDERS[dialect][match.group(1)]

    return PLACEHOLDER.sub(value, text)


def script(text: str, where: str, dialect: str, survey: Survey) -> None:
    if dialect == "oracle":
        sqlplus_script(text, where, survey)
    else:
        sqlcmd_script(text, where, survey)


def shell_sql(code: str, where: str, dialect: str, survey: Survey) -> None:
    """SQL inside shell commands: sqlcmd -Q/-q, bcp "query" queryout, echo "..." | ... sqlplus."""
    for number, line in enumerate(code.splitlines(), 1):
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        place = f"{where}+{number}"
        if "sqlcmd" in words:
            for flag in ("-Q", "-q"):
                if flag in words:
                    sqlcmd_script(words[words.index(flag) + 1], place, survey, via="sqlcmd -Q")
        if "bcp" in words and "queryout" in words:
            survey.statements.append(Statement(place, "tsql", words[words.index("bcp") + 1], "bcp queryout"))
        if "sqlplus" in words and "|" in words and words[0] == "echo":
            sqlplus_script(words[1], place, survey)


def text_sql(text: str, where: str, dialect: str, survey: Survey, counts: dict) -> None:
    """```sql blocks, SQL in ```python and ```bash blocks, and `...;` statements in the prose."""
    text = fill(text, dialect, where, survey)
    prose = text
    for block in FENCE.finditer(text):
        prose = prose.replace(block.group(0), "")
        language, code = block.group(1).lower(), block.group(2)
        line = text[:block.start()].count("\n") + 2
        place = f"{where}:{line}"
        before = len(survey.statements)
        if language == "sql":
            script(code, f"{where}@{line}", dialect, survey)
        elif language == "python":
            python_sql(code, place, dialect, survey)
        elif language in ("bash", "sh", "shell", "powershell"):
            shell_sql(code, place, dialect, survey)
        counts[language] = counts.get(language, 0) + len(survey.statements) - before
    for span in INLINE.finditer(prose):
        if not STATEMENT_START.match(span.group(1)):
            continue
        before = len(survey.statements)
        if (dialect, span.group(1)) in DELIBERATE:
            deliberate(dialect, span.group(1), f"{where} (inline)", survey)
        elif dialect == "tsql":
            add_batch(span.group(1), f"{where} (inline)", survey, "inline")      # sqlcmd: a batch, then GO
        else:
            sqlplus_script(span.group(1), f"{where} (inline)", survey)
        counts["inline"] = counts.get("inline", 0) + len(survey.statements) - before


# Wrong on purpose: a lab text shows the error this SQL gets. The test proves the same error here.
DELIBERATE = {
    ("tsql", "SELECT 1; CREATE SCHEMA test;"):
        ("first statement in a batch", "steps/01-connect.md shows SQL Server's error 111 for it"),
}


def deliberate(dialect: str, text: str, where: str, survey: Survey) -> None:
    said, _ = DELIBERATE[(dialect, text)]
    trial = Survey()
    add_batch(text, where, trial, "inline") if dialect == "tsql" else sqlplus_script(text, where, trial)
    for statement in trial.statements:
        check(statement.text, dialect, where, trial)
    if not any(said in error for error in trial.errors):
        survey.errors.append(f"{where}: the lab says {text!r} fails ({said}), but here it does not: {trial.errors}")
    survey.deliberate.append(f"{where}: {text}")


# ---- checking one statement --------------------------------------------------------------------------------

IF_STATEMENT = re.compile(r"^IF\s+(?P<cond>.+?)\s+(?P<body>(BEGIN\b.*\bEND|(CREATE|ALTER|DROP|EXEC|EXECUTE|SELECT|"
                          r"INSERT|UPDATE|DELETE|SET|PRINT|THROW|RAISERROR)\b.*))$", re.I | re.S)
DYNAMIC_SQL = re.compile(r"^EXEC(UTE)?\s*\(\s*N?'((?:[^']|'')*)'\s*\)$", re.I | re.S)


def _normal(text: str) -> str:
    """The statement on one line: `--` comments out, each run of white space one space."""
    return re.sub(r"\s+", " ", re.sub(r"--[^\n']*$", "", text, flags=re.M)).strip()


def _allowed(text: str, dialect: str) -> Allowed | None:
    flat = _normal(text)
    for entry in ALLOWED:
        if entry.dialect == dialect and re.fullmatch(entry.pattern, flat, re.I | re.S):
            return entry
    return None


def check(text: str, dialect: str, where: str, survey: Survey) -> None:
    """Parse one statement; anything sqlglot does not understand must be on the allow-list."""
    text = text.strip()
    condition = IF_STATEMENT.match(text) if dialect == "tsql" else None
    if condition:                                      # T-SQL IF: its condition and its body, each checked
        check(f"SELECT 1 WHERE {condition.group('cond')}", dialect, where, survey)
        body = condition.group("body")
        block = re.match(r"^BEGIN\b(.*)\bEND$", body, re.I | re.S)
        for statement in split_statements(block.group(1)) if block else [body]:
            check(statement.rstrip(";"), dialect, where, survey)
        return
    dynamic = DYNAMIC_SQL.match(text) if dialect == "tsql" else None
    if dynamic:                                        # EXEC('...'): the string is a batch of its own
        add_batch(dynamic.group(2).replace("''", "'"), f"{where} (EXEC string)", survey, "dynamic")
        for statement in [s for s in survey.statements if s.where == f"{where} (EXEC string)"]:
            survey.statements.remove(statement)
            check(statement.text, dialect, where, survey)
        survey.parsed += 1
        return
    entry = _allowed(text, dialect)
    if entry:
        survey.allowed[entry.pattern] = survey.allowed.get(entry.pattern, 0) + 1
        survey.samples.setdefault(entry.pattern, text)
        if entry.inner:
            inner = re.fullmatch(entry.pattern, _normal(text), re.I | re.S).group(entry.inner)
            check(inner if inner.upper().startswith("SELECT") else f"SELECT {inner} FROM dual", dialect, where, survey)
        return
    try:
        trees = sqlglot.parse(text, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as error:
        survey.errors.append(f"{where}: {dialect} does not parse: {str(error).splitlines()[0][:120]}\n    {text[:160]!r}")
        return
    trees = [t for t in trees if t is not None]
    first = text.split()[0].upper().rstrip(";(")
    if len(trees) != 1:
        survey.errors.append(f"{where}: expected one statement, sqlglot found {len(trees)}: {text[:120]!r}")
    elif any(isinstance(node, exp.Command) for node in trees[0].walk()):
        survey.errors.append(f"{where}: sqlglot does not understand this {dialect} statement; if it is valid, add "
                             f"an ALLOWED entry with the reason: {text[:160]!r}")
    elif first not in KINDS or not isinstance(trees[0], KINDS[first]):
        survey.errors.append(f"{where}: a statement starting {first} parsed as {type(trees[0]).__name__}, "
                             f"not as one: {text[:120]!r}")
    elif isinstance(trees[0], exp.Insert) and trees[0].expression is None:
        survey.errors.append(f"{where}: an INSERT without VALUES or a query: {text[:120]!r}")
    elif dialect == "tsql" and any(isinstance(node, exp.Placeholder) for node in trees[0].walk()):
        survey.errors.append(f"{where}: ':name' is not T-SQL (a variable is @name; a securable class is "
                             f"CLASS::name): {text[:120]!r}")
    elif reread(text, trees[0], dialect):
        survey.errors.append(f"{where}: sqlglot reads this otherwise than it is written ({reread(text, trees[0], dialect)}"
                             f"): it is likely not valid {dialect}: {text[:120]!r}")
    else:
        survey.parsed += 1


# What sqlglot writes back in place of a word that is just as valid: not a difference in the statement.
SAME_WORD = {"oracle": {},
             "tsql": {"INT": "INTEGER", "DECIMAL": "NUMERIC", "EXEC": "EXECUTE", "SYSDATETIME": "GETDATE",
                      "SUSER_NAME": "CURRENT_USER"}}
NOISE_WORDS = {"oracle": set(), "tsql": {"AS", "TRANSACTION"}}   # optional (aliases, ROLLBACK); sqlglot adds them


def reread(text: str, tree: exp.Expression, dialect: str) -> str:
    """The words sqlglot adds or drops when it writes the statement back in the same dialect (sqlglot is
    lenient: it reads `LIMIT 5` in Oracle, `INCREMENT 1` for INCREMENT BY 1, `SELECT a, FROM t`). Compared
    as a multiset of tokens, so a reordering sqlglot prefers (NOT x IN for x NOT IN) is no difference."""
    from collections import Counter

    def words(sql):
        tokens = [t.text.upper() for t in sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)]
        return Counter(SAME_WORD[dialect].get(t, t) for t in tokens if t not in NOISE_WORDS[dialect])

    written, read = words(text), words(tree.sql(dialect=dialect))
    added, dropped = read - written, written - read
    return ", ".join(filter(None, [f"adds {' '.join(sorted(added))}" if added else "",
                                   f"drops {' '.join(sorted(dropped))}" if dropped else ""]))


# ---- the survey of one lab ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def survey_lab(lab_id: str) -> tuple[Survey, dict]:
    dialect = LABS[lab_id]
    lab = REPO / "labs" / lab_id
    survey, counts = Survey(), {}
    for path in sorted(lab.glob("*.md")) + sorted((lab / "steps").glob("*.md")):
        text_sql(path.read_text(), str(path.relative_to(REPO)), dialect, survey, counts)
    raw = yaml.safe_load((lab / "lab.yaml").read_text())
    for number, step in enumerate(raw["steps"]):
        for tier, hint in enumerate(step.get("hints", []), 1):
            text_sql(hint, f"labs/{lab_id}/lab.yaml steps[{number}] hint {tier}", dialect, survey, counts)
    solutions = _bindings(ast.Module(body=[n for n in ast.parse((lab / "solutions.py").read_text()).body
                                           if isinstance(n, ast.Assign)], type_ignores=[]))
    for name in ("checks", "solutions", "mistakes", "routes"):
        before = len(survey.statements)
        python_sql((lab / f"{name}.py").read_text(), f"labs/{lab_id}/{name}.py", dialect, survey,
                   foreign=solutions if name == "mistakes" else None)
        counts[f"{name}.py"] = len(survey.statements) - before
    for path in sorted((lab / "workspace").iterdir()):
        before = len(survey.statements)
        if path.suffix == ".py":
            python_sql(path.read_text(), str(path.relative_to(REPO)), dialect, survey)
        elif path.suffix == ".sql":
            script(path.read_text(), str(path.relative_to(REPO)), dialect, survey)
        else:
            continue                      # data (CSV)
        counts[f"workspace/{path.name}"] = len(survey.statements) - before
    return check_all(survey), counts


@functools.lru_cache(maxsize=None)
def survey_service(name: str) -> Survey:
    survey = Survey()
    path = REPO / "src" / "labrunner" / "services" / f"{name}.py"
    python_sql(path.read_text(), str(path.relative_to(REPO)), SERVICES[name], survey)
    return check_all(survey)


# ---- the tests ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lab_id", sorted(LABS))
def test_every_sql_statement_of_the_lab_parses_in_its_dialect(lab_id):
    survey, _ = survey_lab(lab_id)
    assert survey.errors == []


@pytest.mark.parametrize("lab_id", sorted(LABS))
def test_sql_is_found_in_every_part_of_the_lab(lab_id):
    """The extraction reads what the learner reads and what labrunner runs: nothing comes back empty."""
    survey, counts = survey_lab(lab_id)
    for part in ("sql", "python", "inline", "checks.py", "solutions.py", "mistakes.py", "routes.py",
                 "workspace/load_bookshop.py"):
        assert counts.get(part, 0) > 0, (part, counts)
    assert len(survey.statements) >= 100 and survey.whole + survey.by_form == len(survey.statements)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_service_set_up_and_reset_sql_parses(name):
    """initialize() and reset() of the Docker-only services also never run in CI."""
    survey = survey_service(name)
    assert survey.errors == [] and len(survey.statements) >= 4


def test_every_allowed_form_is_still_needed():
    """An entry no statement uses is dropped; one whose statements sqlglot now parses is dropped too."""
    samples = {}
    for survey in [survey_lab(lab_id)[0] for lab_id in LABS] + [survey_service(name) for name in SERVICES]:
        samples.update(survey.samples)
    assert [e.pattern for e in ALLOWED if e.pattern not in samples] == []
    for entry in ALLOWED:
        try:
            trees = sqlglot.parse(samples[entry.pattern], read=entry.dialect, error_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.SqlglotError:
            continue
        assert any(isinstance(n, exp.Command) for t in trees if t for n in t.walk()), \
            f"sqlglot now parses {samples[entry.pattern]!r}: drop the ALLOWED entry {entry.pattern!r}"


BROKEN = [
    # (dialect, how it is sent, text, what the test must say)
    ("oracle", "sqlplus", "SELEC * FROM orders;", "does not parse"),
    ("oracle", "sqlplus", "CREATE TABEL notes (id NUMBER);", "does not understand"),
    ("oracle", "sqlplus", "INSERT INTO notes (id, body) VALUES (1, 'x';", "does not parse"),
    ("oracle", "sqlplus", "INSERT INTO notes;", "without VALUES"),
    ("oracle", "sqlplus", "hello notes;", "parsed as"),
    ("oracle", "sqlplus", "CREATE USER reporting IDENTIFED BY x;", "does not understand"),
    ("oracle", "sqlplus", "SELECT 1 FROM dual", "no `;`"),
    ("oracle", "driver", "SELECT 1 FROM dual;", "must not end with `;`"),
    ("oracle", "driver", "CREATE TABLE a (id NUMBER); CREATE TABLE b (id NUMBER)", "one statement per execute"),
    ("oracle", "driver", "BEGIN DBMS_STATS.GATHER_TABLE_STATS(USER, 'ORDERS')", "must end with `END;`"),
    ("tsql", "sqlcmd", "SET SHOWPLAN_TEXT ON;\nSELECT 1;\nGO", "only statement in its batch"),
    ("tsql", "sqlcmd", "SELECT 1;\nCREATE SCHEMA shop;\nGO", "first statement in a batch"),
    ("tsql", "sqlcmd", "CREATE LOGIN reporting WITH PASWORD = 'x';\nGO", "does not understand"),
    ("tsql", "driver", "IF SUSER_ID('x') IS NULL CREATE LOGON x WITH PASSWORD = 'y'", "does not understand"),
    ("tsql", "driver", "EXEC('CREATE SCEMA shop')", "does not understand"),
    ("oracle", "sqlplus", "CREATE SEQUENCE customer_seq START WITH 1000 INCREMENT 1;", "otherwise than it is written"),
    ("oracle", "sqlplus", "SELECT * FROM orders LIMIT 5;", "otherwise than it is written"),
    ("oracle", "driver", "SELECT order_id, FROM orders", "otherwise than it is written"),
    ("tsql", "driver", "GRANT SELECT ON SCHEMA:shop TO reporting", "is not T-SQL"),
]


@pytest.mark.parametrize("dialect, via, text, said", BROKEN, ids=[b[2][:40] for b in BROKEN])
def test_broken_sql_is_caught(dialect, via, text, said):
    """The proof can fail: typical slips in SQL and in how a client sends it are each reported."""
    survey = Survey()
    if via == "sqlplus":
        sqlplus_script(text, "example", survey)
    elif via == "sqlcmd":
        sqlcmd_script(text, "example", survey)
    else:
        driver_sql(text, "example", dialect, survey)
    check_all(survey)
    assert any(said in error for error in survey.errors), survey.errors


def summary() -> str:
    """Counts for the README and for a person reading the test log (`pytest -s`)."""
    lines = []
    for lab_id in sorted(LABS):
        survey, counts = survey_lab(lab_id)
        lines.append(f"{lab_id}: {len(survey.statements)} statements ({survey.whole} parsed by sqlglot as they "
                     f"stand, {survey.by_form} by an allowed form), {len(survey.client_commands)} client commands, "
                     f"{len(survey.deliberate)} wrong on purpose; by source {counts}")
    for name in sorted(SERVICES):
        survey = survey_service(name)
        lines.append(f"services/{name}.py: {len(survey.statements)} statements ({survey.whole} parsed, "
                     f"{survey.by_form} by an allowed form)")
    return "\n".join(lines)
