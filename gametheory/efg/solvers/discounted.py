"""Discounted CFR (Brown and Sandholm, AAAI 2019) in the sequence form.

"Solving Imperfect-Information Games via Discounted Regret Minimization", DCFR with parameters
``(alpha, beta, gamma)``: on iteration ``t`` the accumulated regrets, after the new
instantaneous counterfactual regrets are added, are multiplied by ``t^alpha / (t^alpha + 1)``
where positive and by ``t^beta / (t^beta + 1)`` where negative; the next policy is regret
matching on them, and the plan played at iteration ``t`` enters the average with weight
``t^gamma``. The paper's recommended ``alpha = 1.5, beta = 0, gamma = 2`` are the defaults.
Updates alternate between the players, as in the paper's experiments and OpenSpiel's
``open_spiel.python.algorithms.discounted_cfr.DCFRSolver`` (whose iterates this reproduces).
"""

from __future__ import annotations

import jax.numpy as jnp

from ...solvers.base import Solver
from ...solvers.params import check_flag, check_real
from .cfr import regret_matching, regret_solver

__all__ = ["dcfr"]


def dcfr(alpha: float = 1.5, beta: float = 0.0, gamma: float = 2.0,
         alternating: bool = True) -> Solver:
    """Discounted CFR (Brown & Sandholm 2019), alpha=1.5, beta=0, gamma=2; average converges.

    Positive accumulated regrets are discounted by ``t^alpha / (t^alpha + 1)``, negative ones
    by ``t^beta / (t^beta + 1)`` each iteration, and the average weights iteration ``t`` by
    ``t^gamma`` (``alpha = beta = gamma = 1`` is linear CFR). ``alternating`` (default):
    player 1 updates against player 0's new policy. The average iterate converges to a Nash
    equilibrium; the last does not in general.
    """
    alpha = check_real(alpha, "alpha")
    beta = check_real(beta, "beta")
    gamma = check_real(gamma, "gamma", minimum=0.0)
    alternating = check_flag(alternating, "alternating")

    def rule(tp, regrets, instant, t):
        r = regrets + instant
        up, down = t ** alpha, t ** beta
        r = jnp.where(r >= 0, r * (up / (up + 1.0)), r * (down / (down + 1.0)))
        return r, regret_matching(tp, r)

    return regret_solver("dcfr", rule, lambda t: t ** gamma, alternating)
