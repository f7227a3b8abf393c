"""``python -m data_prep`` runs the command line of :mod:`data_prep.cli`."""

import sys

from data_prep.cli import main

sys.exit(main())
