"""The package's layers point one way: a module imports only from its own layer or the layers
below it, and no two modules import each other, directly or around a loop.

Every `import` and `from ... import` of the package is read from the source (module level and
inside functions alike), so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import tinyengine_compiler

PACKAGE = Path(tinyengine_compiler.__file__).resolve().parent

# Bottom to top.  Each entry is a top-level module or subpackage of tinyengine_compiler ("" is the
# package itself, for __version__).
LAYERS = [
    {"", "errors", "resources", "folders", "cbuild"},     # no knowledge of models
    {"ir"},                                               # the graph
    {"scheme", "planners", "registry"},                   # what trains; placing buffers; what runs each op
    {"reference", "grads", "frontend", "datasets"},       # what ops compute; models and data in
    {"passes", "quantize"},                               # graph -> graph
    {"codegen", "report", "training"},                    # graph -> C, reports; the simulator
    {"pipeline"},                                         # the one sequence of passes
    {"compile", "targets"},                               # folders, firmware, QEMU
    {"search"},                                           # fine-tuning runs; the scheme search
    {"cli"},                                              # the command line
]
LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def _module_name(path: Path) -> str:
    parts = ["tinyengine_compiler", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """The package modules `path` imports."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("tinyengine_compiler"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("tinyengine_compiler"):
                continue
            # `from .x import y` names module x.y when y is a module, else something in x
            subs = [f"{target}.{a.name}" for a in node.names if _is_module(f"{target}.{a.name}")]
            out.update(subs or [target])
    return out


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        g.add_node(source)
        for target in _imports(path):
            if target != source:
                g.add_edge(source, target)
    return g


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in _graph()}
    assert units <= set(LAYER), f"not in LAYERS: {sorted(units - set(LAYER))}"


def test_no_module_imports_a_layer_above_its_own():
    upward = [f"{a} -> {b}" for a, b in _graph().edges
              if _unit(a) in LAYER and _unit(b) in LAYER and LAYER[_unit(b)] > LAYER[_unit(a)]]
    assert not upward, "imports that point up:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    g = _graph()
    # a package's __init__ may re-export its own modules; a cycle through it is no loop of logic
    g.remove_edges_from([(a, b) for a, b in list(g.edges) if b.startswith(a + ".")])
    cycles = list(nx.simple_cycles(g))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c + [c[0]]) for c in cycles)


def test_the_checker_sees_an_upward_import():
    """The reader of imports finds lazy ones inside functions (the check cannot pass vacuously)."""
    imports = _imports(PACKAGE / "cli.py")
    assert "tinyengine_compiler.pipeline" in imports and "tinyengine_compiler.targets.bench" in imports
    assert LAYER[_unit("tinyengine_compiler.pipeline")] < LAYER[_unit("tinyengine_compiler.cli")]
