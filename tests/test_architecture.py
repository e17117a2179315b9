"""Dependencies point down only (architecture.md): a walk over every import."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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


ENTRY_POINTS = {"api", "relay", "console", "cli", "bootstrap", "bench"}
LAYERS_BELOW = {
    # a package: the first-party packages it must not import (arrows point toward domain/)
    "domain": {"application", "adapters", "projections"} | ENTRY_POINTS,
    "application": {"adapters", "projections"} | ENTRY_POINTS,
    "adapters": {"projections"} | ENTRY_POINTS,
    "projections": ENTRY_POINTS,
    # the entry points: the API, and beside it the relays and the console, which use its
    # CloudEvents, tokens and access rules; the command line over all of them
    "api": {"relay", "console", "cli", "bench"},
    "relay": {"console", "cli", "bench"},
    "console": {"relay", "cli", "bench"},
    "cli": {"bench"},
}
THIRD_PARTY = {
    # what the inner layers may use besides the standard library and the layers below
    "domain": {"msgspec", "eventsourcing.domain"},
    "application": {
        "msgspec",
        "eventsourcing.domain",
        "eventsourcing.application",
        "eventsourcing.persistence",
        "eventsourcing.utils",
    },
}
SIGNATURE_MATHS = {"domain/checkpoints.py": {"cryptography"}}
"""Ed25519 verification of a checkpoint is pure computation over bytes (ADR 0018)."""

SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TABLE|INDEX|FUNCTION)|LOCK\s+TABLE|pg_advisory)\b",
)


@pytest.mark.parametrize("package", sorted(LAYERS_BELOW))
def test_imports_point_toward_the_domain(package):
    for path in modules(package):
        bad = {m for m in imports(path) if m.split(".")[0] in LAYERS_BELOW[package]}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("package", sorted(THIRD_PARTY))
def test_the_inner_layers_use_only_the_stdlib_msgspec_and_the_library_core(package):
    for path in modules(package):
        name = path.relative_to(ROOT).as_posix()
        allowed = THIRD_PARTY[package] | SIGNATURE_MATHS.get(name, set())
        for module in imports(path):
            top = module.split(".")[0]
            first_party = top in LAYERS_BELOW or top == "bootstrap"
            ok = (
                top in STDLIB
                or first_party
                or any(module == a or module.startswith(a + ".") for a in allowed)
            )
            assert ok, f"{name} imports {module}"


@pytest.mark.parametrize("package", sorted(THIRD_PARTY))
def test_the_inner_layers_hold_no_sql_and_read_no_environment(package):
    for path in modules(package):
        text = path.read_text()
        name = path.relative_to(ROOT).as_posix()
        assert "os.environ" not in text and "getenv" not in text, f"{name} reads the environment"
        found = SQL.search(text)
        assert not found, f"{name} holds SQL: {found.group(0)!r}"


@pytest.mark.parametrize("package", ["api", "cli"])
def test_the_entry_points_hold_no_sql(package):
    # the API's tokens and Idempotency-Keys are kept by adapters/ (ADR 0019)
    for path in modules(package):
        found = SQL.search(path.read_text())
        assert not found, f"{path.relative_to(ROOT).as_posix()} holds SQL: {found.group(0)!r}"


def test_the_sql_check_finds_sql():
    assert SQL.search('f"SELECT hash FROM {table} WHERE x = 1"')
    assert SQL.search("INSERT INTO audit_chain VALUES (?, ?, ?)")
    assert not SQL.search("select the unit from the list")


def test_the_walk_sees_real_imports():
    # Guards the guard: the walker must find what a module plainly imports.
    assert "eventsourcing.domain" in imports(ROOT / "domain" / "events.py")
    assert "domain.errors" in imports(ROOT / "domain" / "unit.py")
    assert "projections" in imports(ROOT / "cli" / "main.py")


ENVIRONMENT = re.compile(r"os\.environ|getenv")


def test_only_the_settings_read_the_environment():
    # Settings.from_environ reads it once, when a command or the server starts; everything
    # else is handed the settings (bench/ and tests/ set up their own runs).
    readers = set()
    for path in sorted(ROOT.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name.split("/")[0] in {"bench", "tests"} or name.startswith("."):
            continue
        if ENVIRONMENT.search(path.read_text()):
            readers.add(name)
    assert readers == {"adapters/settings.py"}
    tree = ast.parse((ROOT / "adapters" / "settings.py").read_text())
    settings = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    reader = next(n for n in settings.body if getattr(n, "name", "") == "from_environ")
    outside = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and (n.attr == "environ" or "getenv" in n.attr)
        and not reader.lineno <= n.lineno <= reader.end_lineno
    ]
    assert not outside, f"adapters/settings.py reads the environment on lines {outside}"
