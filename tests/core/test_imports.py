"""Imports point one way: no module of ``thresholdlab`` imports, even lazily, one that imports it
back, and the core (everything but ``thresholdlab.ui`` and ``thresholdlab.torch``) loads neither
Streamlit nor torch.

Two views of the same rule: every ``import`` statement in the source, including those inside
functions (a lazy import is still a dependency, only a late one), read as a graph between the
package's modules; and each module imported by itself in a fresh interpreter, which is how a
user or a serving job meets it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "thresholdlab"
NAME = "thresholdlab"
# Where each heavy library may be imported (the module itself and the modules below it).
ALLOWED = {"streamlit": ("thresholdlab.ui",), "plotly": ("thresholdlab.ui",),
           "torch": ("thresholdlab.torch", "thresholdlab.torch_collect", "thresholdlab.torch_calibration")}


def module_names() -> list[str]:
    """Every module of the package, ``thresholdlab.__main__`` included."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def source_of(module: str) -> Path:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(module: str, known: set[str]) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its source (lazily included),
    except under ``if TYPE_CHECKING:``, which never runs."""
    path = source_of(module)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            return
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import name``: the submodule pkg.name when there is one, else pkg.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            targets = []
        found.update(t for t in targets if t in known and t != module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    names = module_names()
    known = set(names)
    return {m: imported_modules(m, known) for m in names}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The shortest cycle through each module that lies on one (``[a, b, a]``), each cycle once."""
    found: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for start in sorted(graph):
        cycle = _shortest_cycle(graph, start)
        if cycle is None:
            continue
        # The same cycle found from another of its modules starts elsewhere: compare rotations.
        turn = cycle[:-1].index(min(cycle[:-1]))
        key = tuple(cycle[turn:-1] + cycle[:turn])
        if key not in seen:
            seen.add(key)
            found.append(list(key) + [key[0]])
    return found


def _shortest_cycle(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """Breadth first from ``start`` back to itself; None when no path returns."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph.get(v, ())):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start] + path[::-1][1:] + [start]
                if w not in parent:
                    parent[w] = v
                    following.append(w)
        frontier = following
    return None


def test_the_import_graph_has_no_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_the_cycle_finder_finds_a_lazy_pair():
    """The check itself: two modules importing each other (one of them inside a function)."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b", "a"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps({
    "heavy": sorted(m for m in ("streamlit", "plotly", "torch") if m in sys.modules),
    "package": sorted(m for m in sys.modules if m.split(".")[0] == "thresholdlab"),
}))
"""


def _import_alone(module: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PROBE, module], capture_output=True, text=True,
                          cwd=PACKAGE.parent, timeout=180)


def core_modules() -> list[str]:
    """The modules that must load neither Streamlit nor torch. ``thresholdlab.ui`` may (and pays
    seconds for it), ``thresholdlab.torch`` and ``thresholdlab.torch_collect`` are torch's own
    room, and ``__main__`` runs the CLI; their imports are still in the graph above."""
    return [m for m in module_names()
            if not m.startswith(("thresholdlab.ui", "thresholdlab.torch", "thresholdlab.__main__"))]


@pytest.fixture(scope="module")
def imported_alone() -> dict[str, subprocess.CompletedProcess]:
    """Each core module imported first and alone, in its own interpreter.

    Python runs a package's ``__init__`` before any of its modules, so a fresh interpreter asked
    for a module that importing ``thresholdlab`` already loads does exactly what one asked for
    ``thresholdlab`` does: those share that one run, and the others get their own, side by side.
    """
    root = _import_alone(NAME)
    loaded = set(json.loads(root.stdout)["package"]) if root.returncode == 0 else {NAME}
    others = [m for m in core_modules() if m not in loaded]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(others, pool.map(_import_alone, others)))
    return {m: results.get(m, root) for m in core_modules()}


@pytest.mark.parametrize("module", core_modules())
def test_each_core_module_imports_alone_without_streamlit_or_torch(module, imported_alone):
    result = imported_alone[module]
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1:]
    heavy = json.loads(result.stdout)["heavy"]
    assert heavy == [], f"importing {module} alone loads {', '.join(heavy)}"


def test_heavy_libraries_are_imported_only_in_their_rooms():
    """No source line outside a library's room imports it, even lazily (``thresholdlab.loading``
    reading a ``.pt`` file is the one place outside ``thresholdlab.torch`` that needs torch)."""
    misplaced = []
    for module in module_names():
        tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            for name in names:
                library = name.partition(".")[0]
                rooms = ALLOWED.get(library, ())
                if library == "torch":
                    rooms = (*rooms, "thresholdlab.loading.arrays")
                if library in ALLOWED and not any(
                    module == r or module.startswith(r + ".") for r in rooms
                ):
                    misplaced.append(f"{module} imports {name} (line {node.lineno})")
    assert not misplaced, "; ".join(misplaced)


def test_a_tensor_given_to_apply_finds_the_torch_module_without_being_asked():
    """The core does not import ``thresholdlab.torch``; the package root registers it, so a
    user who never imports it still gets tensor decisions on the tensor's device."""
    pytest.importorskip("torch")
    code = (
        "import sys, torch\n"
        "from thresholdlab.config import ThresholdConfig, apply\n"
        "cfg = ThresholdConfig(task='binary', classes=('y',), thresholds={'y': 0.5})\n"
        "out = apply(cfg, torch.tensor([0.2, 0.7]))\n"
        "assert isinstance(out, torch.Tensor) and out.tolist() == [False, True], out\n"
        "assert 'thresholdlab.torch' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PACKAGE.parent, timeout=180)
    assert result.returncode == 0, result.stderr
