"""Exact equilibrium of a sequence-form game by linear programming (scipy HiGHS).

Koller, Megiddo & von Stengel (1996): with the treeplex constraints ``E x = e``, ``F y = f``,
``x, y >= 0``, player 0 solves

    max_{x, v}  f^T v   s.t.  F^T v - A^T x <= 0,  E x = e,  x >= 0,  v free,

the dual of the inner ``min_y x^T A y``; player 1 solves the same LP on ``-A^T``. The payoff stays
sparse (``scipy.sparse``), so Leduc-sized games solve in well under a second.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

__all__ = ["solve_lp", "treeplex_constraints"]


def treeplex_constraints(tp) -> tuple[sp.csr_matrix, np.ndarray]:
    """``(E, e)``: ``x[0] = 1`` and ``sum_a x[seq(I, a)] = x[parent(I)]`` for every infoset."""
    seq = np.asarray(tp.seq_index)
    mask = np.asarray(tp.mask)
    parent = np.asarray(tp.parent)
    n_inf = seq.shape[0]
    rows = [0]
    cols = [0]
    vals = [1.0]
    r, _ = np.nonzero(mask)
    rows += list(r + 1)
    cols += list(seq[mask])
    vals += [1.0] * int(mask.sum())
    rows += list(np.arange(n_inf) + 1)
    cols += list(parent)
    vals += [-1.0] * n_inf
    e = np.zeros(n_inf + 1)
    e[0] = 1.0
    mat = sp.csr_matrix((vals, (rows, cols)), shape=(n_inf + 1, tp.num_sequences))
    return mat, e


def _maximin(a: sp.csr_matrix, e_mat, e_vec, f_mat, f_vec):
    """max_x min_y x^T a y over the two treeplexes; returns (x, value)."""
    n_x = a.shape[0]
    n_v = f_mat.shape[0]
    c = np.concatenate([np.zeros(n_x), -f_vec])
    a_ub = sp.hstack([-a.T, f_mat.T]).tocsr()
    b_ub = np.zeros(a.shape[1])
    a_eq = sp.hstack([e_mat, sp.csr_matrix((e_mat.shape[0], n_v))]).tocsr()
    bounds = [(0.0, None)] * n_x + [(None, None)] * n_v
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=e_vec, bounds=bounds,
                  method="highs")
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the sequence-form LP: {res.message}")
    return np.clip(res.x[:n_x], 0.0, None), float(-res.fun)


def solve_lp(game) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """Game value (for player 0) and an equilibrium pair of realization plans.

    ``game``: a :class:`~gametheory.efg.SequenceFormGame` or anything
    :func:`~gametheory.efg.sequence_form_game` accepts (OpenSpiel game string or object).
    """
    from .sequence_form import SequenceFormGame, sequence_form_game

    if not isinstance(game, SequenceFormGame):
        game = sequence_form_game(game)
    s0, s1 = game.num_sequences
    a = sp.csr_matrix(
        (np.asarray(game.payoff_values, np.float64),
         (np.asarray(game.payoff_rows), np.asarray(game.payoff_cols))),
        shape=(s0, s1),
    )
    (e_mat, e_vec), (f_mat, f_vec) = (treeplex_constraints(t) for t in game.treeplexes)
    x, v0 = _maximin(a, e_mat, e_vec, f_mat, f_vec)
    y, v1 = _maximin(-a.T.tocsr(), f_mat, f_vec, e_mat, e_vec)
    return 0.5 * (v0 - v1), (x, y)
