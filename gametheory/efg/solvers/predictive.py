"""Predictive CFR+ (Farina, Kroer and Sandholm, AAAI 2021) in the sequence form.

"Faster Game Solving via Predictive Blackwell Approachability: Connecting Regret Matching and
Mirror Descent" replaces regret matching+ at every infoset by *predictive* regret matching+
(PRM+, their Algorithm 2): with ``R`` the clipped accumulated regrets and ``m`` a prediction of
the next instantaneous regret,

    R_t = [R_{t-1} + r_t]^+,        b_{t+1} proportional to [R_t + m_{t+1}]^+,

and the prediction is the last instantaneous counterfactual regret, ``m_{t+1} = r_t`` (the
choice of the paper's experiments, and of the authors' LiteEFG ``baselines/PCFR.py``). Updates
alternate between the players and the reported average weights the plan of iteration ``t`` by
``t^2`` (quadratic averaging, as in the paper's experiments); ``average_power`` changes the
exponent. The last iterate is not what converges; the average is.
"""

from __future__ import annotations

import jax.numpy as jnp

from ...solvers.base import Solver
from ...solvers.params import check_flag, check_real
from .cfr import regret_matching, regret_solver

__all__ = ["pcfr_plus"]


def pcfr_plus(alternating: bool = True, average_power: float = 2.0) -> Solver:
    """Predictive CFR+ (Farina et al. 2021): RM+ predicting the last regret; average converges.

    Per infoset ``R <- [R + r]^+`` and the next policy is regret matching on ``R + r`` (the
    last instantaneous counterfactual regret ``r`` as the prediction). ``alternating``
    (default): player 1 updates against player 0's new policy. ``average_power=2`` (default):
    the average weights iteration ``t`` by ``t^2`` (quadratic averaging); 1 is linear, 0
    uniform. The average iterate converges to a Nash equilibrium; the last does not in general.
    """
    alternating = check_flag(alternating, "alternating")
    power = check_real(average_power, "average_power", minimum=0.0)

    def rule(tp, regrets, instant, t):
        clipped = jnp.maximum(regrets + instant, 0.0)
        return clipped, regret_matching(tp, clipped + instant)

    return regret_solver("pcfr_plus", rule, lambda t: t ** power, alternating)
