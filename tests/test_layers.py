"""The layers hold: imports point down, no cycle, no private name crosses modules.

The order is declared once, in ``xacct_nb._layers.LAYERS``; this test parses
every module of the package with ``ast`` (imports inside functions and under
``TYPE_CHECKING`` included) and checks the imports against it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from xacct_nb._layers import LAYERS, SANDBOX, SANDBOX_MAY_IMPORT

PACKAGE = "xacct_nb"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


FILES = {(_module_name(p) if p.name != "__init__.py" or p.parent != ROOT else PACKAGE): p
         for p in sorted(ROOT.rglob("*.py"))}
MODULES = set(FILES)
LAYER_OF = {name: depth for depth, (_, names) in enumerate(LAYERS) for name in names}


def _unit(module: str) -> str:
    """The unit LAYERS names: ``__init__``, a top-level module, or the sandbox subpackage."""
    if module == PACKAGE:
        return "__init__"
    head = module.split(".")[1]
    return head


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported from (or the module imported)
    name: str | None  # the name imported from it; None for a module
    line: int


def _resolve(source: str, level: int, module: str | None) -> str:
    is_package = FILES[source].name == "__init__.py"
    base = source.split(".") if is_package else source.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _imports(source: str) -> Iterator[Import]:
    tree = ast.parse(FILES[source].read_text(), filename=str(FILES[source]))
    bound: dict[str, str] = {}  # local name -> package module it refers to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    yield Import(source, alias.name, None, node.lineno)
                    if alias.asname:
                        bound[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(source, node.level, node.module) if node.level else node.module or ""
            if not (target == PACKAGE or target.startswith(PACKAGE + ".")):
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in MODULES:
                    yield Import(source, submodule, None, node.lineno)
                    bound[alias.asname or alias.name] = submodule
                else:
                    yield Import(source, target, alias.name, node.lineno)
    for node in ast.walk(tree):  # module._private, e.g. ``_sessions._mfa_cache``
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in bound and _is_private(node.attr)):
            yield Import(source, bound[node.value.id], node.attr, node.lineno)


IMPORTS = [imp for source in sorted(MODULES) for imp in _imports(source)]


def _where(imp: Import) -> str:
    what = imp.target + (f".{imp.name}" if imp.name else "")
    return f"{FILES[imp.source].relative_to(ROOT.parent)}:{imp.line} imports {what}"


def test_every_module_is_declared_once():
    declared = [name for _, names in LAYERS for name in names]
    assert len(declared) == len(set(declared)), "a module is declared in two layers"
    units = {_unit(m) for m in MODULES}
    assert sorted(units - set(declared)) == [], "modules missing from xacct_nb._layers.LAYERS"
    assert sorted(set(declared) - units) == [], "LAYERS names modules that do not exist"


def test_imports_point_down():
    wrong = []
    for imp in IMPORTS:
        source, target = _unit(imp.source), _unit(imp.target)
        if source == target:
            continue
        if LAYER_OF[target] < LAYER_OF[source]:
            wrong.append(f"{_where(imp)} ({LAYERS[LAYER_OF[source]][0]} -> "
                         f"{LAYERS[LAYER_OF[target]][0]})")
    assert wrong == [], "imports pointing up a layer:\n" + "\n".join(wrong)


def test_the_sandbox_imports_only_foundations_and_policies():
    foundations = set(LAYERS[-1][1]) | set(SANDBOX_MAY_IMPORT)
    wrong = [_where(imp) for imp in IMPORTS
             if _unit(imp.source) == SANDBOX and _unit(imp.target) != SANDBOX
             and _unit(imp.target) not in foundations]
    assert wrong == [], "the sandbox reaches into the client:\n" + "\n".join(wrong)


def test_no_private_name_crosses_modules():
    wrong = [_where(imp) for imp in IMPORTS
             if imp.name is not None and _is_private(imp.name)
             and _unit(imp.source) != _unit(imp.target)]
    assert wrong == [], "private names imported across modules:\n" + "\n".join(wrong)


def test_no_import_cycle():
    graph: dict[str, set[str]] = {_unit(m): set() for m in MODULES}
    for imp in IMPORTS:
        source, target = _unit(imp.source), _unit(imp.target)
        if source != target:
            graph[source].add(target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("module", ["_explorer_logic"])
def test_the_explorer_logic_imports_no_widget(module):
    tree = ast.parse(FILES[f"{PACKAGE}.{module}"].read_text())
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert [n for n in names if n.split(".")[0] in ("ipywidgets", "IPython")] == []


def test_the_checker_sees_what_it_must():
    """The parser finds function-level imports and the ``module._private`` form."""
    sources = {(imp.source, imp.target) for imp in IMPORTS}
    assert ("xacct_nb._cli", "xacct_nb._connect") in sources  # inside a function
    assert _unit("xacct_nb.sandbox._launch") == SANDBOX
    assert _is_private("_mfa_cache") and not _is_private("__version__")
