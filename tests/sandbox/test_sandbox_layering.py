"""The sandbox imports the domain and third-party libraries only: never services, providers, ledger or ui."""

import ast
from pathlib import Path

import treasury_app.sandbox

SANDBOX_DIR = Path(treasury_app.sandbox.__file__).parent
FORBIDDEN = ("treasury_app.services", "treasury_app.providers", "treasury_app.ledger", "treasury_app.ui",
             "treasury_app.security", "treasury_app.cli")


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_sandbox_imports_only_the_domain_from_the_app():
    offenders = {
        f"{path.name}: {module}"
        for path in SANDBOX_DIR.glob("*.py")
        for module in imported_modules(path)
        if module.startswith(FORBIDDEN) or (module.startswith("treasury_app.")
                                            and not module.startswith(("treasury_app.domain", "treasury_app.sandbox")))
    }
    assert offenders == set()


def test_sandbox_modules_stay_short():
    long_modules = {p.name: n for p in SANDBOX_DIR.glob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long_modules == {}
