"""verl imports our plugin through its entry point and swallows any error: check that it loads."""

import importlib
from importlib.metadata import entry_points


def test_entry_point_is_declared_and_imports_cleanly():
    (ep,) = [ep for ep in entry_points(group="verl.plugins") if ep.name == "aesr1"]
    assert ep.value == "recipe.aesr1.plugin"
    module = ep.load()  # what verl/__init__.py does, without the try/except around it
    assert module.reward_function.compute_score is importlib.import_module("recipe.aesr1.reward_function").compute_score


def test_importing_verl_loads_the_plugin():
    import sys

    import verl  # noqa: F401  (runs verl's plugin discovery)

    assert "recipe.aesr1.plugin" in sys.modules
