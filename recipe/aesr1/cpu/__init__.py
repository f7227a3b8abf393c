"""verl 0.9.1 on a machine without an accelerator (toy-scale runs, CI). See ``backend.py``.

Nothing is registered or patched by importing this package; ``recipe.aesr1.cpu.backend`` does that,
loaded by verl's ``VERL_USE_EXTERNAL_MODULES`` in every process of a CPU run (``launch.py``).
"""
