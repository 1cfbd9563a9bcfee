"""gametheory: last-iterate Nash equilibrium solvers in JAX.

Subpackages are imported lazily so that ``import gametheory.rules`` (used by the PyTorch
``llm_adapter``) does not import JAX.

    >>> import gametheory as gt
    >>> game = gt.games.comal_3x3()
    >>> result = gt.solve(game, gt.solvers.mpo(lr=1.0, temp=0.1, reset_every=500), steps=15000)
    >>> float(result.exploitability_last[-1]) < 1e-10
    True
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {"games", "metrics", "lp", "rules", "solvers", "driver", "efg", "correlated",
               "persuasion", "incentives", "psro", "teams"}
_EXPORTS = {
    "solve": "driver",
    "solve_batch": "driver",
    "solve_seeds": "driver",
    "solve_until": "driver",
    "solve_batch_until": "driver",
    "SolveResult": "driver",
    "solve_zero_sum": "lp",
}

__all__ = sorted(_SUBMODULES | set(_EXPORTS))


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'gametheory' has no attribute {name!r}")
