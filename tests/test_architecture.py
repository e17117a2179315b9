"""Dependencies point down only (architecture.md): a walk over every import."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE_DOMAIN = [
    "errors",
    "values",
    "events",
    "unit",
    "community",
    "charter",
    "council",
    "allocation",
    "agreement",
    "merkle",
]
STDLIB = set(sys.stdlib_module_names)


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["domain", "projections"])
def test_lower_layers_never_import_the_adapters(package):
    forbidden = {"api", "cli", "starlette", "uvicorn"} | (
        {"projections", "psycopg", "psycopg_pool"} if package == "domain" else set()
    )
    for path in modules(package):
        bad = {m for m in imports(path) if m.split(".")[0] in forbidden}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("name", PURE_DOMAIN)
def test_aggregates_and_values_import_only_the_stdlib_msgspec_and_the_library_domain(name):
    allowed = {"msgspec", "eventsourcing.domain"}
    for module in imports(ROOT / "domain" / f"{name}.py"):
        top = module.split(".")[0]
        pure = top == "domain" and module.removeprefix("domain.") in PURE_DOMAIN
        assert top in STDLIB or module in allowed or pure, f"domain/{name}.py imports {module}"


def test_the_walk_sees_real_imports():
    # Guards the guard: the walker must find what a module plainly imports.
    assert {"eventsourcing.domain", "domain.errors"} <= imports(ROOT / "domain" / "unit.py")
    assert "projections" in imports(ROOT / "cli" / "main.py")
