"""Which app may import which: `core` is under every app, `accounts` is under `claims`, and `filing` is above them
all (issue 16).

An AST walk over the source, so an import inside a function counts too. Tests are left out: they may set up
records of any app."""

import ast
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent

FORBIDDEN = {
    "accounts": ("claims", "filing"),
    "claims": ("filing",),
    "core": ("accounts", "claims", "notifications", "integrations", "filing"),
    "integrations": ("accounts", "claims", "notifications", "filing"),
    "notifications": ("filing",),
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
