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
    assert "-r requirements.txt" in dev_text and "-r requirements-test.txt" in dev_text
    dev = _requirements(REPO_ROOT / "requirements-dev.txt") | _requirements(REPO_ROOT / "requirements-test.txt")
    for name in set(_requirements(REPO_ROOT / "requirements.txt")) | {"pytest", "nbval", "hypothesis", "ruff",
                                                                        "import-linter"}:
        assert name in dev and "==" in dev[name], f"{name} is not pinned in requirements-dev.txt"
    assert dev["torch"] == "torch==2.13.0"


def _pins(path) -> dict[str, str]:
    return {name: line.split("==", 1)[1] for name, line in _requirements(path).items() if "==" in line}


def _readme_row(leg: str) -> str:
    rows = [line for line in (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith(f"| {leg} |")]
    assert len(rows) == 1, f"README's test table needs one row for the {leg} leg"
    return rows[0]


def test_every_requirement_has_a_lower_bound_that_admits_colab():
    """The minimum leg installs each lower bound exactly; Colab's version must be inside every range."""
    from packaging.requirements import Requirement

    colab = _pins(REPO_ROOT / "ci" / "colab.txt")
    for name, line in _requirements(REPO_ROOT / "requirements.txt").items():
        requirement = Requirement(line)
        assert any(spec.operator == ">=" for spec in requirement.specifier), f"{line}: no lower bound"
        if name in colab:
            assert requirement.specifier.contains(colab[name]), f"{line} refuses Colab's {name} {colab[name]}"


def test_readme_states_the_versions_ci_tests():
    colab, minimum = _readme_row("Colab"), _readme_row("minimum")
    colab_pins = _pins(REPO_ROOT / "ci" / "colab.txt")
    for name in ("numpy", "pandas", "torch", "transformers", "ipywidgets", "ipython"):
        assert f"{name} {colab_pins[name]}" in colab, f"README's Colab row: {name} is {colab_pins[name]}"
    bounds = {name: line.split(">=", 1)[1] for name, line in _requirements(REPO_ROOT / "requirements.txt").items()}
    for name in ("numpy", "pandas", "torch", "transformers", "scikit-learn", "ipywidgets", "jupyterlab"):
        assert f"{name} {bounds[name]}" in minimum, f"README's minimum row: {name} is {bounds[name]}"
