"""Exact equilibria of two-player zero-sum matrix games by linear programming (scipy HiGHS)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog

__all__ = ["ZeroSumSolution", "solve_zero_sum", "zero_sum_matrix"]


class ZeroSumSolution(NamedTuple):
    row: np.ndarray  # [m] maximin strategy of the row player
    col: np.ndarray  # [n] minimax strategy of the column player
    value: float  # game value for the row player: max_x min_y x^T A y


def zero_sum_matrix(game_or_matrix) -> np.ndarray:
    """The row player's matrix of a two-player zero-sum game, or a ``ValueError`` that names the
    alternative for any other input."""
    if hasattr(game_or_matrix, "treeplexes"):
        raise ValueError(
            "solve_zero_sum solves matrix games; for an extensive-form game use "
            "gametheory.efg.solve_lp (the sequence-form LP)."
        )
    matrix = getattr(game_or_matrix, "matrix", None)
    if matrix is None and hasattr(game_or_matrix, "payoffs"):  # an NPlayerGame
        tensor = np.asarray(game_or_matrix.payoffs, dtype=np.float64)
        if tensor.shape[0] == 2 and np.allclose(tensor[0] + tensor[1], 0.0, atol=1e-12):
            return tensor[0]
        kind = f"{tensor.shape[0]}-player" if tensor.shape[0] != 2 else "general-sum"
        raise ValueError(
            f"solve_zero_sum needs a two-player zero-sum game; {game_or_matrix.name!r} is a "
            f"{kind} game. Use gametheory.correlated.correlated_equilibrium(game) for an exact "
            "correlated equilibrium by LP, or a solver (gt.solve) for Nash equilibria."
        )
    a = game_or_matrix if matrix is None else matrix
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "solve_zero_sum needs a matrix game (gametheory.games.matrix_game) or an [m, n] "
            f"array of numbers; got {type(game_or_matrix).__name__}."
        ) from None
    if a.ndim != 2 or a.size == 0:
        raise ValueError(
            f"solve_zero_sum needs a 2-D [m, n] payoff matrix; got shape {a.shape}."
        )
    if not np.all(np.isfinite(a)):
        raise ValueError("the payoff matrix has NaN or inf entries; use finite payoffs.")
    return a


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
    matrix is ``P - 1/2``), a two-player zero-sum :class:`~gametheory.games.NPlayerGame`, or a
    raw ``[m, n]`` matrix; other games raise ``ValueError`` naming the alternative (general-sum:
    :func:`gametheory.correlated.correlated_equilibrium`). ``method`` is passed to ``linprog``
    (``"highs"``, ``"highs-ds"`` or ``"highs-ipm"``).
    """
    a = zero_sum_matrix(game_or_matrix)
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
