"""COMAL / conceptual proximal point in the sequence form (Liu et al. 2024, "COMAL: a convergent
meta-algorithm for aligning LLMs with general preferences", Alg. 1).

Outer iteration ``k`` solves the regularised game

    max_x min_y  x^T A y - tau D(x || pi_k^x) + tau D(y || pi_k^y)

(``D`` the weighted dilated KL, :func:`gametheory.efg.metrics.dilated_kl`) with an inner
solver -- the dilated MMD step with magnet ``pi_k``, the sequence-form INPO step (Alg. 2), taken
in alternating form (:func:`.mmd.alternating_step`) -- *to a tolerance*: the inner loop stops
when the saddle-point gap of the regularised game
(:func:`gametheory.efg.metrics.regularized_gap_seq`, a certificate: zero exactly at its
equilibrium) is at most ``inner_rtol`` times that gap at the start of the inner loop (at
``pi_k`` itself). The reference then moves to the inner last iterate, ``pi_{k+1}``. Each outer
step is an inexact proximal-point step whose error shrinks with the distance to equilibrium, so
the last iterate converges to a Nash equilibrium (Rockafellar 1976, "Monotone operators and the
proximal point algorithm", SIAM J. Control Optim., Thm. 1 with relative errors).

This is what distinguishes COMAL from MPO (:func:`.mmd.mpo`), which runs the same inner step:
MPO resets its magnet on measured progress of the step residual ``||x' - x||_1`` (a heuristic
restart rule, :mod:`gametheory.solvers.restarts`); COMAL moves its reference only when the
regularised game is certified solved to the tolerance.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ...solvers.base import Solver, as_schedule, check_count, check_nonnegative
from ...solvers.params import check_flag
from ...solvers.regularized import check_inner_steps
from ...solvers.scale import check_scale
from ..metrics import regularized_gap_seq
from ._common import initial_logits, plans_of_logits
from .mmd import (
    _UNITS,
    StepControl,
    _check_weighting,
    check_log_floor,
    check_step_mode,
    control_step,
    game_scale,
    infoset_weights,
    init_step_control,
    magnetic_step,
    select,
)

__all__ = ["EFGComalState", "comal"]


class EFGComalState(NamedTuple):
    logits: tuple  # per player [S] behavioural log-policy per sequence
    ref_logits: tuple  # per player [S] log of the prox centre pi_k
    plans: tuple  # per player [S]
    prev_q: tuple  # per player [S] payoff gradients of the last step (alternating steps)
    scale: jnp.ndarray  # [] payoff scale S
    weights: tuple  # per player [I] weights of the dilated regulariser (infoset_weights)
    control: StepControl  # adaptive step size (factor 1 and unused otherwise)
    start_gap: jnp.ndarray  # [] regularised gap at pi_k (start of the inner loop)
    gap: jnp.ndarray  # [] regularised gap at the last check (inf before the first)
    inner_step: jnp.ndarray  # [] int32 inner steps since the reference moved
    outer_step: jnp.ndarray  # [] int32 reference moves so far
    step: jnp.ndarray  # [] int32


def comal(lr=3.0, tau=0.003, inner_steps="tolerance", inner_rtol=0.003, inner_tol=0.0,
          gap_every=10, weighting="adaptive", alternating=True, extragradient="auto",
          scale="game", log_floor=40.0, adaptive_lr=True) -> Solver:
    """COMAL with the dilated INPO/MMD inner solver run to a tolerance (module docstring).

    ``inner_steps="tolerance"`` (default): the reference moves when the regularised game's gap
    is at most ``max(inner_rtol * G_k, inner_tol * S)``, ``G_k`` the gap at the reference
    ``pi_k`` (the start of the inner loop), which shrinks as the outer iteration converges, so
    the tolerance falls with it (``S`` the payoff scale below; ``inner_tol=0`` by default).
    The gap costs one gradient and one soft best response per player, so it is measured every
    ``gap_every`` inner steps.
    ``inner_steps=K``: exactly ``K`` inner steps per reference, or fewer when ``inner_tol > 0``
    and the gap falls below ``inner_tol * S``. ``inner_rtol=0.003`` was chosen on Leduc poker:
    0.1 and 0.03 leave its last iterate at 4e-4 and 1.2e-4 after 10000 iterations, 0.003 and
    0.001 at 5e-5 and 6e-5; a larger ``tau`` (0.01, 0.03) is slower at every ``inner_rtol``.

    ``alternating=True`` (default): player 1 steps against player 0's new plan
    (:func:`.mmd.alternating_step`, one gradient per player); ``alternating=False``: mirror-prox
    steps (``extragradient="auto"`` or ``True``; :func:`.mmd.mirror_prox_step`) or, with
    ``extragradient=False``, the plain simultaneous MMD (INPO) step. ``weighting`` (the infoset
    weights of the regulariser, recomputed with each new reference), ``log_floor`` and
    ``adaptive_lr`` (the step shrinks when it fails its step condition): as in
    :func:`.mmd.mpo`.

    Defaults chosen on Kuhn, Leduc and liar's dice (1, 3); checked on goofspiel (4 cards) and
    dark hex 2x2 (``tests/efg/test_efg_defaults.py``)."""
    lr, tau = as_schedule(lr, "lr"), as_schedule(tau, "tau")
    scale = check_scale(scale)
    inner_steps = check_inner_steps(inner_steps)
    inner_rtol = check_nonnegative(inner_rtol, "inner_rtol")
    if inner_rtol >= 1:
        raise ValueError(f"inner_rtol must be in [0, 1) (the fraction of the gap at the "
                         f"reference the inner loop must reach); got {inner_rtol!r}.")
    inner_tol = check_nonnegative(inner_tol, "inner_tol")
    if inner_steps == "tolerance" and not (inner_rtol or inner_tol):
        raise ValueError("inner_steps='tolerance' needs inner_rtol > 0 or inner_tol > 0, "
                         "or the reference never moves.")
    gap_every = check_count(gap_every, "gap_every")
    log_floor = check_log_floor(log_floor)
    _check_weighting(weighting)
    mode = check_step_mode(alternating, extragradient)
    adaptive_lr = check_flag(adaptive_lr, "adaptive_lr") and mode != "plain"
    measure = inner_steps == "tolerance" or inner_tol > 0

    def reference_gap(game, plans, t, ref_logits, weights):
        return regularized_gap_seq(game, plans, t, ref_logits, weights)

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        zero = jnp.zeros((), jnp.int32)
        s = game_scale(game, scale)
        plans = plans_of_logits(game, logits)
        weights = infoset_weights(game, weighting, plans)
        inf = jnp.full((), jnp.inf, s.dtype)
        start = reference_gap(game, plans, tau(0) * s, logits, weights) if measure else inf
        return EFGComalState(logits, logits, plans, game.gradients(plans), s, weights,
                             init_step_control(s.dtype), start, inf, zero, zero, zero)

    def update(game, state):
        eta = lr(state.step) * state.control.factor / state.scale
        t = tau(state.step) * state.scale
        weights = state.weights
        logits, plans, qs, ratio = magnetic_step(
            game, state.logits, state.plans, eta, t, state.ref_logits, weights, state.prev_q,
            mode, log_floor)
        control = state.control
        if adaptive_lr:
            accept, control = control_step(control, ratio)
        inner_step = state.inner_step + 1
        gap = state.gap
        if measure:
            gap = jax.lax.cond(
                inner_step % gap_every == 0,
                lambda: reference_gap(game, plans, t, state.ref_logits, weights),
                lambda: gap)
        floor = inner_tol * state.scale
        if inner_steps == "tolerance":
            advance = gap <= jnp.maximum(inner_rtol * state.start_gap, floor)
        else:
            advance = inner_step >= inner_steps
            if inner_tol:
                advance = advance | (gap <= floor)
        ref_logits = tuple(jnp.where(advance, l, r) for l, r in zip(logits, state.ref_logits))
        if weighting == "adaptive":  # a new regulariser with each new reference
            weights = jax.lax.cond(advance, lambda: infoset_weights(game, weighting, plans),
                                   lambda: weights)
        start_gap, inf = state.start_gap, jnp.full((), jnp.inf, gap.dtype)
        if inner_steps == "tolerance":  # G_{k+1}: the new regularised game's gap at pi_{k+1}
            start_gap = jax.lax.cond(
                advance, lambda: reference_gap(game, plans, t, ref_logits, weights),
                lambda: start_gap)
        new = EFGComalState(logits, ref_logits, plans, qs, state.scale, weights, control,
                            start_gap, jnp.where(advance, inf, gap),
                            jnp.where(advance, 0, inner_step),
                            state.outer_step + advance.astype(jnp.int32), state.step + 1)
        if adaptive_lr:  # a rejected step leaves all but the step size as is
            new = select(accept, new, state._replace(control=control, step=state.step + 1))
        return new

    return Solver(init, update, lambda game, state: state.plans, name="comal")


comal.__doc__ += _UNITS
