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

from ...solvers.base import Solver, as_schedule, check_count, check_nonnegative
from ...solvers.params import check_flag
from ..metrics import regularized_gap
from ._common import initial_logits, plans_of_logits
from .mmd import _check_weighting, infoset_weights, mirror_prox_step

__all__ = ["EFGComalState", "comal"]


class EFGComalState(NamedTuple):
    logits: tuple  # per player [I, A] behavioural log-policy
    ref_logits: tuple  # per player [I, A] log of the prox centre pi_k
    plans: tuple  # per player [S]
    inner_step: jnp.ndarray
    outer_step: jnp.ndarray
    step: jnp.ndarray


def comal(lr=1.5, tau=0.01, inner_steps=200, inner_tol=0.0, weighting="reach",
          extragradient=1) -> Solver:
    """COMAL with the dilated INPO/MMD inner solver (see the module docstring).

    ``extragradient=1`` (default): inner steps in mirror-prox form (:func:`.mmd.mirror_prox_step`),
    two gradient evaluations per iteration; ``0``: the plain MMD step."""
    lr, tau = as_schedule(lr, "lr"), as_schedule(tau, "tau")
    inner_steps = check_count(inner_steps, "inner_steps")
    inner_tol = check_nonnegative(inner_tol, "inner_tol")
    _check_weighting(weighting)
    extragradient = check_flag(extragradient, "extragradient")

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        zero = jnp.zeros((), jnp.int32)
        return EFGComalState(logits, logits, plans_of_logits(game, logits), zero, zero, zero)

    def update(game, state):
        eta, t = lr(state.step), tau(state.step)
        weights = infoset_weights(game, weighting)
        logits, plans, _ = mirror_prox_step(game, state.logits, state.plans, eta, t,
                                            state.ref_logits, weights,
                                            extragradient=extragradient)
        inner_step = state.inner_step + 1
        advance = inner_step >= inner_steps
        if inner_tol:
            refs = tuple(jnp.exp(r) for r in state.ref_logits)
            gap = regularized_gap(game, plans, t, refs, weights)
            advance = advance | (gap <= inner_tol)
        ref_logits = tuple(jnp.where(advance, l, r) for l, r in zip(logits, state.ref_logits))
        return EFGComalState(logits, ref_logits, plans, jnp.where(advance, 0, inner_step),
                             state.outer_step + advance.astype(jnp.int32), state.step + 1)

    return Solver(init, update, lambda game, state: state.plans, name="comal")
