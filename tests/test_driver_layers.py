"""The driver's modules import each other without a circle (main -> link -> pipeline ->
stages, worker, files, ...), lazily or not, and only the layers below adcc/driver."""
from __future__ import annotations

from pathlib import Path

from test_layers import imports_of

DRIVER = Path(__file__).resolve().parents[1] / "adcc" / "driver"


def driver_graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in DRIVER.glob("*.py") if p.stem != "__init__"}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m.rsplit(".", 1)[-1] for m in imports_of(path)
                       if m.startswith("adcc.driver.") and m.rsplit(".", 1)[-1] in modules} - {name}
    return graph


def test_no_import_circle_in_the_driver():
    graph = driver_graph()
    state: dict[str, int] = {}

    def visit(node, path):
        if state.get(node) == 1:
            raise AssertionError("import circle: " + " -> ".join([*path, node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in sorted(graph[node]):
            visit(nxt, [*path, node])
        state[node] = 2
    for node in sorted(graph):
        visit(node, [])
    assert "main" not in graph["pipeline"] | graph["link"]


def test_layers_below_do_not_import_the_driver():
    root = DRIVER.parent
    for layer in ("ir", "analysis", "ad"):
        for path in (root / layer).rglob("*.py"):
            bad = sorted(m for m in imports_of(path) if m.startswith("adcc.driver"))
            assert bad == [], f"{path.relative_to(root)} imports {bad}"
