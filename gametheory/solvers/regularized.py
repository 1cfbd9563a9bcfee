"""Solvers of the KL-regularised preference game: INPO, Nash-MD and the COMAL prox-point loop."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import metrics, rules
from .base import (
    Solver,
    as_schedule,
    check_count,
    check_nonnegative,
    initial_logits,
    probabilities,
)
from .mmd import magnetic_step

__all__ = ["inpo", "nash_md", "comal", "RegularizedState", "ComalState"]


class RegularizedState(NamedTuple):
    logits: tuple  # per player normalised log-policy
    ref_logits: tuple  # per player normalised log reference policy
    step: jnp.ndarray


class ComalState(NamedTuple):
    logits: tuple
    ref_logits: tuple  # the prox centre pi_k of the current outer iteration
    inner_step: jnp.ndarray  # steps taken since the last reference update
    outer_step: jnp.ndarray  # number of reference updates so far
    step: jnp.ndarray


def _policy(game, state):
    return probabilities(state.logits)


def _init_regularized(game, initial):
    logits = initial_logits(game, initial)
    return RegularizedState(logits, logits, jnp.zeros((), jnp.int32))


def inpo(lr=1.0, tau=0.1) -> Solver:
    """INPO with a fixed reference (Zhang et al. 2024, eq. (6)); the reference is the initial
    policy. The last iterate converges to the equilibrium of the game regularised by
    ``tau KL(. || pi_ref)``, not to the Nash equilibrium of the game itself."""
    lr, tau = as_schedule(lr, "lr"), as_schedule(tau, "tau")

    def update(game, state):
        qs = game.gradients(probabilities(state.logits))
        eta, t = lr(state.step), tau(state.step)
        logits = tuple(rules.inpo(l, q, eta, t, r)
                       for l, q, r in zip(state.logits, qs, state.ref_logits))
        return state._replace(logits=logits, step=state.step + 1)

    return Solver(_init_regularized, update, _policy, name="inpo")


def nash_md(lr=1.0, tau=0.1) -> Solver:
    """Nash-MD with a fixed reference (Munos et al. 2024, Sec. 5): the mirror step starts from
    the geometric mixture ``pi^(1-lr tau) pi_ref^(lr tau)`` and uses the payoff against the
    opponents' mixture policies. Needs ``lr * tau <= 1``."""
    lr, tau = as_schedule(lr, "lr"), as_schedule(tau, "tau")

    def update(game, state):
        eta, t = lr(state.step), tau(state.step)
        mixtures = tuple(rules.geometric_mixture(l, r, eta * t)
                         for l, r in zip(state.logits, state.ref_logits))
        qs = game.gradients(probabilities(mixtures))
        logits = tuple(rules.nash_md(l, q, eta, t, r)
                       for l, q, r in zip(state.logits, qs, state.ref_logits))
        return state._replace(logits=logits, step=state.step + 1)

    return Solver(_init_regularized, update, _policy, name="nash_md")


def comal(lr=1.0, tau=0.1, inner_steps=500, inner="inpo", inner_tol=0.0) -> Solver:
    """COMAL (Liu et al. 2024, Alg. 1): the conceptual proximal-point method.

    Outer iteration k solves the game regularised by ``tau KL(. || pi_k)`` with an inner no-regret
    solver, then sets ``pi_{k+1}`` to the inner last iterate. The inner solver is INPO
    (``inner="inpo"``, Alg. 2), INPO in mirror-prox form (``inner="extragradient"``, see
    :func:`gametheory.solvers.mmd.magnetic_step`; much faster on ill-conditioned games, e.g.
    ``comal(lr=2.0, tau=0.001, inner_steps=200, inner="extragradient")``) or MWU on the
    regularised payoff ``q - tau (log pi - log pi_k)`` (``inner="mwu"``).
    The reference moves after ``inner_steps`` steps, or as soon as the NashConv
    of the regularised game drops below ``inner_tol`` (if > 0). The last iterate converges to a
    Nash equilibrium of the original game (Thm. 1).
    """
    lr, tau = as_schedule(lr, "lr"), as_schedule(tau, "tau")
    inner_steps = check_count(inner_steps, "inner_steps")
    inner_tol = check_nonnegative(inner_tol, "inner_tol")
    if inner not in ("inpo", "mwu", "extragradient"):
        raise ValueError(f"inner must be 'inpo', 'mwu' or 'extragradient'; got {inner!r}.")

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        zero = jnp.zeros((), jnp.int32)
        return ComalState(logits, logits, zero, zero, zero)

    def update(game, state):
        eta, t = lr(state.step), tau(state.step)
        if inner == "mwu":
            qs = game.gradients(probabilities(state.logits))
            logits = tuple(rules.mwu(l, rules.regularized_payoff(l, q, t, r), eta)
                           for l, q, r in zip(state.logits, qs, state.ref_logits))
        else:  # INPO = the MMD step with magnet pi_k and temperature tau
            logits = magnetic_step(game, state.logits, state.ref_logits, eta, t,
                                   inner == "extragradient")
        inner_step = state.inner_step + 1
        advance = inner_step >= inner_steps
        if inner_tol:
            gap = metrics.regularized_gap(game, probabilities(logits), t,
                                          probabilities(state.ref_logits))
            converged = gap <= inner_tol
            advance = advance | jnp.all(converged)
        refs = tuple(jnp.where(advance, l, r) for l, r in zip(logits, state.ref_logits))
        return ComalState(
            logits,
            refs,
            jnp.where(advance, 0, inner_step),
            state.outer_step + advance.astype(jnp.int32),
            state.step + 1,
        )

    return Solver(init, update, _policy, name="comal")
