"""The layering rule: intake's domain imports nothing but the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import intake.domain

DOMAIN = Path(intake.domain.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module if node.module.startswith("intake") else
                      node.module.split(".")[0])
    return names


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert files
    for path in files:
        for name in _imports(path):
            assert (name in sys.stdlib_module_names or name == "__future__"
                    or name.startswith("intake.domain")), f"{path.name} imports {name}"
