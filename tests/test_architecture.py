"""The package's shape: the layer contracts hold, modules are where ARCHITECTURE.md says they are.

The contracts are in ``pyproject.toml`` (``[tool.importlinter]``) and checked by import-linter's
``lint-imports``, run here in a subprocess of this interpreter, offline and without a cache file.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest

from helpers.config import REPO_ROOT

PACKAGE = REPO_ROOT / "helpers"


def _modules() -> set[str]:
    """Every module of helpers, as a dotted name (packages by their own name, not ``__init__``)."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.add(".".join(parts))
    return names


def _contract_text() -> str:
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    start = text.index("[tool.importlinter]")
    end = text.find("\n[tool.", start + 1)
    return text[start:] if end < 0 else text[start:end]


def _env() -> dict[str, str]:
    """This checkout first on the path, so the contracts are checked on its helpers."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    return env


def test_layer_contracts_hold():
    if sys.version_info < (3, 11):
        pytest.skip("import-linter needs Python 3.11 or newer; the 3.11+ legs check the contracts")
    try:
        import importlinter  # noqa: F401
    except ImportError:
        pytest.fail("import-linter is missing: pip install -r requirements-dev.txt")
    # The console script's function, run by this interpreter: no PATH lookup, no network, no cache file.
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    result = subprocess.run(
        [sys.executable, "-c", code, "--config", str(REPO_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"an import breaks the layers (see ARCHITECTURE.md):\n{result.stdout}{result.stderr}"
    assert "0 broken" in result.stdout


def test_every_module_has_a_place_in_the_contracts():
    named = set(re.findall(r"helpers(?:\.\w+)+", _contract_text()))
    top_level = {m for m in _modules() if m.count(".") == 1}  # helpers.check stands for its checkers
    missing = sorted(top_level - named)
    assert not missing, f"{missing}: add them to a layer of [tool.importlinter] in pyproject.toml"


def test_contracts_list_no_exceptions():
    assert "ignore_imports" not in _contract_text(), "fix the import instead of listing it as an exception"


def test_importing_the_scorer_loads_no_strategy():
    code = "import sys, helpers.scorer; print('helpers.strategies' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False", "helpers.scorer imports helpers.strategies: the cycle is back"


# Private names still imported across modules, to be made public when text.py's input checks (issue 16)
# have landed: the list may only shrink (the test fails when an entry is no longer needed).
KNOWN_PRIVATE_IMPORTS: set[str] = set()


def test_no_module_imports_another_modules_private_names():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                offences += [f"{path.relative_to(REPO_ROOT)}: from {node.module} import {alias.name}"
                             for alias in node.names if alias.name.startswith("_")]
    new = sorted(set(offences) - KNOWN_PRIVATE_IMPORTS)
    assert not new, "use public names (argument checks: helpers.validation) instead of:\n" + "\n".join(new)
    assert KNOWN_PRIVATE_IMPORTS <= set(offences), "remove the fixed entries from KNOWN_PRIVATE_IMPORTS"


def test_architecture_map_lists_every_module():
    text = (REPO_ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = sorted(m for m in _modules() if f"`{m.removeprefix('helpers.')}`" not in text and f"`{m}`" not in text)
    assert not missing, f"ARCHITECTURE.md does not list {missing}"


def test_contributing_points_to_the_architecture_map():
    assert "ARCHITECTURE.md" in (REPO_ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
