"""Sequence-form solvers with the normal-form ``(init, update, policy)`` protocol.

``policy(game, state)`` returns the pair of realization plans, which the driver may average
uniformly; CFR and CFR+ provide their own (uniform / linear) ``average``.
"""

from __future__ import annotations

from .cfr import cfr, cfr_plus
from .comal import comal
from .mmd import dilated_mmd_step, mmd, mmd_annealed, mpo, optimistic

__all__ = [
    "EFG_SOLVERS",
    "cfr",
    "cfr_plus",
    "comal",
    "dilated_mmd_step",
    "mmd",
    "mmd_annealed",
    "mpo",
    "optimistic",
]

EFG_SOLVERS = {
    "mmd": mmd,
    "mpo": mpo,
    "comal": comal,
    "mmd_annealed": mmd_annealed,
    "optimistic": optimistic,
    "cfr": cfr,
    "cfr_plus": cfr_plus,
}
