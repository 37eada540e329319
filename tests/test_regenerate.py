"""helpers.regenerate --links: a new repository address reaches every link and set-up cell, and nothing runs."""

import nbformat

from helpers import config, regenerate


def test_links_follow_a_new_repository_address(tmp_path, monkeypatch):
    old = config.colab_url("02_bandit_math.ipynb")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# 02\n\n[![Open In Colab](badge.svg)]({old})"),
        nbformat.v4.new_code_cell("print('never run')"),
    ])
    nb_path, md_path = tmp_path / "02.ipynb", tmp_path / "README.md"
    nbformat.write(notebook, nb_path)
    md_path.write_text(f"| 02 | [open]({old}) | [solutions]({config.colab_url('solutions/02_x_solutions.ipynb')}) |\n")

    monkeypatch.setattr(config, "REPOSITORY", "a-teacher/fork")
    monkeypatch.setattr(config, "BRANCH", "v1.0")
    changed = regenerate.refresh_links([nb_path, md_path])

    assert changed == [nb_path, md_path]
    new = "https://colab.research.google.com/github/a-teacher/fork/blob/v1.0/notebooks/"
    assert md_path.read_text() == (f"| 02 | [open]({new}02_bandit_math.ipynb) | "
                                   f"[solutions]({new}solutions/02_x_solutions.ipynb) |\n")
    again = nbformat.read(nb_path, as_version=4)
    assert f"({new}02_bandit_math.ipynb)" in again.cells[0].source
    setup = again.cells[1]
    assert "colab-setup" in setup.metadata.tags and "nbval-skip" in setup.metadata.tags
    assert "https://github.com/a-teacher/fork.git" in setup.source and '"v1.0"' in setup.source
    assert "outputs" in again.cells[2] and not again.cells[2].outputs  # nothing was executed
    assert regenerate.refresh_links([nb_path, md_path]) == []  # already current: files untouched
