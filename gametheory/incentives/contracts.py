"""Hidden-action principal-agent contracts with limited liability, by linear programming.

An agent picks a hidden action ``i`` at cost ``costs[i]``; the action draws an outcome ``j`` with
probability ``outcome_probs[i, j]`` and the principal receives ``rewards[j]``. A contract pays
``t[j] >= 0`` in outcome ``j`` (limited liability: no payment is negative). The agent takes the
action maximising ``E_i[t] - c_i``, ties broken in the principal's favour (standard; Dütting,
Roughgarden and Talgam-Cohen 2019, "Simple versus optimal contracts").

For each action the cheapest contract that makes it a best response (incentive compatibility)
and acceptable (expected utility at least ``outside_option``) is an LP (Grossman and Hart 1983):

    min_t  sum_j F[i, j] t_j   s.t.  (F[i] - F[i']) . t >= c_i - c_i'  for all i',
                                     F[i] . t >= c_i + outside_option,   t >= 0.

An action is implementable iff that LP is feasible. The principal then picks the action with
the largest ``R_i - T_i`` (expected reward minus expected payment).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog

__all__ = ["ContractProblem", "MinPayContract", "ContractSolution", "min_pay_contract",
           "optimal_contract"]


@dataclasses.dataclass(frozen=True)
class ContractProblem:
    """``rewards [J]``, ``costs [N]``, ``outcome_probs [N, J]`` (rows sum to 1), optional names,
    and the agent's ``outside_option`` (0 by default)."""

    rewards: np.ndarray
    costs: np.ndarray
    outcome_probs: np.ndarray
    actions: tuple[str, ...] | None = None
    outcomes: tuple[str, ...] | None = None
    outside_option: float = 0.0

    def __post_init__(self):
        r = np.asarray(self.rewards, dtype=np.float64)
        c = np.asarray(self.costs, dtype=np.float64)
        f = np.asarray(self.outcome_probs, dtype=np.float64)
        if r.ndim != 1 or c.ndim != 1 or r.size == 0 or c.size == 0:
            raise ValueError("rewards (one per outcome) and costs (one per action) must be "
                             "non-empty 1-D lists.")
        if f.shape != (c.size, r.size):
            raise ValueError(f"shape mismatch: outcome_probs must be [actions={c.size}, "
                             f"outcomes={r.size}]; got {f.shape}.")
        for name, x in (("rewards", r), ("costs", c), ("outcome_probs", f)):
            if not np.all(np.isfinite(x)):
                raise ValueError(f"{name} has a non-finite entry (NaN or inf).")
        if np.any(f < 0) or not np.allclose(f.sum(axis=1), 1.0, atol=1e-9):
            raise ValueError("each row of outcome_probs must be a probability distribution "
                             f"(>= 0, summing to 1); row sums are {f.sum(axis=1).tolist()}.")
        if not np.isfinite(self.outside_option):
            raise ValueError("outside_option must be a finite number.")
        names = lambda x, n, d: tuple(x) if x is not None else tuple(f"{d}{i}" for i in range(n))
        acts, outs = names(self.actions, c.size, "action"), names(self.outcomes, r.size, "outcome")
        if len(acts) != c.size or len(outs) != r.size:
            raise ValueError("give one name per action and one per outcome.")
        for k, v in (("rewards", r), ("costs", c), ("outcome_probs", f), ("actions", acts),
                     ("outcomes", outs), ("outside_option", float(self.outside_option))):
            object.__setattr__(self, k, v)

    @property
    def expected_rewards(self) -> np.ndarray:
        """``[N]`` principal's expected reward of each action."""
        return self.outcome_probs @ self.rewards


class MinPayContract(NamedTuple):
    action: int
    payments: np.ndarray  # [J] t_j >= 0
    expected_payment: float  # sum_j F[i, j] t_j
    principal_utility: float  # R_i - expected payment
    agent_utility: float  # expected payment - c_i


class ContractSolution(NamedTuple):
    best: MinPayContract  # the principal's optimal contract
    per_action: tuple  # MinPayContract or None (not implementable) for every action


def min_pay_contract(problem: ContractProblem, action: int) -> MinPayContract | None:
    """Cheapest limited-liability contract implementing ``action``, or ``None`` if none does."""
    n, _ = problem.outcome_probs.shape
    if not 0 <= action < n:
        raise ValueError(f"action must be in [0, {n}); got {action}.")
    f, c = problem.outcome_probs, problem.costs
    others = [k for k in range(n) if k != action]
    # IC: -(F_i - F_k) t <= -(c_i - c_k); IR: -F_i t <= -(c_i + outside)
    a_ub = np.vstack([-(f[action] - f[others]), -f[action][None]])
    b_ub = np.concatenate([-(c[action] - c[others]), [-(c[action] + problem.outside_option)]])
    res = linprog(f[action], A_ub=a_ub, b_ub=b_ub, bounds=(0.0, None), method="highs")
    if res.status == 2:  # infeasible: the action cannot be implemented
        return None
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the contract LP: {res.message}")
    pay = float(res.fun)
    return MinPayContract(action, res.x, pay, float(problem.expected_rewards[action] - pay),
                          pay - float(c[action]))


def optimal_contract(problem: ContractProblem) -> ContractSolution:
    """The principal's optimal contract: the min-pay contract of every implementable action, then
    the action with the largest principal utility (ties: lowest index)."""
    per_action = tuple(min_pay_contract(problem, i) for i in range(problem.costs.size))
    feasible = [m for m in per_action if m is not None]
    if not feasible:  # with a non-positive outside option the cheapest action is implementable
        raise ValueError("no action can be implemented with limited liability and this outside "
                         "option; lower the outside_option.")
    best = max(feasible, key=lambda m: (m.principal_utility, -m.action))
    return ContractSolution(best, per_action)
