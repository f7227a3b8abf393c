"""``python -m recipe.aesr1.aescot --help``."""

import sys

from recipe.aesr1.aescot.cli import main

sys.exit(main())
