"""Architecture rules checked on the source tree (AST), each as a function from a module to its violations.

``test_rules.py`` runs every rule over ``src/cordon`` (no violation allowed) and over a deliberate violation
(each rule must catch its own).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "cordon"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
ONE_PIECE = "# One piece:"  # the comment that explains why a longer function must stay whole

# The audit app's write helpers are the primitives every action writes with (inside the action's transaction).
WRITE_PRIMITIVES = {"apps/audit/actions.py"}
EDGES = {"views", "api"}  # thin modules: read through selectors, write through actions
WRITE_CALLS = {"save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
QUERY_CHAIN = {"objects", "filter", "exclude", "all", "select_for_update"}


@dataclass(frozen=True)
class Module:
    path: Path  # relative to the repository's src/cordon
    source: str
    tree: ast.Module

    @property
    def role(self) -> str:
        """``views``, ``api``, ``actions``, ``selectors``, ``models``, ... for app modules (a sub-package counts as
        its package: ``apps/control/actions/placement.py`` is ``actions``); the module name elsewhere."""
        parts = self.path.with_suffix("").parts
        if parts[0] == "apps" and len(parts) >= 3:
            return parts[2]
        return parts[-1]

    @property
    def in_app(self) -> bool:
        return self.path.parts[0] == "apps"


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


def parse(path: Path, source: str) -> Module:
    return Module(path, source, ast.parse(source))


def modules(root: Path = SRC) -> Iterator[Module]:
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root)
        if "migrations" in rel.parts or p.name.endswith((".html.py", ".txt.py")):
            continue  # (a template's ``*.html.py``: makemessages' scratch file, while test_catalogue runs)
        try:
            source = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue  # such a scratch file gone between listing and reading
        yield parse(rel, source)


def _is_edge(m: Module) -> bool:
    return (m.in_app and m.role in EDGES) or m.path.as_posix() == "site/api.py"


def _chain(node: ast.AST) -> list[str]:
    """Attribute and call names along ``a.b(...).c``: ['a', 'b', 'c']."""
    out: list[str] = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            out.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            out.append(node.id)
            break
        else:
            break
    return out[::-1]


# --- the rules -----------------------------------------------------------------------------------------------


def no_queries_in_edges(m: Module) -> list[Violation]:
    """Views and API modules read through selectors: no ``Model.objects`` there."""
    if not _is_edge(m):
        return []
    return [
        Violation(str(m.path), n.lineno, "no-queries-in-edges", "Model.objects in a view or API module")
        for n in ast.walk(m.tree)
        if isinstance(n, ast.Attribute) and n.attr == "objects"
    ]


def no_broad_except_in_edges(m: Module) -> list[Violation]:
    """Views and API modules catch the exceptions they mean (``NotFound``, ``ValidationError``), never all:
    a database error must not read as "Unknown person"."""
    if not _is_edge(m):
        return []
    out = []
    for n in ast.walk(m.tree):
        if isinstance(n, ast.ExceptHandler):
            names = [n.type] if n.type is not None and not isinstance(n.type, ast.Tuple) else []
            if isinstance(n.type, ast.Tuple):
                names = list(n.type.elts)
            broad = n.type is None or any(
                isinstance(t, ast.Name) and t.id in ("Exception", "BaseException") for t in names
            )
            if broad:
                out.append(
                    Violation(str(m.path), n.lineno, "no-broad-except-in-edges", "catches every exception")
                )
    return out


def module_size(m: Module) -> list[Violation]:
    lines = m.source.count("\n")
    if lines <= MAX_MODULE_LINES:
        return []
    return [
        Violation(
            str(m.path),
            1,
            "module-size",
            f"{lines} lines (split it by sub-domain; at most {MAX_MODULE_LINES})",
        )
    ]


def function_size(m: Module) -> list[Violation]:
    lines = m.source.splitlines()
    out = []
    for n in ast.walk(m.tree):
        if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (n.end_lineno or n.lineno) - n.lineno + 1
        if length <= MAX_FUNCTION_LINES:
            continue
        first = min([n.lineno, *(d.lineno for d in n.decorator_list)])
        above = first - 1  # the comment block right above the function (its decorators), then its first lines
        while above >= 1 and lines[above - 1].lstrip().startswith("#"):
            above -= 1
        near = lines[above : n.body[0].lineno + 3]
        if not any(ONE_PIECE in line for line in near):
            out.append(
                Violation(
                    str(m.path),
                    n.lineno,
                    "function-size",
                    f"{n.name} has {length} lines: split it, or say why it is one piece ('{ONE_PIECE} ...')",
                )
            )
    return out


def no_signals(m: Module) -> list[Violation]:
    """Effects of a write happen in its action or through domain events (cordon.core.events), never in Django
    model signals."""
    out = []
    for n in ast.walk(m.tree):
        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("django.db.models.signals"):
            out.append(Violation(str(m.path), n.lineno, "no-signals", "Django model signals"))
        if isinstance(n, ast.ImportFrom) and n.module == "django.dispatch":
            out.append(Violation(str(m.path), n.lineno, "no-signals", "django.dispatch"))
    return out


def _decorators(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[list[str]]:
    return [_chain(d) for d in fn.decorator_list]


def _writes(fn: ast.AST) -> list[int]:
    """Lines of calls that write: ``x.save()``, ``bulk_create``, ..., ``<query>.update(...)``, the audit write
    helpers and the bulk writer."""
    lines = []
    for n in ast.walk(fn):
        if not isinstance(n, ast.Call) or not isinstance(n.func, ast.Attribute):
            continue
        chain = _chain(n)
        attr = n.func.attr
        if (
            attr in WRITE_CALLS
            or (attr in ("update", "create") and QUERY_CHAIN & set(chain[:-1]))
            or (
                chain[:1] == ["audit"]
                and attr
                in (
                    "create",
                    "save_new",
                    "change",
                    "change_many",
                    "change_each",
                )
            )
            or attr == "insert_rows"
        ):
            lines.append(n.lineno)
    return lines


def writes_are_actions(m: Module) -> list[Violation]:
    """In the apps, records are written only by actions: a write call belongs in a function of an ``actions``
    module, and a public function there that writes is declared with ``@action`` (no bare
    ``@transaction.atomic``: the registry and the audit watch must see every write path)."""
    if (
        not m.in_app
        or m.role in ("migrations", "models", "admin", "apps")
        or m.path.as_posix() in WRITE_PRIMITIVES
    ):
        return []
    out = []
    for n in m.tree.body:
        if not isinstance(n, ast.FunctionDef):
            continue
        decorators = _decorators(n)
        if m.role == "actions":
            if any(d[-1:] == ["atomic"] for d in decorators):
                out.append(
                    Violation(
                        str(m.path),
                        n.lineno,
                        "writes-are-actions",
                        f"{n.name}: use @action, not @transaction.atomic",
                    )
                )
            if not n.name.startswith("_") and _writes(n) and not any(d[:1] == ["action"] for d in decorators):
                out.append(
                    Violation(
                        str(m.path), n.lineno, "writes-are-actions", f"{n.name} writes but is not an @action"
                    )
                )
        else:
            for line in _writes(n):
                out.append(
                    Violation(
                        str(m.path),
                        line,
                        "writes-are-actions",
                        f"a write in {m.role} ({n.name}); call an action",
                    )
                )
    return out


def saves_name_their_fields(m: Module) -> list[Violation]:
    """``instance.save()`` with no arguments rewrites every column (and races with other writers): name the
    fields (``update_fields=``) or use the audit helpers, which do."""
    if not m.in_app or m.role in ("migrations",):
        return []
    out = []
    for n in ast.walk(m.tree):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "save"
            and not n.args
            and not n.keywords
            and not (isinstance(n.func.value, ast.Call) and _chain(n.func.value) == ["super"])
        ):
            out.append(
                Violation(str(m.path), n.lineno, "saves-name-their-fields", "save() without update_fields")
            )
    return out


Rule = Callable[[Module], list[Violation]]

RULES: list[Rule] = [
    no_queries_in_edges,
    no_broad_except_in_edges,
    module_size,
    function_size,
    no_signals,
    writes_are_actions,
    saves_name_their_fields,
]
