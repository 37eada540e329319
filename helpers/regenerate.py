"""Regenerate the stored outputs of the course notebooks headlessly ("Restart & Run All").

Usage, from the repository root::

    python -m helpers.regenerate                     # every notebook, solutions included
    python -m helpers.regenerate notebooks/02_*.ipynb
    python -m helpers.regenerate --links             # only rewrite Colab links and set-up cells
    python -m helpers.regenerate --record-times notebooks/0*.ipynb   # ... and store run times

``--links`` is for a change of :data:`helpers.config.REPOSITORY` or ``BRANCH`` (a fork, a release
tag): it rewrites every Open-in-Colab link (notebooks, README, docs) and every Colab set-up cell
without running anything.

``--record-times`` writes each course notebook's wall time to ``docs/run_times.json`` (with the
date, machine and versions), the one measurement that the README, the notebook headers and the
instructor guide quote through :func:`run_time_text` (a test keeps them equal). Record it in one
"Restart & Run All" of notebooks 00 to 07 in order from empty caches (``COURSE_CACHE_DIR`` and
``COURSE_ARTIFACTS_DIR`` set to new folders), as a learner's first pass through the course.

Each notebook runs in a fresh kernel in its own folder under the ``default`` profile (unless
``COURSE_PROFILE`` says otherwise). Before it runs, its Colab set-up cell is written (or
refreshed) from :func:`helpers.config.colab_setup_source`. Widget state and widget views
(progress bars, sliders) are not stored: GitHub cannot render them, and a progress bar's text
fallback is its first frame (0%), which would mislead a reader.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import time
from datetime import date
from pathlib import Path

from helpers.config import REPO_ROOT, colab_setup_source, colab_url, package_version

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
COLAB_TAG = "colab-setup"
#: An Open-in-Colab link to a notebook of any repository and branch; group 1 is the notebook's
#: path under ``notebooks/``.
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/\S+?/notebooks/([\w./-]+\.ipynb)")


def ensure_colab_cell(notebook) -> None:
    """Put the Colab set-up cell (tagged ``colab-setup`` and ``nbval-skip``) right after the title."""
    import nbformat

    source = colab_setup_source()
    for cell in notebook.cells:
        if COLAB_TAG in cell.metadata.get("tags", []):
            cell.source = source
            return
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [COLAB_TAG, "nbval-skip"]})
    notebook.cells.insert(1, cell)


def strip_widgets(notebook) -> None:
    """Remove saved widget state and widget-view outputs (progress bars, sliders) in place.

    A cell that draws a slider also draws its static figure, which stays.
    """
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if WIDGET_MIME not in o.get("data", {})]


def current_links(text: str) -> str:
    """``text`` with every Open-in-Colab link pointing at :data:`helpers.config.REPOSITORY` and ``BRANCH``."""
    return COLAB_LINK.sub(lambda match: colab_url(match.group(1)), text)


def refresh_links(paths: list[Path]) -> list[Path]:
    """Rewrite Colab links and set-up cells in place, running nothing; return the files changed."""
    import nbformat

    changed = []
    for path in paths:
        if path.suffix == ".ipynb":
            notebook = nbformat.read(path, as_version=4)
            before = nbformat.writes(notebook)
            ensure_colab_cell(notebook)
            for cell in notebook.cells:
                if cell.cell_type == "markdown":
                    cell.source = current_links(cell.source)
            if nbformat.writes(notebook) != before:
                nbformat.write(notebook, path)
                changed.append(path)
        else:
            text = path.read_text(encoding="utf-8")
            if current_links(text) != text:
                path.write_text(current_links(text), encoding="utf-8")
                changed.append(path)
    return changed


def use_course_profile() -> None:
    """Run kernels under the ``default`` profile unless ``COURSE_PROFILE`` says otherwise (they inherit it)."""
    os.environ.setdefault("COURSE_PROFILE", "default")


def notebook_client(notebook, folder: Path, timeout: int, **options):
    """The :class:`nbclient.NotebookClient` that runs ``notebook`` as "Restart & Run All" does.

    A fresh ``python3`` kernel (whatever kernel the file names) started in ``folder``, at most
    ``timeout`` seconds per cell; ``options`` go to the client (``allow_errors``, hooks, ...).
    Widget state is kept during the run (nbclient fails on output-capturing widgets otherwise);
    :func:`strip_widgets` removes it afterwards.
    """
    from nbclient import NotebookClient

    return NotebookClient(notebook, timeout=timeout, kernel_name="python3", store_widget_state=True,
                          resources={"metadata": {"path": str(folder)}}, **options)


def run_notebook(path: Path, timeout: int = 900) -> float:
    """Execute ``path`` in place in a fresh kernel; return the wall time in seconds."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    ensure_colab_cell(notebook)
    client = notebook_client(notebook, path.parent, timeout)
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    strip_widgets(notebook)
    nbformat.write(notebook, path)
    return elapsed


RUN_TIMES = REPO_ROOT / "docs" / "run_times.json"


def run_time_text(seconds: float) -> str:
    """How the course quotes a run time: "about 40 s" (to 10 s) below 55 s, else "about 2.5 min" (to 0.5 min)."""
    if seconds < 55:
        return f"about {max(10, math.floor(seconds / 10 + 0.5) * 10)} s"
    return f"about {math.floor(seconds / 30 + 0.5) / 2:g} min"


def recorded_run_times(path: Path = RUN_TIMES) -> dict[str, float]:
    """Seconds per course notebook (file name -> wall time) from ``docs/run_times.json``."""
    return json.loads(path.read_text(encoding="utf-8"))["seconds"]


def record_run_times(seconds: dict[str, float], path: Path = RUN_TIMES) -> None:
    """Write the measured wall times of course notebooks, with when and where they were measured."""
    record = {
        "what": "wall time of Restart & Run All of each course notebook, run in order 00-07 from empty caches",
        "date": date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores available, no GPU used",
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "seconds": {name: round(value, 1) for name, value in sorted(seconds.items())},
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: run the given notebooks, or all of them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all)")
    parser.add_argument("--links", action="store_true",
                        help="only rewrite Colab links and set-up cells (notebooks, README, docs); run nothing")
    parser.add_argument("--record-times", action="store_true",
                        help=f"write the course notebooks' wall times to {RUN_TIMES.relative_to(REPO_ROOT)}")
    args = parser.parse_args(argv)
    use_course_profile()
    paths = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb")) + sorted(
        (REPO_ROOT / "notebooks" / "solutions").glob("*.ipynb"))
    if args.links:
        documents = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
        changed = refresh_links(paths + ([] if args.notebooks else documents))
        print(f"{len(changed)} files now link to {colab_url('')}", *(f"  {p.relative_to(REPO_ROOT)}" for p in changed),
              sep="\n")
        return
    course_times = {}
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        elapsed = run_notebook(path.resolve())
        print(f"  done in {elapsed:.0f} s ({run_time_text(elapsed)})", flush=True)
        if path.resolve().parent == REPO_ROOT / "notebooks":
            course_times[path.name] = elapsed
    if args.record_times:
        record_run_times(course_times)


if __name__ == "__main__":
    main()
