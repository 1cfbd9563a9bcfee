"""Sequence-form solvers with the normal-form ``(init, update, policy)`` protocol.

``policy(game, state)`` returns the pair of realization plans, which the driver may average
uniformly; the CFR family (CFR, CFR+, PCFR+, DCFR) provides its own weighted ``average``.
"""

from __future__ import annotations

from .cfr import cfr, cfr_plus
from .comal import comal
from .discounted import dcfr
from .mmd import dilated_mmd_step, mmd, mmd_annealed, mpo, optimistic
from .predictive import pcfr_plus
from .reg_cfr import reg_cfr
from .rtcfr import rtcfr_plus

__all__ = [
    "EFG_SOLVERS",
    "cfr",
    "cfr_plus",
    "comal",
    "dcfr",
    "dilated_mmd_step",
    "mmd",
    "mmd_annealed",
    "mpo",
    "optimistic",
    "pcfr_plus",
    "reg_cfr",
    "rtcfr_plus",
]

EFG_SOLVERS = {
    "mmd": mmd,
    "mpo": mpo,
    "comal": comal,
    "mmd_annealed": mmd_annealed,
    "optimistic": optimistic,
    "cfr": cfr,
    "cfr_plus": cfr_plus,
    "pcfr_plus": pcfr_plus,
    "dcfr": dcfr,
    "rtcfr_plus": rtcfr_plus,
    "reg_cfr": reg_cfr,
}
