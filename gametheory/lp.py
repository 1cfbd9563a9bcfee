"""Exact equilibria of two-player zero-sum matrix games by linear programming (scipy HiGHS)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog

__all__ = ["ZeroSumSolution", "solve_zero_sum"]


class ZeroSumSolution(NamedTuple):
    row: np.ndarray  # [m] maximin strategy of the row player
    col: np.ndarray  # [n] minimax strategy of the column player
    value: float  # game value for the row player: max_x min_y x^T A y


def _simplex_point(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0.0, None)
    return p / p.sum()


def solve_zero_sum(game_or_matrix, method: str = "highs") -> ZeroSumSolution:
    """Nash equilibrium and value of ``max_x min_y x^T A y`` with scipy's HiGHS.

    One LP over ``(x, v)``: minimise ``-v`` s.t. ``v - (A^T x)_j <= 0`` for every column j and
    ``sum x = 1``. The column player's minimax strategy is the dual of the column constraints:
    ``y = -marginals`` (stationarity in ``v`` gives ``sum y = 1``; LP duality gives
    ``max_i (A y)_i = v``), so one solve returns both strategies.

    Accepts a :class:`~gametheory.games.MatrixGame` (incl. preference games, for which the
    matrix is ``P - 1/2``) or a raw ``[m, n]`` matrix. ``method`` is passed to ``linprog``
    (``"highs"``, ``"highs-ds"`` or ``"highs-ipm"``).
    """
    a = getattr(game_or_matrix, "matrix", game_or_matrix)
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or not np.all(np.isfinite(a)):
        raise ValueError("solve_zero_sum needs a finite 2-D payoff matrix.")
    m, n = a.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-a.T, np.ones((n, 1))])
    a_eq = np.hstack([np.ones((1, m)), np.zeros((1, 1))])
    bounds = [(0.0, None)] * m + [(None, None)]
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq, b_eq=[1.0], bounds=bounds,
                  method=method)
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the zero-sum LP: {res.message}")
    row, col = _simplex_point(res.x[:m]), _simplex_point(-res.ineqlin.marginals)
    return ZeroSumSolution(row=row, col=col, value=float(res.x[-1]))
