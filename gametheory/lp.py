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


def _maximin(a: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    """max_x min_j (x^T A)_j as an LP over (x, v): minimise -v s.t. v - (A^T x)_j <= 0."""
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
    x = np.clip(res.x[:m], 0.0, None)
    return x / x.sum(), float(res.x[-1])


def solve_zero_sum(game_or_matrix, method: str = "highs") -> ZeroSumSolution:
    """Nash equilibrium and value of ``max_x min_y x^T A y`` with scipy's HiGHS.

    Accepts a :class:`~gametheory.games.MatrixGame` (incl. preference games, for which the
    matrix is ``P - 1/2``) or a raw ``[m, n]`` matrix. ``method`` is passed to ``linprog``
    (``"highs"``, ``"highs-ds"`` or ``"highs-ipm"``).
    """
    a = getattr(game_or_matrix, "matrix", game_or_matrix)
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or not np.all(np.isfinite(a)):
        raise ValueError("solve_zero_sum needs a finite 2-D payoff matrix.")
    x, value = _maximin(a, method)
    y, neg_value = _maximin(-a.T, method)
    return ZeroSumSolution(row=x, col=y, value=0.5 * (value - neg_value))
