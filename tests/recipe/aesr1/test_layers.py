"""The package-level import graph of the project: no cycle, and no import from a lower layer to a higher one.

Every import counts, also one inside a function (a lazy import is still a dependency). Run it as a
script to see the graph: ``python tests/recipe/aesr1/test_layers.py``.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Lowest first. A package may import only from layers below its own.
LAYERS: list[set[str]] = [
    {"data_prep", "reward_fns", "recipe.aesr1.config_dir"},
    {"recipe.aesr1.endpoints"},  # requests to OpenAI-compatible endpoints
    {"recipe.aesr1.scoring"},  # a judge at inference
    {"recipe.aesr1.evaluation", "recipe.aesr1.cpu"},  # benchmarks; verl on a CPU (the hf rollout scores like a backend)
    {  # the pipelines and fronts, each on its own
        "recipe.aesr1.aescot", "recipe.aesr1.rapo", "recipe.aesr1.reward_model", "recipe.aesr1.curation",
    },  # fmt: skip
    # built on AesCoT / on RAPO's comparison scope / on every stage
    {"recipe.aesr1.red_aes", "recipe.aesr1.reward_bench", "recipe.aesr1.miniature"},
    {"recipe.aesr1.main"},  # the main job
]
MAX_TOP_LEVEL_MODULES = 3  # besides __init__.py


def package_of(module: str) -> str | None:
    """The unit of the graph a module belongs to: a top-level package, a recipe subpackage or top module."""
    parts = module.split(".")
    if parts[0] in ("data_prep", "reward_fns"):
        return parts[0]
    if parts[:2] == ["recipe", "aesr1"] and len(parts) > 2:
        return ".".join(parts[:3])
    return None


def modules() -> dict[str, Path]:
    found = {}
    for top in ("data_prep", "reward_fns", "recipe/aesr1"):
        for path in sorted((ROOT / top).rglob("*.py")):
            found[".".join(path.relative_to(ROOT).with_suffix("").parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """package -> the packages it imports (itself excluded)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules().items():
        source = package_of(name)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                package = package_of(target)
                if package and package != source and (package in known_packages() or package in ("data_prep", "reward_fns")):
                    edges[source].add(package)
    return edges


def known_packages() -> set[str]:
    return {package_of(name) for name in modules()} - {None}


def layer_of(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    return [f"{a} -> {b}" for a in sorted(edges) for b in sorted(edges[a]) if layer_of(b) >= layer_of(a)]


def test_every_package_has_a_layer():
    assert sorted(p for p in known_packages() if p != "recipe.aesr1.__init__" and not any(p in layer for layer in LAYERS)) == []


def test_no_import_goes_up_or_sideways_so_there_is_no_cycle():
    assert upward_imports(import_graph()) == []


def test_the_recipe_folder_holds_at_most_three_modules():
    top = sorted(p.name for p in (ROOT / "recipe" / "aesr1").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_a_lazy_import_counts(tmp_path):
    tree = ast.parse("def f():\n    from recipe.aesr1.curation.cli import main\n")
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert package_of(imported[0]) == "recipe.aesr1.curation"


if __name__ == "__main__":
    graph = import_graph()
    for number, layer in enumerate(LAYERS):
        for package in sorted(layer):
            print(f"[{number}] {package} -> {', '.join(sorted(graph.get(package, ()))) or '-'}")
    problems = upward_imports(graph)
    print("upward or sideways imports:", problems or "none")
    sys.exit(1 if problems else 0)
