"""Which app may import which: `core` is under every app, `accounts` is under `claims`, and `filing` is above them
all (issue 16); `payments` (issue 19) is above accounts and claims, which never import it; and no import cycle
between the services, selectors and tasks modules.

An AST walk over the source, so an import inside a function counts too (except for the cycle check, which counts
the imports run when a module is loaded). Tests are left out: they may set up records of any app."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent

FORBIDDEN = {
    "accounts": ("claims", "filing", "payments"),
    "claims": ("filing", "payments"),
    "core": ("accounts", "claims", "notifications", "integrations", "filing", "payments"),
    "integrations": ("accounts", "claims", "notifications", "filing", "payments"),
    "notifications": ("accounts", "claims", "filing", "payments"),
    "payments": ("filing",),
}


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _modules(app: str) -> list[Path]:
    return [path for path in sorted((BASE_DIR / app).rglob("*.py")) if "tests" not in path.relative_to(BASE_DIR).parts]


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_an_app_does_not_import_the_apps_above_it(app):
    offending = [
        f"{path.relative_to(BASE_DIR)}:{line} imports {module}"
        for path in _modules(app)
        for line, module in _imported_modules(path)
        if module.split(".")[0] in FORBIDDEN[app]
    ]
    assert offending == []


def test_the_walk_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "example.py"
    module.write_text("def f():\n    from claims.models import Claim\n    import claims.tasks\n")
    assert _imported_modules(module) == [(2, "claims.models"), (3, "claims.tasks")]


# --- no cycle between services, selectors and tasks ---------------------------------------------------------------

LAYERS = ("services", "selectors", "tasks")


def _layer_modules(root: Path) -> dict[str, Path]:
    """Every services, selectors and tasks module (a module or a package's modules) of every app under `root`, an
    app being a folder with an apps.py, by dotted name."""
    modules = {}
    for app in sorted(path.parent for path in root.glob("*/apps.py")):
        for path in sorted(app.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[1] not in LAYERS or "tests" in parts:
                continue
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _loading_imports(path: Path) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements run when the module is loaded: everything but what is inside a function."""
    pending = list(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        pending.extend(ast.iter_child_nodes(node))


def _packages_of(module: str) -> set[str]:
    """The packages Python loads before the module (`a`, `a.b` for `a.b.c`)."""
    parts = module.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts))}


def _import_graph(root: Path) -> dict[str, set[str]]:
    """Which of the services, selectors and tasks modules each one imports when it is loaded. `from package import
    name` counts as importing the module package.name when there is one (`from accounts import tasks`); importing
    a module counts as importing the packages above it too (their `__init__` runs first), except the importer's
    own packages, which are loading already."""
    modules = _layer_modules(root)
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in _loading_imports(path):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif node.level == 0 and node.module:
                submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
                imported |= submodules or {node.module}
        imported |= {package for module in imported for package in _packages_of(module)} - _packages_of(name)
        graph[name] = (imported & modules.keys()) - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                lowest[module] = min(lowest[module], lowest[imported])
            elif imported in stack:
                lowest[module] = min(lowest[module], index[imported])
        if lowest[module] == index[module]:
            component = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


def test_services_selectors_and_tasks_import_one_another_without_a_cycle():
    """Tasks import the services they run; a service that queues a task whose module leads back to it imports the
    task inside the function (docs/architecture.md)."""
    graph = _import_graph(BASE_DIR)
    assert {"accounts.services.auth", "claims.services.review", "claims.tasks.estimates"} <= graph.keys()
    assert "claims.services.estimates" in graph["claims.tasks.estimates"]
    assert _cycles(graph) == []


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_the_cycle_check_finds_a_planted_cycle(tmp_path):
    _write(
        tmp_path,
        {
            "shop/apps.py": "",
            "shop/services/__init__.py": "",
            "shop/services/orders.py": "from shop import tasks\n",
            "shop/selectors.py": "import shop.services.orders\n",
            "shop/tasks.py": "from shop.services.orders import order_pay\n",
            "shop/tests/test_tasks.py": "from shop.tasks import order_pay_task\n",
            "billing/apps.py": "",
            "billing/tasks/__init__.py": "from billing.tasks import invoices\n",
            "billing/tasks/invoices.py": "from billing.selectors import invoice_open\n",
            "billing/selectors.py": "class Invoices:\n    from billing.tasks.invoices import invoice_send_task\n",
        },
    )
    assert _cycles(_import_graph(tmp_path)) == [
        ["billing.selectors", "billing.tasks", "billing.tasks.invoices"],
        ["shop.services.orders", "shop.tasks"],
    ]


def test_the_cycle_check_sees_a_cycle_through_a_package_init(tmp_path):
    """Importing one task module runs the tasks package's __init__, which imports every task module."""
    _write(
        tmp_path,
        {
            "shop/apps.py": "",
            "shop/services.py": "from shop.tasks.receipts import receipt_task\n",
            "shop/tasks/__init__.py": "from shop.tasks import orders, receipts\n",
            "shop/tasks/orders.py": "from shop.services import order_pay\nfrom shop.tasks import receipts\n",
            "shop/tasks/receipts.py": "",
        },
    )
    graph = _import_graph(tmp_path)
    assert graph["shop.tasks.orders"] == {"shop.services", "shop.tasks.receipts"}
    assert _cycles(graph) == [["shop.services", "shop.tasks", "shop.tasks.orders"]]


def test_the_cycle_check_leaves_out_imports_inside_functions(tmp_path):
    _write(
        tmp_path,
        {
            "shop/apps.py": "",
            "shop/services.py": "def order_pay():\n    from shop.tasks import receipt_task\n",
            "shop/tasks.py": "from shop.services import order_pay\n",
        },
    )
    graph = _import_graph(tmp_path)
    assert graph == {"shop.services": set(), "shop.tasks": {"shop.services"}}
    assert _cycles(graph) == []
