"""Exact TMECor (team-maxmin equilibrium with a coordination device) by column generation.

The team commits ex ante to a distribution ``mu`` over joint pure plans ``pi^1, ..., pi^K``; the
adversary plays a realization plan ``y`` with treeplex constraints ``F y = f, y >= 0``. Column
``k`` is the team's utility per adversary sequence, ``c_k``, so the team's value is
``max_mu min_y sum_k mu_k c_k^T y``. Dualising the inner minimisation gives the *master LP*

    max_{mu, w}  f^T w   s.t.  F^T w <= sum_k mu_k c_k,  sum_k mu_k = 1,  mu >= 0,  w free,

whose constraint duals are the adversary's minimising plan ``y`` (Farina, Celli, Gatti &
Sandholm 2018 use the same master over the adversary's sequence form). The *pricing* step is the
team's exact best response to ``y`` (:func:`~gametheory.teams.team_best_response`); a joint plan
better than the master value enters as a new column. At every iteration the master value is a
lower bound on the TMECor value and the best-response value an upper bound; the loop stops when
they meet.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from tqdm.auto import tqdm

from ..efg.lp import treeplex_constraints
from .best_response import adversary_best_response, team_best_response
from .plans import DEFAULT_MAX_PLANS, clean_plan
from .sequence_form import TeamGame, TeamMixture

__all__ = ["TMECorSolution", "solve_tmecor", "master_lp", "tmecor_gap", "team_columns"]


class TMECorSolution(NamedTuple):
    """Result of :func:`solve_tmecor`.

    ``value``: the TMECor value, the team's expected total utility (= minus the adversary's);
    ``lower``: the adversary's exact best response to ``team`` (what the team's mixture
    guarantees); ``upper``: the team's exact best response to ``adversary`` (what the adversary's
    plan concedes); ``team``: the correlated team strategy (support only); ``adversary``: its
    realization plan; ``iterations``: master LPs solved; ``lower_history`` and
    ``upper_history``: the bounds after every master LP.
    """

    value: float
    lower: float
    upper: float
    team: TeamMixture
    adversary: np.ndarray
    iterations: int
    lower_history: tuple
    upper_history: tuple

    @property
    def gap(self) -> float:
        return self.upper - self.lower


def team_columns(game: TeamGame, joint_plans) -> np.ndarray:
    """``[K, S_adv]``: the team's utility per adversary sequence for each joint pure plan."""
    rows = [game.adversary_utility(game.pure_mixture(plan)) for plan in joint_plans]
    return np.stack(rows) if rows else np.zeros((0, game.adversary_tree.num_sequences))


def master_lp(game: TeamGame, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(weights [K], adversary_plan [S_adv], value)`` of the master LP over the columns.

    ``columns`` comes from :func:`team_columns`. The adversary plan is the LP's dual, cleaned
    to an exact realization plan.
    """
    columns = np.asarray(columns, np.float64)
    k, n_seq = columns.shape
    f_mat, f_vec = treeplex_constraints(game.adversary_tree.treeplex)
    n_w = f_mat.shape[0]
    cost = np.concatenate([np.zeros(k), -f_vec])
    a_ub = sp.hstack([sp.csr_matrix(-columns.T), f_mat.T]).tocsr()
    a_eq = sp.csr_matrix(np.concatenate([np.ones(k), np.zeros(n_w)])[None])
    bounds = [(0.0, None)] * k + [(None, None)] * n_w
    res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(n_seq), A_eq=a_eq, b_eq=[1.0], bounds=bounds,
                  method="highs")
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the TMECor master LP: {res.message}")
    weights = np.clip(res.x[:k], 0.0, None)
    weights /= weights.sum()
    plan = clean_plan(game.adversary_tree, -res.ineqlin.marginals)
    return weights, plan, float(-res.fun)


def _stack(joint_plans, weights, game: TeamGame) -> TeamMixture:
    keep = np.flatnonzero(weights > 0)
    plans = tuple(np.stack([joint_plans[i][j] for i in keep]) for j in range(len(game.team)))
    return TeamMixture(weights[keep] / weights[keep].sum(), plans)


def _same_plan(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def solve_tmecor(game: TeamGame, tol: float = 1e-10, max_iterations: int = 500,
                 max_plans: int = DEFAULT_MAX_PLANS, progress: bool = False) -> TMECorSolution:
    """Exact TMECor of a team game by column generation.

    Starts from the team's best response to the uniform adversary, then alternates the master
    LP and the exact team best response until ``upper - lower <= tol`` (returned bounds are
    recomputed by exact best responses to the final strategies). ``max_plans`` bounds the
    enumeration inside the team best response (``ValueError`` beyond it).
    """
    if not isinstance(game, TeamGame):
        raise ValueError(f"solve_tmecor needs a TeamGame; got {type(game).__name__}. Build one "
                         "with gametheory.teams.team_game(game, adversary=...).")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) \
            or max_iterations < 1:
        raise ValueError(f"max_iterations must be a positive integer; got {max_iterations!r}.")
    tree = game.adversary_tree
    uniform = clean_plan(tree, np.zeros(tree.num_sequences))
    _, first = team_best_response(game, uniform, max_plans=max_plans)
    joint_plans = [first]
    columns = team_columns(game, joint_plans)
    lowers, uppers = [], []
    bar = tqdm(total=max_iterations, desc="TMECor", disable=not progress, leave=False)
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        weights, y, value = master_lp(game, columns)
        upper, plan = team_best_response(game, y, max_plans=max_plans)
        lowers.append(value)
        uppers.append(upper)
        bar.update(1)
        bar.set_postfix(gap=f"{upper - value:.2e}")
        if upper - value <= tol or any(_same_plan(plan, p) for p in joint_plans):
            break
        joint_plans.append(plan)
        columns = np.vstack([columns, team_columns(game, [plan])])
    bar.close()
    mixture = _stack(joint_plans, weights, game)
    lower = adversary_best_response(game, mixture)[0]
    return TMECorSolution(value=value + 0.0, lower=lower, upper=upper, team=mixture, adversary=y,
                          iterations=iterations, lower_history=tuple(lowers),
                          upper_history=tuple(uppers))


def tmecor_gap(game: TeamGame, mixture: TeamMixture, adversary_plan,
               max_plans: int = DEFAULT_MAX_PLANS) -> float:
    """Team exploitability of a profile: ``max_pi u(pi, y) - min_y' u(mixture, y')``.

    The team's exact best response to ``adversary_plan`` minus the adversary's exact best
    response to ``mixture``: the width of the bracket the profile puts around the TMECor value,
    i.e. the NashConv of the two-player (team vs adversary) zero-sum game (not halved). Zero
    exactly at a TMECor.
    """
    upper = team_best_response(game, adversary_plan, max_plans=max_plans)[0]
    lower = adversary_best_response(game, mixture)[0]
    return upper - lower
