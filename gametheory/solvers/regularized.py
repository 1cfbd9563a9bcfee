"""Solvers of the KL-regularised preference game: INPO, Nash-MD and the COMAL prox-point loop.

``lr`` and ``tau`` are relative to the payoff scale ``S`` measured at init (:mod:`.scale`): the
step is ``lr / S`` and the regularisation ``tau * S``; ``scale=1.0`` reads them in the absolute
units of the papers. ``polish=True`` adds the certified support polish (:mod:`.polish`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import rules
from .base import (
    Solver,
    as_schedule,
    check_count,
    check_nonnegative,
    initial_logits,
    probabilities,
)
from .mmd import magnetic_step
from .polish import maybe_polish
from .scale import check_scale, measured_scale

__all__ = ["inpo", "nash_md", "comal", "RegularizedState", "ComalState"]


class RegularizedState(NamedTuple):
    logits: tuple  # per player normalised log-policy
    ref_logits: tuple  # per player normalised log reference policy
    scale: jnp.ndarray  # [..., 1] payoff scale S
    step: jnp.ndarray


class ComalState(NamedTuple):
    logits: tuple
    ref_logits: tuple  # the prox centre pi_k of the current outer iteration
    scale: jnp.ndarray  # [..., 1] payoff scale S
    start_gap: jnp.ndarray  # [...] regularised NashConv at pi_k (start of the inner loop)
    inner_step: jnp.ndarray  # steps taken since the last reference update
    outer_step: jnp.ndarray  # number of reference updates so far
    step: jnp.ndarray


def _policy(game, state):
    return probabilities(state.logits)


def _init_regularized(scale):
    def init(game, initial=None):
        logits = initial_logits(game, initial)
        return RegularizedState(logits, logits, measured_scale(scale, game),
                                jnp.zeros((), jnp.int32))

    return init


def inpo(lr=1.0, tau=0.1, scale="game", polish=False) -> Solver:
    """INPO with a fixed reference (Zhang et al. 2024, eq. (6)); the reference is the initial
    policy. The last iterate converges to the equilibrium of the game regularised by
    ``tau KL(. || pi_ref)``, not to the Nash equilibrium of the game itself."""
    lr, tau, scale = as_schedule(lr, "lr"), as_schedule(tau, "tau"), check_scale(scale)

    def update(game, state):
        qs = game.gradients(probabilities(state.logits))
        eta, t = lr(state.step) / state.scale, tau(state.step) * state.scale
        logits = tuple(rules.inpo(l, q, eta, t, r)
                       for l, q, r in zip(state.logits, qs, state.ref_logits))
        return state._replace(logits=logits, step=state.step + 1)

    return maybe_polish(Solver(_init_regularized(scale), update, _policy, name="inpo"), polish)


def nash_md(lr=1.0, tau=0.1, scale="game", polish=False) -> Solver:
    """Nash-MD with a fixed reference (Munos et al. 2024, Sec. 5): the mirror step starts from
    the geometric mixture ``pi^(1-lr tau) pi_ref^(lr tau)`` and uses the payoff against the
    opponents' mixture policies. Needs ``lr * tau <= 1`` (a dimensionless product)."""
    lr, tau, scale = as_schedule(lr, "lr"), as_schedule(tau, "tau"), check_scale(scale)

    def update(game, state):
        eta, t = lr(state.step) / state.scale, tau(state.step) * state.scale
        mixtures = tuple(rules.geometric_mixture(l, r, eta * t)
                         for l, r in zip(state.logits, state.ref_logits))
        qs = game.gradients(probabilities(mixtures))
        logits = tuple(rules.nash_md(l, q, eta, t, r)
                       for l, q, r in zip(state.logits, qs, state.ref_logits))
        return state._replace(logits=logits, step=state.step + 1)

    solver = Solver(_init_regularized(scale), update, _policy, name="nash_md")
    return maybe_polish(solver, polish)


def check_inner_steps(value):
    """COMAL's ``inner_steps``: ``"tolerance"`` (solve each regularised game to the tolerance)
    or a positive integer (a fixed number of inner steps per reference)."""
    if isinstance(value, str) and value.strip().lower() == "tolerance":
        return "tolerance"
    if isinstance(value, str) and value.strip().lower() == "adaptive":
        raise ValueError(
            "inner_steps='adaptive' (reset on the step residual) is MPO's rule; COMAL moves "
            "its reference when the regularised game is solved: use inner_steps='tolerance' "
            "(with inner_rtol / inner_tol), a positive integer, or the mpo solver.")
    if value is None or (not isinstance(value, (bool, str)) and value == 0):
        raise ValueError(f"inner_steps must be 'tolerance' or a positive integer; got "
                         f"{value!r}.")
    return check_count(value, "inner_steps")


def _regularized_gaps(policies, qs, temp, ref_logits):
    """``(gap, gap_at_self)``: the NashConv of the game regularised by ``temp KL(. || ref)`` at
    ``policies`` (:func:`gametheory.metrics.regularized_gap`), and that of the game regularised
    around ``policies`` themselves (the KL term vanishes), from one set of payoff gradients."""
    gap = at_self = 0.0
    for p, q, r in zip(policies, qs, ref_logits):
        log_p = jnp.log(jnp.clip(p, 1e-300))
        value = jnp.sum(p * q, axis=-1)
        kl = jnp.sum(jnp.where(p > 0, p * (log_p - r), 0.0), axis=-1)
        gap = gap + temp * rules.logsumexp(r + q / temp, keepdims=False) - value + temp * kl
        at_self = at_self + temp * rules.logsumexp(
            jnp.where(p > 0, log_p, -jnp.inf) + q / temp, keepdims=False) - value
    return gap, at_self


