"""TMECor values by one LP, without column generation (independent checks for small games).

* :func:`solve_joint_plan_lp`: the master LP of :mod:`~gametheory.teams.tmecor` over **every**
  joint pure plan of the team (the normal form of the team's strategy space). Exponential; for
  small hand-built games.
* :func:`solve_semi_randomized_lp`: it suffices that one teammate randomises (Farina, Celli,
  Gatti & Sandholm, ICML 2021, "Connecting optimal ex-ante collusion in teams to extensive-form
  correlation"): for each pure plan ``pi`` of the other teammate(s), the team's utility is linear
  in the randomising teammate's plan, so the conditional mixture collapses into a realization
  plan. Variables ``z_k`` (the randomising teammate's plan scaled by the probability ``mu_k`` of
  the ``k``-th enumerated plan) with ``F z_k = mu_k f``:

      max f_a^T w  s.t.  F_a^T w <= sum_k G_k z_k,  sum_k z_k[0] = 1,  F z_k = z_k[0] f,  z >= 0

  where ``G_k[s_a, s] = sum_z payoff_z [pi_k reaches z]`` over entries with sequences
  ``(s, s_a)``. Polynomial in the enumerated plans only; exact for 3-player Kuhn in seconds.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from ..efg.lp import treeplex_constraints
from .plans import DEFAULT_MAX_PLANS, count_pure_plans, enumerate_pure_plans, format_count
from .sequence_form import TeamGame, TeamMixture
from .tmecor import master_lp, team_columns

__all__ = ["solve_joint_plan_lp", "solve_semi_randomized_lp"]


def solve_joint_plan_lp(game: TeamGame, max_columns: int = 100_000):
    """``(value, mixture, adversary_plan)`` from the master LP over all joint pure plans.

    Raises ``ValueError`` when the team has more than ``max_columns`` joint pure plans.
    """
    counts = [count_pure_plans(game.trees[p]) for p in game.team]
    total = math.prod(counts)
    if total > max_columns:
        raise ValueError(
            f"the team has {format_count(total)} joint pure plans, more than "
            f"max_columns={max_columns}; "
            "use solve_tmecor (column generation) or solve_semi_randomized_lp instead."
        )
    plans = [enumerate_pure_plans(game.trees[p]) for p in game.team]
    joint = [tuple(p[i].astype(np.float64) for p, i in zip(plans, idx))
             for idx in itertools.product(*(range(len(p)) for p in plans))]
    weights, y, value = master_lp(game, team_columns(game, joint))
    keep = np.flatnonzero(weights > 0)
    mixture = TeamMixture(weights[keep],
                          tuple(np.stack([joint[i][j] for i in keep])
                                for j in range(len(game.team))))
    return value, mixture, y


def solve_semi_randomized_lp(game: TeamGame, max_plans: int = DEFAULT_MAX_PLANS,
                             method: str = "highs-ipm") -> float:
    """The TMECor value from the LP in which only one teammate randomises (module docstring).

    The teammate with the most pure plans randomises; the others' joint pure plans (at most
    ``max_plans``) are enumerated.
    """
    team = game.team
    counts = [count_pure_plans(game.trees[p]) for p in team]
    mixer = int(np.argmax(counts))
    others = [j for j in range(len(team)) if j != mixer]
    total = math.prod(counts[j] for j in others)
    if total > max_plans:
        raise ValueError(
            f"the semi-randomized LP enumerates {format_count(total)} joint plans, more than "
            f"max_plans={max_plans}; the game is too large for it."
        )
    other_plans = [enumerate_pure_plans(game.trees[team[j]], max_plans) for j in others]
    tree = game.trees[team[mixer]]
    n_s = tree.num_sequences
    adv = game.adversary_tree
    # G: rows = adversary sequences, columns = (k, s) blocks.
    rows, cols, vals = [], [], []
    for k, idx in enumerate(itertools.product(*(range(len(p)) for p in other_plans))):
        reach = game.payoff.copy()
        for j, i, plans in zip(others, idx, other_plans):
            reach = reach * plans[i][game.seqs[:, team[j]]]
        nz = np.flatnonzero(reach)
        rows.append(game.seqs[nz, game.adversary])
        cols.append(k * n_s + game.seqs[nz, team[mixer]])
        vals.append(reach[nz])
    n_k = max(total, 1)
    g_mat = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(adv.num_sequences, n_k * n_s))
    f_mat, f_vec = treeplex_constraints(adv.treeplex)
    e_mat, _ = treeplex_constraints(tree.treeplex)
    # F z_k = z_k[0] f: the treeplex rows except the root row (z_k[0] = mu_k is free in [0, 1]).
    block = e_mat[1:]
    n_w = f_mat.shape[0]
    a_eq = sp.vstack([
        sp.hstack([sp.kron(sp.eye(n_k), block), sp.csr_matrix((block.shape[0] * n_k, n_w))]),
        sp.hstack([sp.kron(np.ones((1, n_k)), sp.csr_matrix(([1.0], ([0], [0])), shape=(1, n_s))),
                   sp.csr_matrix((1, n_w))]),
    ]).tocsr()
    b_eq = np.zeros(a_eq.shape[0])
    b_eq[-1] = 1.0
    a_ub = sp.hstack([-g_mat, f_mat.T]).tocsr()
    cost = np.concatenate([np.zeros(n_k * n_s), -f_vec])
    bounds = [(0.0, None)] * (n_k * n_s) + [(None, None)] * n_w
    res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(adv.num_sequences), A_eq=a_eq, b_eq=b_eq,
                  bounds=bounds, method=method)
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the semi-randomized TMECor LP: {res.message}")
    return float(-res.fun)
