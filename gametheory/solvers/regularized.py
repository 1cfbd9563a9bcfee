"""Solvers of the KL-regularised preference game: INPO, Nash-MD and the COMAL prox-point loop.

``lr`` and ``tau`` are relative to the payoff scale ``S`` measured at init (:mod:`.scale`): the
step is ``lr / S`` and the regularisation ``tau * S``; ``scale=1.0`` reads them in the absolute
units of the papers. ``polish=True`` adds the certified support polish (:mod:`.polish`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import metrics, rules
from .base import (
    Solver,
    as_schedule,
    check_nonnegative,
    initial_logits,
    probabilities,
)
from .mmd import _check_every, magnetic_step, step_residual
from .polish import maybe_polish
from .restarts import DEFAULT_THRESHOLDS, RestartState, check_thresholds, init_restart, restart_step
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
    restart: RestartState  # adaptive reference updates (unused otherwise)
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


def comal(lr=1.0, tau=0.003, inner_steps="adaptive", inner="extragradient", inner_tol=0.0,
          reset_thresholds=DEFAULT_THRESHOLDS, reset_periods=3.0, scale="game",
          polish=True) -> Solver:
    """COMAL (Liu et al. 2024, Alg. 1): the conceptual proximal-point method.

    Outer iteration k solves the game regularised by ``tau KL(. || pi_k)`` with an inner no-regret
    solver, then sets ``pi_{k+1}`` to the inner last iterate. The inner solver is INPO
    (``inner="inpo"``, Alg. 2), INPO in mirror-prox form (``inner="extragradient"``, see
    :func:`gametheory.solvers.mmd.magnetic_step`; much faster on ill-conditioned games) or MWU on
    the regularised payoff ``q - tau (log pi - log pi_k)`` (``inner="mwu"``).
    The reference moves after ``inner_steps`` steps, or (``"adaptive"``) when the inner step
    residual has fallen by the ``reset_thresholds`` (:mod:`.restarts`) and at least
    ``reset_periods / (lr * tau)`` inner steps were taken, or as soon as the NashConv
    of the regularised game drops below ``inner_tol`` (if > 0). The last iterate converges to a
    Nash equilibrium of the original game (Thm. 1). ``lr`` and ``tau`` are relative to the
    payoff scale (module docstring).
    """
    lr, tau, scale = as_schedule(lr, "lr"), as_schedule(tau, "tau"), check_scale(scale)
    inner_steps = _check_every(inner_steps, "inner_steps")
    if inner_steps is None:
        raise ValueError("inner_steps must be a positive integer or 'adaptive'; got None.")
    inner_tol = check_nonnegative(inner_tol, "inner_tol")
    thresholds = check_thresholds(reset_thresholds, "reset_thresholds")
    reset_periods = check_nonnegative(reset_periods, "reset_periods")
    if inner not in ("inpo", "mwu", "extragradient"):
        raise ValueError(f"inner must be 'inpo', 'mwu' or 'extragradient'; got {inner!r}.")

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        zero = jnp.zeros((), jnp.int32)
        s = measured_scale(scale, game)
        return ComalState(logits, logits, s, init_restart(s[..., 0]), zero, zero, zero)

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
        restart = state.restart
        if inner_steps == "adaptive":
            hold = reset_periods / (lr(state.step) * tau(state.step))
            advance, restart = restart_step(restart, step_residual(state.logits, logits),
                                            state.step + 1, thresholds, hold)
        else:
            advance = inner_step >= inner_steps
        if inner_tol:
            gap = metrics.regularized_gap(game, probabilities(logits), t[..., 0],
                                          probabilities(state.ref_logits))
            advance = advance | (gap <= inner_tol)
        refs = tuple(jnp.where(advance[..., None], l, r)
                     for l, r in zip(logits, state.ref_logits))
        return ComalState(
            logits,
            refs,
            state.scale,
            restart,
            jnp.where(advance, 0, inner_step),
            state.outer_step + advance.astype(jnp.int32),
            state.step + 1,
        )

    return maybe_polish(Solver(init, update, _policy, name="comal"), polish)
