"""COMAL / proximal point in the sequence form (Liu et al. 2024, Alg. 1).

Outer iteration ``k`` solves the game regularised by ``tau * D_{pi_k}`` (the dilated KL to the
reference ``pi_k``) with the INPO inner solver, which in the sequence form is the dilated MMD step
with magnet ``pi_k``; the reference then moves to the inner last iterate. It moves after
``inner_steps`` steps, or as soon as the regularised game's gap drops below ``inner_tol`` (if
> 0). The last iterate converges to a Nash equilibrium of the game.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from ...solvers.base import Solver, as_schedule, check_nonnegative
from ...solvers.params import check_flag
from ...solvers.restarts import (
    DEFAULT_THRESHOLDS,
    RestartState,
    check_thresholds,
    init_restart,
    restart_step,
)
from ...solvers.scale import check_scale
from ..metrics import regularized_gap
from ._common import initial_logits, plans_of_logits
from .mmd import (
    _UNITS,
    StepControl,
    _check_weighting,
    check_every,
    check_log_floor,
    control_step,
    game_scale,
    infoset_weights,
    init_step_control,
    mirror_prox_step,
    plan_residual,
    select,
)

__all__ = ["EFGComalState", "comal"]


class EFGComalState(NamedTuple):
    logits: tuple  # per player [I, A] behavioural log-policy
    ref_logits: tuple  # per player [I, A] log of the prox centre pi_k
    plans: tuple  # per player [S]
    scale: jnp.ndarray  # [] payoff scale S
    restart: RestartState  # adaptive reference updates (unused otherwise)
    weights: tuple  # per player [I] weights of the dilated regulariser (infoset_weights)
    control: StepControl  # adaptive step size (factor 1 and unused otherwise)
    inner_step: jnp.ndarray
    outer_step: jnp.ndarray
    step: jnp.ndarray


def comal(lr=3.0, tau=0.003, inner_steps="adaptive", inner_tol=0.0, weighting="adaptive",
          extragradient=True, scale="game", reset_thresholds=DEFAULT_THRESHOLDS,
          reset_periods=3.0, log_floor=40.0, adaptive_lr=True) -> Solver:
    """COMAL with the dilated INPO/MMD inner solver (see the module docstring).

    ``inner_steps``: a fixed number of inner steps per reference, or ``"adaptive"`` (default):
    the reference moves when the inner step residual ``||x' - x||_1`` has fallen by the
    ``reset_thresholds`` (:mod:`gametheory.solvers.restarts`), after at least
    ``reset_periods / (lr * tau)`` inner steps (see :func:`.mmd.mpo`).
    ``extragradient=True`` (default): inner steps in mirror-prox form
    (:func:`.mmd.mirror_prox_step`), two gradient evaluations per iteration; ``False``: the
    plain MMD step. ``weighting``,
    ``log_floor`` and ``adaptive_lr`` (the step shrinks when it fails the mirror-prox step
    condition): as in :func:`.mmd.mpo`."""
    lr, tau = as_schedule(lr, "lr"), as_schedule(tau, "tau")
    scale = check_scale(scale)
    thresholds = check_thresholds(reset_thresholds, "reset_thresholds")
    reset_periods = check_nonnegative(reset_periods, "reset_periods")
    inner_steps = check_every(inner_steps, "inner_steps")
    if inner_steps is None:
        raise ValueError("inner_steps must be a positive integer or 'adaptive'.")
    inner_tol = check_nonnegative(inner_tol, "inner_tol")
    log_floor = check_log_floor(log_floor)
    _check_weighting(weighting)
    extragradient = check_flag(extragradient, "extragradient")
    adaptive_lr = check_flag(adaptive_lr, "adaptive_lr") and extragradient

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        zero = jnp.zeros((), jnp.int32)
        s = game_scale(game, scale)
        plans = plans_of_logits(game, logits)
        return EFGComalState(logits, logits, plans, s, init_restart(s),
                             infoset_weights(game, weighting, plans), init_step_control(s.dtype),
                             zero, zero, zero)

    def update(game, state):
        eta = lr(state.step) * state.control.factor / state.scale
        t = tau(state.step) * state.scale
        weights = state.weights
        logits, plans, _, ratio = mirror_prox_step(
            game, state.logits, state.plans, eta, t, state.ref_logits, weights,
            extragradient=extragradient, log_floor=log_floor)
        control = state.control
        if adaptive_lr:
            accept, control = control_step(control, ratio)
        inner_step = state.inner_step + 1
        restart = state.restart
        if inner_steps == "adaptive":
            hold = reset_periods / (lr(state.step) * tau(state.step))
            advance, restart = restart_step(restart, plan_residual(state.plans, plans),
                                            state.step + 1, thresholds, hold)
        else:
            advance = inner_step >= inner_steps
        if inner_tol:
            refs = tuple(jnp.exp(r) for r in state.ref_logits)
            gap = regularized_gap(game, plans, t, refs, weights)
            advance = advance | (gap <= inner_tol)
        ref_logits = tuple(jnp.where(advance, l, r) for l, r in zip(logits, state.ref_logits))
        if weighting == "adaptive":  # a new regulariser with each new reference
            weights = tuple(jnp.where(advance, w, v) for w, v in
                            zip(infoset_weights(game, weighting, plans), weights))
        new = EFGComalState(logits, ref_logits, plans, state.scale, restart, weights, control,
                            jnp.where(advance, 0, inner_step),
                            state.outer_step + advance.astype(jnp.int32), state.step + 1)
        if adaptive_lr:  # a rejected step leaves all but the step size as is
            new = select(accept, new, state._replace(control=control, step=state.step + 1))
        return new

    return Solver(init, update, lambda game, state: state.plans, name="comal")


comal.__doc__ += _UNITS
