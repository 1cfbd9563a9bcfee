"""Exact best responses in a two-team zero-sum game.

* :func:`adversary_best_response`: one bottom-up sweep of the adversary's treeplex against the
  team mixture's utility vector (the adversary minimises the team's utility).
* :func:`team_best_response`: the team's best *joint* pure plan against an adversary plan. The
  team's utility ``sum_z w_z prod_j x_j[seq_j(z)]`` (``w_z = payoff_z * y[seq_adv(z)]``) is
  multilinear in the teammates' plans, so fixing all but one teammate leaves a linear objective:
  every combination of the other teammates' reduced pure plans is enumerated (a batch), and the
  last teammate (the one with the most pure plans) best-responds to each by dynamic programming.
  With ``shared=True`` teammates play one shared policy: infosets with the same information
  state string (for a normal-form game: every teammate's single decision) must take the same
  action.
* :func:`sequential_best_response`: teammates best-respond one after another, each to the
  adversary and the *current* plans of the others (the earlier ones already updated), until no
  one improves. Every step is an exact single-player best response, so the team's utility never
  decreases; the result is a joint plan no single teammate can improve (not necessarily the
  best joint plan). This is the sequential update of H-PSRO (arXiv 2410.01575).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.sparse as sp

from .plans import (
    DEFAULT_MAX_PLANS,
    best_response_plans,
    count_pure_plans,
    enumerate_pure_plans,
    format_count,
    plan_choices,
)
from .sequence_form import TeamGame, TeamMixture

__all__ = ["adversary_best_response", "team_best_response", "sequential_best_response",
           "teammate_utility"]

_CHUNK_ENTRIES = 4_000_000  # batch rows x payoff entries per enumeration chunk


def adversary_best_response(game: TeamGame, mixture: TeamMixture) -> tuple[float, np.ndarray]:
    """``(value, plan)``: the adversary's pure best response to a team mixture and the team's
    utility against it (the team's guaranteed value: a lower bound on the TMECor value)."""
    c = game.adversary_utility(mixture)
    v, y = best_response_plans(game.adversary_tree, -c)
    return -float(v), y


def _weights(game: TeamGame, adversary_plan) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(adversary_plan, np.float64)
    if y.shape != (game.adversary_tree.num_sequences,):
        raise ValueError(
            f"adversary plan must have shape ({game.adversary_tree.num_sequences},) (one entry "
            f"per adversary sequence); got {y.shape}."
        )
    w = game.payoff * y[game.seqs[:, game.adversary]]
    keep = w != 0
    return w[keep], game.seqs[keep]


def teammate_utility(game: TeamGame, adversary_plan, joint_plan, j: int) -> np.ndarray:
    """``[S]``: utility of each sequence of teammate ``j`` (index into ``game.team``) when the
    adversary plays ``adversary_plan`` and the other teammates ``joint_plan``."""
    w, seqs = _weights(game, adversary_plan)
    for k, p in enumerate(game.team):
        if k != j:
            w = w * np.asarray(joint_plan[k], np.float64)[seqs[:, p]]
    p = game.team[j]
    return np.bincount(seqs[:, p], w, minlength=game.trees[p].num_sequences)


def _shared_links(game: TeamGame) -> dict:
    """``links[(j, k)][i]``: teammate ``k``'s infoset with the key of ``j``'s infoset ``i``
    (``-1`` if none). Raises if equal keys have different legal actions."""
    index = [{key: i for i, key in enumerate(game.trees[p].keys)} for p in game.team]
    links = {}
    for j, k in itertools.permutations(range(len(game.team)), 2):
        tj, tk = game.trees[game.team[j]], game.trees[game.team[k]]
        link = np.array([index[k].get(key, -1) for key in tj.keys], np.int64)
        for i in np.flatnonzero(link >= 0):
            aj = tj.actions[i][tj.actions[i] >= 0]
            ak = tk.actions[link[i]][tk.actions[link[i]] >= 0]
            if not np.array_equal(aj, ak):
                where = (f"the decision {tj.keys[i]!r}" if tj.keys[i] else
                         "their (normal-form) decision")
                raise ValueError(
                    f"shared=True: teammates {game.team[j]} and {game.team[k]} share {where} "
                    f"but have different actions there ({len(aj)} vs {len(ak)}); one shared "
                    "policy needs the same actions. Use shared=False."
                )
        links[(j, k)] = link
    return links


def team_best_response(game: TeamGame, adversary_plan, shared: bool = False,
                       max_plans: int = DEFAULT_MAX_PLANS) -> tuple[float, tuple]:
    """``(value, joint_plan)``: the team's best joint pure plan against ``adversary_plan``.

    ``joint_plan`` is a tuple of 0/1 realization plans in ``game.team`` order. With
    ``shared=True`` the best plan among those where teammates act alike at equal information
    state strings. Raises ``ValueError`` when the enumerated teammates have more than
    ``max_plans`` joint reduced pure plans (the problem is NP-hard in general).
    """
    w, seqs = _weights(game, adversary_plan)
    team = game.team
    counts = [count_pure_plans(game.trees[p]) for p in team]
    last = int(np.argmax(counts))
    others = [j for j in range(len(team)) if j != last]
    total = math.prod(counts[j] for j in others)
    if total > max_plans:
        raise ValueError(
            f"the team best response enumerates {format_count(total)} joint plans of teammates "
            f"{[team[j] for j in others]}, more than max_plans={max_plans}: exact TMECor is "
            "infeasible for this game (try a smaller game or raise max_plans)."
        )
    other_plans = [enumerate_pure_plans(game.trees[team[j]], max_plans) for j in others]
    last_tree = game.trees[team[last]]
    incidence = sp.csr_matrix((np.ones(len(w)), (np.arange(len(w)), seqs[:, team[last]])),
                              shape=(len(w), last_tree.num_sequences))
    links = _shared_links(game) if shared else None
    chunk = max(1, _CHUNK_ENTRIES // max(1, len(w)))
    best_value, best_plan = -np.inf, None
    shape = [len(p) for p in other_plans]
    for start in range(0, max(total, 1), chunk):
        flat = np.arange(start, min(start + chunk, total)) if others else np.zeros(1, np.int64)
        idx = np.unravel_index(flat, shape) if others else ()
        reach = np.broadcast_to(w, (len(flat), len(w))).copy()
        for j, rows, plans in zip(others, idx, other_plans):
            reach *= plans[rows][:, seqs[:, team[j]]]
        h = np.asarray(incidence.T @ reach.T).T
        forced, ok = None, np.ones(len(flat), bool)
        if shared and others:
            choices = {j: plan_choices(game.trees[team[j]], plans[rows])
                       for j, rows, plans in zip(others, idx, other_plans)}
            forced = np.full((len(flat), last_tree.num_infosets), -1, np.int64)
            for j in others:
                link = links[(last, j)]
                has = link >= 0
                forced[:, has] = np.where(forced[:, has] >= 0, forced[:, has],
                                          choices[j][:, link[has]])
                for k in others:
                    if k <= j:
                        continue
                    lk = links[(j, k)]
                    both = lk >= 0
                    cj, ck = choices[j][:, both], choices[k][:, lk[both]]
                    ok &= np.all((cj < 0) | (ck < 0) | (cj == ck), axis=1)
        values, plans_last = best_response_plans(last_tree, h, forced)
        values = np.where(ok, values, -np.inf)
        b = int(np.argmax(values))
        if values[b] > best_value:
            best_value = float(values[b])
            joint = [None] * len(team)
            for j, rows, plans in zip(others, idx, other_plans):
                joint[j] = plans[rows[b]].astype(np.float64)
            joint[last] = plans_last[b]
            best_plan = tuple(joint)
    return best_value, best_plan


def sequential_best_response(game: TeamGame, adversary_plan, start, order=None,
                             max_sweeps: int = 100) -> tuple[float, tuple, int]:
    """``(value, joint_plan, sweeps)``: sequential best responses from the joint plan ``start``.

    In each sweep the teammates (``order``: indices into ``game.team``, default ``0, 1, ...``)
    best-respond in turn to the adversary and to the others' current plans, each seeing the
    updates of the teammates before it; a teammate keeps its plan unless the best response is
    strictly better. Stops after a sweep without improvement (or ``max_sweeps``).
    """
    plans = [np.asarray(x, np.float64).copy() for x in start]
    order = list(range(len(game.team))) if order is None else [int(j) for j in order]
    value = game.value(game.pure_mixture(plans), adversary_plan)
    slack = 1e-12 * max(1.0, float(np.abs(game.payoff).sum()))
    sweeps = 0
    while sweeps < max_sweeps:
        sweeps += 1
        improved = False
        for j in order:
            u = teammate_utility(game, adversary_plan, plans, j)
            v, x = best_response_plans(game.trees[game.team[j]], u)
            if v > value + slack:
                plans[j], value, improved = x, float(v), True
        if not improved:
            break
    return value, tuple(plans), sweeps
