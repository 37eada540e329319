"""Shared code of the course "Bandits and BERT for diverse e-commerce recommendation".

The notebooks carry the teaching; this package carries what several notebooks or the tests
need. Modules: ``config`` (paths, profiles, seeding, device), ``data`` (dataset registry),
and one module per topic, each described in its docstring.
"""

__version__ = "0.1.0"


def show_source(obj) -> None:
    """Display the source code of a package function or class in a notebook (or print it).

    Notebooks use it to teach from the package's own code, so there is one source of truth.
    """
    import inspect

    source = inspect.getsource(obj)
    try:
        from IPython.display import Markdown, display
    except ImportError:  # outside IPython
        print(source)
        return
    display(Markdown(f"```python\n{source}```"))
