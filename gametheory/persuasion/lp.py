"""The sender-optimal signaling scheme by linear programming (scipy HiGHS).

By the revelation principle (Kamenica and Gentzkow 2011, Prop. 1) it suffices to consider
*direct* schemes whose signals are action recommendations, subject to obedience: after
recommendation ``a`` the receiver prefers ``a`` to every ``a'``,

    sum_s prior[s] pi(a|s) (v[s, a] - v[s, a'])  >=  0        for all a != a'.     (1)

Maximising ``sum_s prior[s] sum_a pi(a|s) u[s, a]`` over row-stochastic ``pi`` subject to (1)
is an LP over ``S x A`` variables with ``A (A - 1)`` inequality rows (Dughmi and Xu 2016,
"Algorithmic Bayesian persuasion"). The weak inequalities encode the sender-favourable
tie-breaking of :mod:`gametheory.persuasion.problem`.

:func:`robust_scheme` replaces ``prior[s]`` in (1) by a box ``[lower[s], upper[s]]`` of candidate
priors and asks (1) for every prior in the box; since ``pi >= 0`` the worst prior is coordinatewise
``lower`` where ``v[s, a] - v[s, a'] > 0`` and ``upper`` where it is negative, which keeps the
robust constraint linear. It is the scheme of the online learner of
:mod:`gametheory.persuasion.online` (after Zu, Iyer and Xu 2021).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog

from .problem import (
    PersuasionProblem,
    best_response,
    full_disclosure_value,
    no_information_value,
)

__all__ = ["PersuasionSolution", "optimal_scheme", "robust_scheme", "obedience_slack"]


class PersuasionSolution(NamedTuple):
    """The sender-optimal direct scheme and what it induces."""

    scheme: np.ndarray  # [S, A] pi(recommend a | state s); each row sums to 1
    joint: np.ndarray  # [S, A] prior[s] * pi(a|s); row s sums to prior[s]
    posteriors: np.ndarray  # [K, S] the distinct posteriors the scheme induces
    posterior_probs: np.ndarray  # [K] their probabilities (Bayes plausible: sum_k p_k mu_k = prior)
    recommended: np.ndarray  # [K] the action recommended with each posterior
    value: float  # sender's expected utility (receiver obeys)
    receiver_value: float  # receiver's expected utility under the scheme
    no_information: float  # sender's utility when nothing is revealed
    full_disclosure: float  # sender's utility when the state is revealed


def _deviation_coefficients(receiver_utility, lower, upper) -> np.ndarray:
    """``coef[a, a', s]`` of ``pi(a|s)`` in the (robust) obedience row of ``(a, a')``."""
    v = receiver_utility
    d = v.T[:, None, :] - v.T[None, :, :]  # [A, A', S]: v[s, a] - v[s, a']
    return lower[None, None, :] * np.maximum(d, 0.0) - upper[None, None, :] * np.maximum(-d, 0.0)


def obedience_slack(problem: PersuasionProblem, scheme) -> np.ndarray:
    """``[A, A]`` left-hand sides of (1); entry ``(a, a')`` must be ``>= 0`` for obedience."""
    scheme = np.asarray(scheme, dtype=np.float64)
    coef = _deviation_coefficients(problem.receiver_utility, problem.prior, problem.prior)
    return np.einsum("abs,sa->ab", coef, scheme)


def _solve(objective_weights, sender_utility, receiver_utility, lower, upper) -> np.ndarray:
    s, a = sender_utility.shape
    c = -(objective_weights[:, None] * sender_utility).ravel()  # variables pi[s, a], s-major
    coef = _deviation_coefficients(receiver_utility, lower, upper)  # [A, A', S]
    rows = []
    for rec in range(a):
        for dev in range(a):
            if dev != rec:
                row = np.zeros((s, a))
                row[:, rec] = -coef[rec, dev]
                rows.append(row.ravel())
    a_ub = np.array(rows) if rows else None
    b_ub = np.zeros(len(rows)) if rows else None
    a_eq = np.kron(np.eye(s), np.ones((1, a)))
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(s), bounds=(0.0, 1.0),
                  method="highs")
    if res.status != 0:  # full disclosure is always feasible, so this is a solver failure
        raise RuntimeError(f"HiGHS failed on the persuasion LP: {res.message}")
    pi = np.clip(res.x.reshape(s, a), 0.0, None)
    return pi / pi.sum(axis=1, keepdims=True)


def _state_best_responses(problem: PersuasionProblem) -> np.ndarray:
    return np.array([best_response(problem.sender_utility, problem.receiver_utility, e)
                     for e in np.eye(problem.num_states)])


def optimal_scheme(problem: PersuasionProblem) -> PersuasionSolution:
    """Sender-optimal direct scheme of ``problem`` by one HiGHS LP.

    Returns the scheme ``pi(a|s)`` (rows of states with zero prior, which never occur, are set to
    the receiver's best action in that state), the joint ``prior[s] pi(a|s)``, the distinct
    posteriors with their probabilities and recommended actions, the sender's value (the LP
    optimum) and the receiver's, and the sender's values under no information and full
    disclosure, which never exceed the LP value.

    Example (Kamenica and Gentzkow 2011, Sec. I: prosecutor and judge)::

        >>> p = PersuasionProblem([0.7, 0.3], [[0, 1], [0, 1]], [[1, 0], [0, 1]],
        ...                       states=["innocent", "guilty"], actions=["acquit", "convict"])
        >>> round(optimal_scheme(p).value, 9)
        0.6
    """
    pi = _solve(problem.prior, problem.sender_utility, problem.receiver_utility, problem.prior,
                problem.prior)
    zero = problem.prior == 0
    if np.any(zero):
        pi[zero] = np.eye(problem.num_actions)[_state_best_responses(problem)[zero]]
    joint = problem.prior[:, None] * pi
    probs = joint.sum(axis=0)
    used = np.flatnonzero(probs > 1e-12)
    posteriors = (joint[:, used] / probs[used]).T
    return PersuasionSolution(
        scheme=pi,
        joint=joint,
        posteriors=posteriors,
        posterior_probs=probs[used],
        recommended=used,
        value=float(np.sum(joint * problem.sender_utility)),
        receiver_value=float(np.sum(joint * problem.receiver_utility)),
        no_information=no_information_value(problem),
        full_disclosure=full_disclosure_value(problem),
    )


def robust_scheme(problem: PersuasionProblem, estimate, lower, upper) -> np.ndarray:
    """Direct scheme ``[S, A]`` that is obedient for *every* prior in the box ``[lower, upper]``
    and maximises the sender's utility under ``estimate`` (e.g. the empirical state frequencies).

    ``lower``/``upper`` are clipped to ``[0, 1]``. Full disclosure (recommend the receiver's best
    action in each state) is obedient for every prior, so the LP is always feasible; with
    ``lower == upper == prior`` it is :func:`optimal_scheme`'s LP. The utilities and names are
    taken from ``problem``; its prior is not used.
    """
    s = problem.num_states
    arrays = []
    for name, x in (("estimate", estimate), ("lower", lower), ("upper", upper)):
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (s,) or not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be {s} finite numbers (one per state); got {x!r}.")
        arrays.append(x)
    estimate, lower, upper = arrays
    lower, upper = np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0)
    if np.any(lower > upper):
        raise ValueError("the confidence box is empty: some lower bound exceeds its upper bound.")
    return _solve(estimate, problem.sender_utility, problem.receiver_utility, lower, upper)
