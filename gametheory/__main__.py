"""``python -m gametheory`` runs the command line (see :mod:`gametheory.cli`)."""

import sys

from .cli import main

sys.exit(main())
