"""The package's layout holds: imports run one way, from the CLI down to the edit, and only lm/ touches torch.

Read from the source (an AST walk over repair/, imports inside functions included), so nothing is run.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "repair"

# Floor of each wing: a module may import its own wing and the wings on lower floors, never a wing
# on its floor or above. The top-level package (repair/__init__.py) only hands names on.
FLOORS = {
    "edits": 0,
    "text": 1,
    "files": 1,
    "lm": 2,
    "stages": 3,
    "pipeline": 4,
    "views": 5,
    "bench": 5,
    "corpus": 5,
    "fix": 6,
    "cli": 7,
    "__main__": 8,
}
MODEL_LIBRARIES = frozenset({"torch", "transformers", "tokenizers", "safetensors", "gguf", "accelerate"})


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, at the top or inside a function (``from a import b`` gives ``a``)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def wing(module: str) -> str:
    """``repair.stages.align`` -> ``stages``; the top-level package is ``repair``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "repair"


MODULES = {module_name(p): sorted(set(imports(p))) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_wing_has_a_floor() -> None:
    assert {wing(m) for m in MODULES} - {"repair"} == set(FLOORS)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_lm_wing_imports_the_model_libraries(module: str) -> None:
    if wing(module) == "lm":
        return
    assert not {name.split(".")[0] for name in MODULES[module]} & MODEL_LIBRARIES


@pytest.mark.parametrize("module", sorted(m for m in MODULES if wing(m) != "repair"))
def test_imports_run_down_the_floors(module: str) -> None:
    here = wing(module)
    upward = [
        name
        for name in MODULES[module]
        if name.startswith("repair.") and wing(name) != here and FLOORS[wing(name)] >= FLOORS[here]
    ]
    assert not upward, f"{module} (floor {FLOORS[here]}) imports {upward}"


def test_stages_never_import_views_corpus_bench_or_the_cli() -> None:
    for module, names in MODULES.items():
        if wing(module) == "stages":
            assert not [n for n in names if n.startswith("repair.") and wing(n) in ("views", "corpus", "bench", "cli")]


def test_no_import_circle() -> None:
    graph = {m: [n for n in names if n in MODULES and n != m] for m, names in MODULES.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            assert state.get(n) != 1, "import circle: " + " -> ".join([*path[path.index(n) :], n])
            if n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


# where a module's import name is not its distribution's
DISTRIBUTIONS = {"distributed": "dask"}


def test_every_third_party_import_is_declared_in_pyproject() -> None:
    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"], *(d for extra in project["optional-dependencies"].values() for d in extra)]
    declared = {re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0].lower() for spec in specs}
    imported = {name.split(".")[0] for names in MODULES.values() for name in names}
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "repair"}
    assert not {DISTRIBUTIONS.get(m, m) for m in third_party} - declared
