"""The layers of docs/architecture.md, read from the source: which package may import which, no
import cycle between modules (imports inside functions count), and a repository that needs
nothing beside its checkout."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "grants"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """module -> the project's modules it imports (resolved to modules that exist)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                    base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for target in targets:
                module = resolve(target) if target.startswith("grants") else None
                # the root package's __init__ holds only the version: not a layer of its own
                if module and module not in (name, "grants"):
                    found.add(module)
        graph[name] = found
    return graph


GRAPH = _imports()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _violations(layer: str, allowed) -> list[str]:
    return sorted(f"{m} imports {t}" for m, targets in GRAPH.items() if m == layer or m.startswith(layer + ".")
                  for t in targets if not allowed(t))


def _within(*prefixes: str):
    return lambda t: any(t == p or t.startswith(p + ".") for p in prefixes)


def test_the_import_graph_was_read():
    assert "grants.services.cases" in GRAPH["grants.web.applicant"]
    assert "grants.domain.workflow" in GRAPH["grants.services.cases"]


def test_there_is_no_import_cycle():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_domain_imports_only_the_domain():
    assert _violations("grants.domain", _within("grants.domain")) == []


def test_models_import_only_models_the_domain_and_the_clock():
    assert _violations("grants.models", _within("grants.models", "grants.domain", "grants.clock")) == []


def test_services_never_import_the_shell():
    shell = _within("grants.web", "grants.flows", "grants.engine", "grants.cli", "grants.serve", "grants.work")
    assert _violations("grants.services", lambda t: not shell(t)) == []


def test_flows_and_engine_never_import_the_web():
    web = _within("grants.web", "grants.cli", "grants.serve")
    assert _violations("grants.flows", lambda t: not web(t) and not _within("grants.engine")(t)) == []
    assert _violations("grants.engine", lambda t: not web(t)) == []


def test_the_web_starts_no_flow_itself():
    """It asks for work by writing a job row; of the engine it only reads the health."""
    assert _violations("grants.web", lambda t: not _within("grants.flows")(t)
                       and (not _within("grants.engine")(t) or t == "grants.engine.health")) == []


def test_flows_holds_flows_and_their_registry_only():
    """The machinery that runs flows lives in grants/engine: every module of grants/flows defines
    at least one Prefect flow, except the registry and the package itself."""
    for path in (PACKAGE / "flows").glob("*.py"):
        if path.name in ("__init__.py", "registry.py"):
            continue
        assert re.search(r"^@flow\(", path.read_text(encoding="utf-8"), re.M), f"{path.name} holds no flow"


def test_nothing_refers_to_files_beside_the_checkout():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = re.compile(r"\.\./shared|['\"]shared['\"]\s*/\s*['\"]samples")
    hits = [name for name in tracked if not name.endswith(".md") and (ROOT / name).is_file()
            and outside.search((ROOT / name).read_text(encoding="utf-8", errors="ignore"))]
    assert hits == [], f"files that read beside the checkout: {hits}"
