"""MkDocs hook: the notebooks' kernels import the helpers next to them.

``mkdocs-jupyter`` executes each notebook in a kernel whose working directory is the one
``mkdocs`` runs in (the repository root), whereas Jupyter starts a notebook's kernel in the
notebook's own folder. Putting ``docs/notebooks`` on the kernel's ``PYTHONPATH`` makes
``import exercises`` and ``import simplex_plot`` work in both.
"""

from __future__ import annotations

import os
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


def on_config(config):
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(NOTEBOOKS) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(NOTEBOOKS), *paths])
    return config
