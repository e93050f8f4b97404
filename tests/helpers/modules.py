"""The package's modules and their ``mammobench.*`` imports, read with ``ast`` from the installed files.

Counted as imports: ``import``/``from`` statements anywhere (functions included), and the module strings
of a package's lazy ``_EXPORTS`` table (a deferred import). Not counted: ``if TYPE_CHECKING:`` blocks.
"""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

PACKAGES = ("mammobench", "mammobench.baselines", "mammobench.tasks", "mammobench.reports")


def module_files() -> dict[str, Path]:
    """Module name → source file, for every module of :data:`PACKAGES`."""
    files: dict[str, Path] = {}
    for package in PACKAGES:
        root = Path(next(iter(importlib.util.find_spec(package).submodule_search_locations)))
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files.setdefault(".".join([package, *parts]), path)
    return files


MODULES = module_files()


def _target(name: str) -> str:
    """The module an imported dotted name lives in (``a.b.func`` → ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(child for child in ast.iter_child_nodes(node) if not _is_type_checking(child))


def _lazy_exports(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_EXPORTS" for t in node.targets) \
            and isinstance(node.value, ast.Dict):
        return {_target(v.value) for v in node.value.values if isinstance(v, ast.Constant)}
    return set()


def imports_of(module: str, path: Path) -> set[str]:
    """The ``mammobench.*`` modules that ``module`` imports (now or lazily)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8"))):
        found |= _lazy_exports(node)
        if isinstance(node, ast.Import):
            found |= {_target(a.name) for a in node.names if a.name.startswith("mammobench")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if base.startswith("mammobench"):
                found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else _target(base) for a in node.names}
    return found - {module, ""}


def import_graph() -> dict[str, set[str]]:
    """``{module: modules it imports}`` over the whole package."""
    return {module: imports_of(module, path) for module, path in MODULES.items()}
