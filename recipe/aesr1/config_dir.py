"""Where the recipe's hydra configs are, in a checkout and in an installed wheel.

The YAMLs live at the top of the repository (``configs/``). A wheel carries the same files as package
data at ``recipe/aesr1/configs/`` (setup.py maps them there), so that ``aesr1-rapo`` and the launch scripts
find them after ``pip install .`` or ``pip install git+...``. In a checkout or an editable install that
folder does not exist and the repository's ``configs/`` is used.

    aesr1-configs    # prints the folder, e.g. to pass --config to aesr1-aescot or red-aes-engine
"""

from __future__ import annotations

from pathlib import Path

PACKAGED = Path(__file__).resolve().parent / "configs"
REPOSITORY = Path(__file__).resolve().parents[2] / "configs"
CONFIG_DIR = str(PACKAGED if PACKAGED.is_dir() else REPOSITORY)
"""Absolute, so that hydra finds it from ``python -m``, from a console script and from any cwd."""


def main() -> int:
    print(CONFIG_DIR)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
