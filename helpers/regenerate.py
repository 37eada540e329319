"""Regenerate the stored outputs of the course notebooks headlessly ("Restart & Run All").

Usage, from the repository root::

    python -m helpers.regenerate                     # every notebook, solutions included
    python -m helpers.regenerate notebooks/02_*.ipynb

Each notebook runs in a fresh kernel in its own folder under the ``default`` profile (unless
``COURSE_PROFILE`` says otherwise). Widget state is not stored (GitHub cannot render it), and
widget views keep only their plain-text fallback, so the stored notebook reads everywhere.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from helpers.config import REPO_ROOT

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def strip_widgets(notebook) -> None:
    """Remove saved widget state and widget-view outputs (keeping their text fallback) in place."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and WIDGET_MIME in data:
                data.pop(WIDGET_MIME)
                if not data:
                    data["text/plain"] = ""


def run_notebook(path: Path, timeout: int = 900) -> float:
    """Execute ``path`` in place in a fresh kernel; return the wall time in seconds."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    strip_widgets(notebook)
    nbformat.write(notebook, path)
    return elapsed


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: run the given notebooks, or all of them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all)")
    args = parser.parse_args(argv)
    os.environ.setdefault("COURSE_PROFILE", "default")
    paths = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb")) + sorted(
        (REPO_ROOT / "notebooks" / "solutions").glob("*.ipynb"))
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        print(f"  done in {run_notebook(path.resolve()):.0f} s", flush=True)


if __name__ == "__main__":
    main()
