"""The house rules of docs/ARCHITECTURE.md, checked: every module's imports run one way
(no cycle between modules, whether the import is at the top or inside a function), and no
file outside the tests and the data is longer than a newcomer can read in one sitting."""

import ast
import subprocess
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 600
# Data rather than code: catalogs, the demo's story, vendored builds, lock files.
DATA = ("locale/", "demo/data/", "static/vendor/", "tests/vendor/", "package-lock.json")
DATA_SUFFIXES = (".json", ".mo", ".po", ".svg", ".ttf", ".woff2", ".png", ".pdf", ".xml")


def _tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    return [name for name in listed if name and (ROOT / name).is_file()]


def _is_test(name: str) -> bool:
    parts = Path(name).parts
    return "tests" in parts or Path(name).name == "conftest.py"


def _project_modules() -> dict[str, Path]:
    modules = {}
    for name in _tracked_files():
        path = Path(name)
        if path.suffix != ".py" or _is_test(name) or "migrations" in path.parts:
            continue
        if path.parts[0] in ("scripts", "bench") or len(path.parts) == 1:
            continue  # tools and manage.py: nothing imports them
        dotted = ".".join(path.with_suffix("").parts)
        modules[dotted.removesuffix(".__init__")] = ROOT / path
    return modules


def _imports(dotted: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = dotted if path.name == "__init__.py" else dotted.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # `from package import module` needs the module; the package itself only
            # when a name imported from it is not a module of its own.
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            names = [name for name in submodules if name in modules]
            if len(names) < len(submodules):
                names.append(base)
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != dotted:
                found.add(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_imports_run_one_way():
    """`from package import module` counts as needing that module only: a package's
    __init__ that gathers its modules' names is its front door, not a circle."""
    modules = _project_modules()
    graph = defaultdict(set)
    for dotted, path in modules.items():
        graph[dotted] |= _imports(dotted, path, modules)
    cycles = _cycles(dict(graph))
    assert not cycles, "modules that import each other: " + "; ".join(
        " ↔ ".join(group) for group in cycles
    )


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_file_outside_tests_and_data_is_over_600_lines():
    too_long = []
    for name in _tracked_files():
        if _is_test(name) or "migrations" in Path(name).parts:
            continue
        if name.startswith(DATA) or name.endswith(DATA_SUFFIXES) or "/vendor/" in name:
            continue
        try:
            lines = (ROOT / name).read_text(encoding="utf-8").count("\n")
        except UnicodeDecodeError:
            continue  # binary
        if lines > MAX_LINES:
            too_long.append(f"{name} ({lines})")
    assert not too_long, "over 600 lines: " + ", ".join(sorted(too_long))
