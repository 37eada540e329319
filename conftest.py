"""Pytest settings shared by the unit tests and the nbval notebook items."""

import os

import pytest

# Notebook runs use the course's default profile unless the caller asks otherwise.
os.environ.setdefault("COURSE_PROFILE", "default")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Idle OpenMP threads sleep instead of spinning: a busy machine otherwise slows torch tenfold.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_collectstart(collector):
    """For notebook items only: do not compare stderr (progress bars, warnings) or HTML tables."""
    path = getattr(collector, "path", None)
    if path is not None and path.suffix == ".ipynb" and hasattr(collector, "skip_compare"):
        collector.skip_compare = tuple(collector.skip_compare) + ("stderr", "text/html", "application/javascript")


@pytest.fixture
def rng():
    """A seeded numpy Generator for tests."""
    import numpy as np

    return np.random.default_rng(12345)