def comal(lr=1.0, tau=0.003, inner_steps="tolerance", inner="extragradient", inner_rtol=0.1,
          inner_tol=0.0, scale="game", polish=True) -> Solver:
    """COMAL (Liu et al. 2024, "COMAL: a convergent meta-algorithm for aligning LLMs with
    general preferences", Alg. 1): the conceptual proximal-point method, each regularised game
    solved to a tolerance.

    Outer iteration k solves the game regularised by ``tau KL(. || pi_k)`` with an inner no-regret
    solver, then sets ``pi_{k+1}`` to the inner last iterate. The inner solver is INPO
    (``inner="inpo"``, Alg. 2), INPO in mirror-prox form (``inner="extragradient"``, see
    :func:`gametheory.solvers.mmd.magnetic_step`; much faster on ill-conditioned games) or MWU on
    the regularised payoff ``q - tau (log pi - log pi_k)`` (``inner="mwu"``).

    ``inner_steps="tolerance"`` (default): the reference moves when the NashConv of the
    regularised game (:func:`gametheory.metrics.regularized_gap`, zero exactly at its
    equilibrium; one extra gradient per step) is at most ``max(inner_rtol * G_k, inner_tol * S)``,
    ``G_k`` that NashConv at ``pi_k`` itself (the start of the inner loop), so the tolerance
    falls as the outer iteration converges: an inexact proximal-point iteration with relative
    errors (Rockafellar 1976, "Monotone operators and the proximal point algorithm", SIAM J.
    Control Optim.), whose last iterate converges to a Nash equilibrium (Thm. 1 of the paper).
    ``inner_steps=K``: exactly ``K`` inner steps per reference, or fewer once that NashConv is
    below ``inner_tol * S`` (if ``inner_tol > 0``).

    MPO (:func:`gametheory.solvers.mmd.mpo`) takes the same inner step but resets its magnet on
    measured progress of the step residual (:mod:`.restarts`); COMAL moves its reference only
    when the regularised game is solved to the tolerance. ``lr``, ``tau`` and ``inner_tol`` are
    relative to the payoff scale ``S`` (module docstring).
    """
    lr, tau, scale = as_schedule(lr, "lr"), as_schedule(tau, "tau"), check_scale(scale)
    inner_steps = check_inner_steps(inner_steps)
    inner_rtol = check_nonnegative(inner_rtol, "inner_rtol")
    if inner_rtol >= 1:
        raise ValueError(f"inner_rtol must be in [0, 1) (the fraction of the gap at the "
                         f"reference the inner loop must reach); got {inner_rtol!r}.")
    inner_tol = check_nonnegative(inner_tol, "inner_tol")
    if inner_steps == "tolerance" and not (inner_rtol or inner_tol):
        raise ValueError("inner_steps='tolerance' needs inner_rtol > 0 or inner_tol > 0, "
                         "or the reference never moves.")
    if inner not in ("inpo", "mwu", "extragradient"):
        raise ValueError(f"inner must be 'inpo', 'mwu' or 'extragradient'; got {inner!r}.")
    measure = inner_steps == "tolerance" or inner_tol > 0

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        zero = jnp.zeros((), jnp.int32)
        s = measured_scale(scale, game)
        policies = probabilities(logits)
        _, start = _regularized_gaps(policies, game.gradients(policies), tau(0) * s[..., 0],
                                     logits)
        return ComalState(logits, logits, s, start, zero, zero, zero)

    def update(game, state):
        eta, t = lr(state.step) / state.scale, tau(state.step) * state.scale
        if inner == "mwu":
            qs = game.gradients(probabilities(state.logits))
            logits = tuple(rules.mwu(l, rules.regularized_payoff(l, q, t, r), eta)
                           for l, q, r in zip(state.logits, qs, state.ref_logits))
        else:  # INPO = the MMD step with magnet pi_k and temperature tau
            logits = magnetic_step(game, state.logits, state.ref_logits, eta, t,
                                   inner == "extragradient")
        inner_step = state.inner_step + 1
        start_gap = state.start_gap
        if measure:
            policies = probabilities(logits)
            gap, at_self = _regularized_gaps(policies, game.gradients(policies), t[..., 0],
                                             state.ref_logits)
            floor = inner_tol * state.scale[..., 0]
        if inner_steps == "tolerance":
            advance = gap <= jnp.maximum(inner_rtol * start_gap, floor)
            start_gap = jnp.where(advance, at_self, start_gap)
        else:
            advance = inner_step >= inner_steps
            if inner_tol:
                advance = advance | (gap <= floor)
        refs = tuple(jnp.where(advance[..., None], l, r)
                     for l, r in zip(logits, state.ref_logits))
        return ComalState(
            logits,
            refs,
            state.scale,
            start_gap,
            jnp.where(advance, 0, inner_step),
            state.outer_step + advance.astype(jnp.int32),
            state.step + 1,
        )

    return maybe_polish(Solver(init, update, _policy, name="comal"), polish)
