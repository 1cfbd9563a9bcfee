"""Online persuasion with an unknown prior (after Zu, Iyer and Xu 2021, arXiv 2102.10156).

In every round a state is drawn i.i.d. from a prior the sender does not know; the sender commits
to a direct scheme, the receiver (who knows the prior) best-responds to the recommendation, and
the sender then sees the state. The learner keeps the empirical state frequencies ``p_hat`` and a
set of candidate priors around them, and plays the scheme that is obedient for *every*
candidate (robust persuasiveness) and best for ``p_hat``: :func:`~gametheory.persuasion.lp.
robust_scheme`. While the true prior lies in the candidate sets the receiver always obeys, and
the price of robustness is ``O(radius)`` per round, which sums to ``O(sqrt(T log T))`` regret
(the main result of Zu, Iyer and Xu 2021).

Candidate set: the box ``|p(s) - p_hat(s)| <= eps_t`` with the Hoeffding radius
``eps_t = sqrt(log(4 S t^2 / delta) / (2 n))`` after ``n = t - 1`` observations. By Hoeffding's
inequality and a union bound over the ``S`` states and all rounds (``sum_t 1/(2 t^2) < 1``) the
true prior stays inside every box with probability at least ``1 - delta``.

The LP is re-solved when the number of observations has grown by the factor ``resolve_growth``
(every round while that is less than one observation); in between the previous, more
conservative scheme is kept. The radius used is then at most ``sqrt(resolve_growth)`` times the
current one, so the regret order is unchanged and a horizon of ``10^4`` rounds needs about 150
LP solves.

Regret here is the *expected* (pseudo-)regret: ``V* - E[u_t]`` with ``V*`` the LP value under the
true prior and ``E[u_t]`` the sender's expected utility of round ``t``'s scheme under the true
prior, the receiver best-responding (so a scheme that is not persuasive is charged for it).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from .lp import obedience_slack, optimal_scheme, robust_scheme
from .problem import PersuasionProblem, evaluate_scheme

__all__ = ["OnlinePriorResult", "confidence_radius", "learn_prior_online"]


class OnlinePriorResult(NamedTuple):
    """Trace of :func:`learn_prior_online` over ``T`` rounds."""

    regret: np.ndarray  # [T] cumulative expected regret after rounds 1..T
    values: np.ndarray  # [T] sender's expected utility of each round's scheme (true prior)
    optimal_value: float  # LP value under the true prior
    radius: np.ndarray  # [T] confidence radius of the box the round's scheme was computed for
    persuasive: np.ndarray  # [T] bool: round t's scheme is obedient under the true prior
    states: np.ndarray  # [T] the drawn states
    scheme: np.ndarray  # [S, A] the scheme played in the last round
    estimate: np.ndarray  # [S] empirical state frequencies after T rounds
    solves: int  # number of LPs solved


def confidence_radius(observations: int, round_: int, num_states: int, delta: float) -> float:
    """Hoeffding radius ``sqrt(log(4 S t^2 / delta) / (2 n))`` (``1`` before any observation)."""
    if observations <= 0:
        return 1.0
    return float(np.sqrt(np.log(4 * num_states * round_**2 / delta) / (2 * observations)))


def learn_prior_online(problem: PersuasionProblem, horizon: int, seed: int = 0,
                       delta: float = 0.05, resolve_growth: float = 1.05,
                       states=None, progress: bool = False) -> OnlinePriorResult:
    """Run the robust online learner for ``horizon`` rounds with states drawn from
    ``problem.prior`` (unknown to the learner), seeded by ``seed``.

    ``delta``: failure probability of the confidence boxes; ``resolve_growth`` (> 1): re-solve
    the robust LP when the sample count grew by this factor. Returns the regret trace, the
    per-round values and radii, whether each round's scheme was persuasive under the true prior,
    and the final scheme, which tends to :func:`~gametheory.persuasion.optimal_scheme`'s as the
    radius shrinks.
    """
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1; got {horizon!r}.")
    if not 0 < delta < 1:
        raise ValueError(f"delta must lie in (0, 1); got {delta!r}.")
    if not resolve_growth > 1:
        raise ValueError(f"resolve_growth must be > 1; got {resolve_growth!r}.")
    s = problem.num_states
    if states is None:
        states = np.random.default_rng(seed).choice(s, size=horizon, p=problem.prior)
    else:
        states = np.asarray(states)
        if states.shape != (horizon,) or not np.issubdtype(states.dtype, np.integer) or (
                states.min() < 0 or states.max() >= s):
            raise ValueError(f"states must hold {horizon} state indices in [0, {s}); got shape "
                             f"{states.shape}.")
    optimum = optimal_scheme(problem).value
    tol = 1e-9 * max(float(np.ptp(problem.receiver_utility)), 1.0)
    counts = np.zeros(s)
    values = np.empty(horizon)
    radius = np.empty(horizon)
    persuasive = np.empty(horizon, dtype=bool)
    solved_at, solves = -1, 0
    scheme = value = ok = eps = None
    for t in tqdm(range(1, horizon + 1), disable=not progress, desc="online persuasion"):
        n = t - 1
        if scheme is None or n >= resolve_growth * solved_at:
            estimate = counts / n if n else np.full(s, 1.0 / s)
            eps = confidence_radius(n, t, s, delta)
            scheme = robust_scheme(problem, estimate, estimate - eps, estimate + eps)
            value = evaluate_scheme(problem, scheme).sender_value
            ok = bool(obedience_slack(problem, scheme).min() >= -tol)
            solved_at, solves = n, solves + 1
        values[t - 1], radius[t - 1], persuasive[t - 1] = value, eps, ok
        counts[states[t - 1]] += 1
    return OnlinePriorResult(
        regret=np.cumsum(optimum - values),
        values=values,
        optimal_value=optimum,
        radius=radius,
        persuasive=persuasive,
        states=states,
        scheme=scheme,
        estimate=counts / horizon,
        solves=solves,
    )
