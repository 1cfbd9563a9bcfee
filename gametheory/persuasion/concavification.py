"""Concavification for a binary state (Kamenica and Gentzkow 2011, Cor. 2).

With two states a belief is one number ``mu = P(state 1)``. Let ``v_hat(mu)`` be the sender's
expected utility when the receiver best-responds at belief ``mu`` (ties in the sender's
favour). The sender's optimal value at prior ``p`` is the concave envelope ``V(p)`` of
``v_hat``: the smallest concave function above it, i.e. the best average of ``v_hat`` over a
Bayes-plausible split of ``p`` into posteriors.

``v_hat`` is piecewise linear: the receiver's expected utility of each action is linear in
``mu``, so the best response changes only where two actions' lines cross. Between consecutive
crossings ``v_hat`` is linear, and at a crossing the sender-favourable tie-break makes it the
larger of its one-sided limits, so the envelope is the upper concave hull of the points
``(mu_k, v_hat(mu_k))`` at ``0``, ``1`` and every crossing.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .problem import PersuasionProblem, best_response

__all__ = ["Concavification", "concavify", "sender_value_at_belief"]


class Concavification(NamedTuple):
    """The sender's value curve over beliefs and its concave envelope (binary state)."""

    breakpoints: np.ndarray  # [K] beliefs 0, 1 and every crossing of the receiver's lines
    values: np.ndarray  # [K] v_hat at the breakpoints
    hull_beliefs: np.ndarray  # [H] vertices of the concave envelope (increasing, 0 ... 1)
    hull_values: np.ndarray  # [H]

    def value(self, prior1) -> np.ndarray:
        """Concave envelope ``V`` at ``prior1 = P(state 1)`` (scalar or array)."""
        return np.interp(prior1, self.hull_beliefs, self.hull_values)


def _utilities(problem_or_utilities):
    if isinstance(problem_or_utilities, PersuasionProblem):
        su, ru = problem_or_utilities.sender_utility, problem_or_utilities.receiver_utility
    else:
        su, ru = (np.asarray(x, dtype=np.float64) for x in problem_or_utilities)
        PersuasionProblem([0.5, 0.5], su, ru)  # validates finiteness and shapes
    if su.shape[0] != 2:
        raise ValueError(f"concavification here needs exactly 2 states; got {su.shape[0]}. Use "
                         "optimal_scheme (the LP) for more states.")
    return su, ru


def sender_value_at_belief(problem_or_utilities, beliefs) -> np.ndarray:
    """``v_hat(mu)``: sender's utility when the receiver best-responds at ``mu = P(state 1)``.

    ``problem_or_utilities``: a two-state :class:`PersuasionProblem` or a pair
    ``(sender_utility, receiver_utility)`` of ``[2, A]`` tables.
    """
    su, ru = _utilities(problem_or_utilities)
    mus = np.atleast_1d(np.asarray(beliefs, dtype=np.float64))
    out = np.empty_like(mus)
    for i, mu in enumerate(mus):
        belief = np.array([1.0 - mu, mu])
        out[i] = belief @ su[:, best_response(su, ru, belief)]
    return out.reshape(np.shape(beliefs))


def _upper_hull(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper concave hull of points sorted by ``x`` (Andrew's monotone chain)."""
    hull: list[tuple[float, float]] = []
    for px, py in zip(x, y):
        while len(hull) >= 2:
            (ax, ay), (bx, by) = hull[-2], hull[-1]
            # drop b if it lies on or below the chord from a to the new point
            if (bx - ax) * (py - ay) - (by - ay) * (px - ax) >= 0:
                hull.pop()
            else:
                break
        hull.append((px, py))
    hx, hy = zip(*hull)
    return np.array(hx), np.array(hy)


def concavify(problem_or_utilities) -> Concavification:
    """Concave envelope of the sender's value over beliefs for a two-state problem.

    ``problem_or_utilities``: a two-state :class:`PersuasionProblem` (its prior is not used) or
    ``(sender_utility, receiver_utility)``, each ``[2, A]``. ``result.value(p)`` is the sender's
    optimal value at prior ``P(state 1) = p``, which equals the LP of
    :func:`~gametheory.persuasion.optimal_scheme`.
    """
    su, ru = _utilities(problem_or_utilities)
    a = ru.shape[1]
    cuts = [0.0, 1.0]
    for i in range(a):
        for j in range(i + 1, a):
            # (1-mu) ru[0,i] + mu ru[1,i] = (1-mu) ru[0,j] + mu ru[1,j]
            d0, d1 = ru[0, i] - ru[0, j], ru[1, i] - ru[1, j]
            if d0 != d1:
                mu = d0 / (d0 - d1)
                if 0.0 < mu < 1.0:
                    cuts.append(mu)
    beliefs = np.unique(np.asarray(cuts))
    values = sender_value_at_belief((su, ru), beliefs)
    hx, hy = _upper_hull(beliefs, values)
    return Concavification(beliefs, values, hx, hy)
