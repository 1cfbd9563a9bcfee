"""Fixtures of the notebook and site tests: each notebook is executed once per session.

The suite runs the notebooks at their CI size (``GT_NOTEBOOK_SIZE=ci``: shorter horizons, the
same cells and plots); ``--runslow`` also runs them at the teaching size (``make docs`` renders
that size).
"""

from __future__ import annotations

import pytest
from notebook_runner import NOTEBOOKS, execute_notebook


class ExecutedNotebooks:
    """Runs each notebook at most once per test session and remembers the result."""

    def __init__(self):
        self._done: dict = {}

    def __call__(self, path):
        if path not in self._done:
            self._done[path] = execute_notebook(path, size="ci")
        return self._done[path]

    def all(self) -> dict:
        return {path: self(path) for path in NOTEBOOKS}


@pytest.fixture(scope="session")
def executed_notebooks():
    return ExecutedNotebooks()
