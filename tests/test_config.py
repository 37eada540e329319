"""helpers.config: paths, profiles, seeding, device, atomic writes and manifests."""

from __future__ import annotations

import random

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
