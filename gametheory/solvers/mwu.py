"""Multiplicative weights (Hedge), optimistic MWU and extragradient (mirror prox)."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import rules
from .base import Solver, as_schedule, initial_logits, probabilities

__all__ = ["mwu", "omwu", "extragradient", "LogitState", "OptimisticState"]


class LogitState(NamedTuple):
    logits: tuple  # per player [..., A_i] normalised log-policy
    step: jnp.ndarray  # [] int32


class OptimisticState(NamedTuple):
    logits: tuple
    prev_gradients: tuple  # q_{t-1} per player
    step: jnp.ndarray


def _logit_policy(game, state) -> tuple:
    return probabilities(state.logits)


def mwu(lr=0.1) -> Solver:
    """Simultaneous multiplicative weights / Hedge, the SPPO rule: ``pi' ∝ pi exp(lr q)``.

    Its *average* iterate converges to a Nash equilibrium of a zero-sum game at rate
    O(1/sqrt(T)) (Freund & Schapire 1999); its last iterate cycles or diverges from the interior
    (Bailey & Piliouras 2018).
    """
    lr = as_schedule(lr, "lr")

    def init(game, initial=None):
        return LogitState(initial_logits(game, initial), jnp.zeros((), jnp.int32))

    def update(game, state):
        qs = game.gradients(probabilities(state.logits))
        eta = lr(state.step)
        logits = tuple(rules.mwu(l, q, eta) for l, q in zip(state.logits, qs))
        return LogitState(logits, state.step + 1)

    return Solver(init, update, _logit_policy, name="mwu")


def omwu(lr=0.1) -> Solver:
    """Optimistic MWU (Daskalakis & Panageas 2019): ``pi' ∝ pi exp(lr (2 q_t - q_{t-1}))``;
    its last iterate converges in zero-sum games with a unique equilibrium."""
    lr = as_schedule(lr, "lr")

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        return OptimisticState(logits, game.gradients(probabilities(logits)),
                               jnp.zeros((), jnp.int32))

    def update(game, state):
        qs = game.gradients(probabilities(state.logits))
        eta = lr(state.step)
        logits = tuple(
            rules.optimistic_mwu(l, q, qp, eta)
            for l, q, qp in zip(state.logits, qs, state.prev_gradients)
        )
        return OptimisticState(logits, qs, state.step + 1)

    return Solver(init, update, _logit_policy, name="omwu")


def extragradient(lr=0.1) -> Solver:
    """Mirror prox / extragradient with entropy (Nemirovski 2004, eq. (3.1)): a look-ahead MWU
    step to ``pi_half``, then the real step from ``pi`` with the gradient at ``pi_half``."""
    lr = as_schedule(lr, "lr")

    def init(game, initial=None):
        return LogitState(initial_logits(game, initial), jnp.zeros((), jnp.int32))

    def update(game, state):
        eta = lr(state.step)
        qs = game.gradients(probabilities(state.logits))
        half = tuple(rules.mwu(l, q, eta) for l, q in zip(state.logits, qs))
        qs_half = game.gradients(probabilities(half))
        logits = tuple(rules.mwu(l, q, eta) for l, q in zip(state.logits, qs_half))
        return LogitState(logits, state.step + 1)

    return Solver(init, update, _logit_policy, name="extragradient")
