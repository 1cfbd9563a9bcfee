"""``python -m llm_adapter train --config run.yaml``: see :mod:`llm_adapter.cli`."""

import sys

from .cli import main

sys.exit(main())
