"""Test-suite setup. Our tests are not a package (verl's wheel installs one named ``tests``), so
helpers that several test files share are put on ``sys.path`` here."""

import os
import sys

for folder in ("reward_fns", os.path.join("recipe", "aesr1"), os.path.join("recipe", "aesr1", "rapo")):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), folder))
