"""The package's import graph: no cycles, and no module imports a layer above its own.

Every import counts, those under `TYPE_CHECKING` and inside functions included: a cycle that
only type checkers see still means two modules cannot be understood one without the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mock_server"

# Lowest first. A module may import its own layer and the ones before it, never a later one.
# An entry names a top-level module or package, or (dotted) one module of a package whose parts
# live on different layers: the partner context keeps its domain beside Sohar's and its HTTP
# adapters beside Sohar's.
LAYERS: list[set[str]] = [
    {
        "mock_server",
        "limits",
        "errors",
        "resources",
        "ids",
        "bounded_yaml",
        "listening",
        "stopping",
        "statuses",
        "npi",
        "revisions",
    },
    {"clock"},
    {"scenarios"},
    {"domain", "partner"},
    {"webhooks"},
    {"journal", "contract"},
    {"settings"},
    {"persistence"},
    {"core"},
    {"api", "partner.http", "partner.admin"},
    {"app"},
    {"testing", "cli", "__main__", "control"},
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules of the package that `path` imports, as dotted names."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "mock_server" or target.startswith("mock_server."):
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mock_server"))
    found.discard(name)
    return found


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative / "__init__.py").exists()


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    parts = module.split(".")[1:] or [module]
    # The most specific entry wins: `partner.http` before `partner`.
    for length in range(len(parts), 0, -1):
        name = ".".join(parts[:length])
        for index, layer in enumerate(LAYERS):
            if name in layer:
                return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_every_module_has_a_layer() -> None:
    for module in _graph():
        _layer(module)


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{module} ({_layer(module)}) imports {target} ({_layer(target)})"
        for module, targets in _graph().items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert upward == []


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    # Importing a package runs its __init__, which imports its submodules: an edge a -> pkg.x
    # therefore also passes through pkg, but pkg -> pkg.x is how a package is built, not a cycle.
    visiting: list[str] = []
    done: set[str] = set()
    cycles: list[str] = []

    def visit(module: str) -> None:
        if module in done:
            return
        if module in visiting:
            cycles.append(" -> ".join([*visiting[visiting.index(module) :], module]))
            return
        visiting.append(module)
        for target in sorted(graph.get(module, ())):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in graph:
        visit(module)
    assert cycles == []


@pytest.mark.parametrize(("module", "target"), [("mock_server.domain.store", "mock_server.domain.verifications")])
def test_the_store_does_not_know_the_backend(module: str, target: str) -> None:
    assert target not in _graph()[module]


def test_the_partner_domain_sits_below_its_adapters() -> None:
    """The partner package spans two layers: its domain with Sohar's, its HTTP adapters with Sohar's."""
    assert _layer("mock_server.partner.eligibility") == _layer("mock_server.domain.verifications")
    assert _layer("mock_server.partner.http") == _layer("mock_server.api.sohar")
    partner_domain = [
        m for m in _graph() if m.startswith("mock_server.partner") and _layer(m) < _layer("mock_server.core")
    ]
    assert "mock_server.partner.eligibility" in partner_domain
    for module in partner_domain:
        assert not any(t.startswith(("mock_server.api", "mock_server.partner.http")) for t in _graph()[module])
    # Nothing of Sohar's knows the partner context but the composition root and the app's routes.
    knowing = {
        m
        for m, targets in _graph().items()
        if not m.startswith("mock_server.partner") and any(t.startswith("mock_server.partner") for t in targets)
    }
    assert knowing == {"mock_server.core", "mock_server.app"}
