"""The learner's requirements, the pinned dev requirements and the conda environment agree."""

from __future__ import annotations

import re

from helpers.config import REPO_ROOT

# conda-forge names that differ from PyPI names
CONDA_TO_PYPI = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _requirements(path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found[_name(line)] = line
    return found


def _environment_packages() -> set[str]:
    names, in_pip, in_dependencies = set(), False, False
    for line in (REPO_ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if stripped and not stripped.startswith(" "):
            in_dependencies = stripped.startswith("dependencies:")
        if not in_dependencies or not stripped.strip().startswith("- "):
            continue
        item = stripped.strip()[2:].strip()
        if item == "pip:":
            in_pip = True
            continue
        if item.startswith("-e") or item.startswith("-r"):
            continue
        name = _name(item)
        if name not in NOT_PACKAGES:
            names.add(CONDA_TO_PYPI.get(name, name))
    assert in_pip, "environment.yml has no pip section"
    return names


def test_requirements_and_environment_list_the_same_packages():
    learner = set(_requirements(REPO_ROOT / "requirements.txt"))
    assert _environment_packages() == learner


def test_learner_requirements_use_ranges_and_no_platform_specific_torch():
    for line in _requirements(REPO_ROOT / "requirements.txt").values():
        assert "==" not in line, f"{line}: learners get ranges; exact pins belong in requirements-dev.txt"
        assert "+cpu" not in line and "+cu" not in line and "download.pytorch.org" not in line
    assert "torch" in _requirements(REPO_ROOT / "requirements.txt")


def test_dev_requirements_pin_every_learner_package_and_the_test_tools():
    dev_text = (REPO_ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    assert "-r requirements.txt" in dev_text
    dev = _requirements(REPO_ROOT / "requirements-dev.txt")
    for name in set(_requirements(REPO_ROOT / "requirements.txt")) | {"pytest", "nbval", "hypothesis", "ruff", "import-linter"}:
        assert name in dev and "==" in dev[name], f"{name} is not pinned in requirements-dev.txt"
    assert dev["torch"] == "torch==2.13.0"
