"""Regret matching+ (Tammelin 2014) for normal-form games."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .base import Solver, initial_logits
from .polish import maybe_polish

__all__ = ["rm_plus", "RMPlusState"]


class RMPlusState(NamedTuple):
    regrets: tuple  # per player [..., A_i] cumulative clipped regrets Q_t >= 0
    policies: tuple  # per player current strategy
    weighted_sum: tuple  # per player sum_t t * pi_t (linear averaging)
    step: jnp.ndarray


def _regret_matching(regrets, fallback):
    total = jnp.sum(regrets, axis=-1, keepdims=True)
    return jnp.where(total > 0, regrets / jnp.where(total > 0, total, 1.0), fallback)


def rm_plus(polish=False) -> Solver:
    """Simultaneous regret matching+ (Tammelin 2014; Farina et al. 2021, Alg. 1):
    ``Q' = max(Q + q - <pi, q>, 0)``, ``pi' = Q'+ / sum(Q'+)`` (the start policy if all zero).

    The average uses linear weights ``t`` (Tammelin et al. 2015), which is what the driver's
    average-iterate trace reports for this solver.
    """

    def init(game, initial=None):
        pols = tuple(jnp.exp(l) for l in initial_logits(game, initial))
        zeros = tuple(jnp.zeros_like(p) for p in pols)
        return RMPlusState(zeros, pols, zeros, jnp.zeros((), jnp.int32))

    def update(game, state):
        qs = game.gradients(state.policies)
        regrets = tuple(
            jnp.maximum(r + q - jnp.sum(p * q, axis=-1, keepdims=True), 0.0)
            for r, q, p in zip(state.regrets, qs, state.policies)
        )
        pols = tuple(_regret_matching(r, p) for r, p in zip(regrets, state.policies))
        step = state.step + 1
        sums = tuple(s + step * p for s, p in zip(state.weighted_sum, pols))
        return RMPlusState(regrets, pols, sums, step)

    def average(game, state):
        norm = jnp.maximum(state.step * (state.step + 1) / 2, 1)
        return tuple(s / norm for s in state.weighted_sum)

    solver = Solver(init, update, lambda game, state: state.policies, average, name="rm_plus")
    return maybe_polish(solver, polish)
