"""Multiplicative weights (Hedge), optimistic MWU and extragradient (mirror prox).

``lr`` is relative to the payoff scale ``S`` that each solver measures at init
(:mod:`.scale`): the step is ``lr / S``; ``scale=1.0`` reads ``lr`` in absolute units.
``polish=True`` adds the certified support polish (:mod:`.polish`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import rules
from .base import Solver, as_schedule, initial_logits, probabilities
from .polish import maybe_polish
from .scale import check_scale, measured_scale

__all__ = ["mwu", "omwu", "extragradient", "LogitState", "OptimisticState"]


class LogitState(NamedTuple):
    logits: tuple  # per player [..., A_i] normalised log-policy
    scale: jnp.ndarray  # [..., 1] payoff scale S: the step is lr / S
    step: jnp.ndarray  # [] int32


class OptimisticState(NamedTuple):
    logits: tuple
    prev_gradients: tuple  # q_{t-1} per player
    scale: jnp.ndarray
    step: jnp.ndarray


def _logit_policy(game, state) -> tuple:
    return probabilities(state.logits)


def _init_logits(scale):
    def init(game, initial=None):
        return LogitState(initial_logits(game, initial), measured_scale(scale, game),
                          jnp.zeros((), jnp.int32))

    return init


def mwu(lr=0.1, scale="game", polish=False) -> Solver:
    """Simultaneous multiplicative weights / Hedge, the SPPO rule: ``pi' ∝ pi exp(lr q)``.

    Its *average* iterate converges to a Nash equilibrium of a zero-sum game at rate
    O(1/sqrt(T)) (Freund & Schapire 1999); its last iterate cycles or diverges from the interior
    (Bailey & Piliouras 2018).
    """
    lr, scale = as_schedule(lr, "lr"), check_scale(scale)

    def update(game, state):
        qs = game.gradients(probabilities(state.logits))
        eta = lr(state.step) / state.scale
        logits = tuple(rules.mwu(l, q, eta) for l, q in zip(state.logits, qs))
        return state._replace(logits=logits, step=state.step + 1)

    return maybe_polish(Solver(_init_logits(scale), update, _logit_policy, name="mwu"), polish)


def omwu(lr=0.1, scale="game", polish=False) -> Solver:
    """Optimistic MWU (Daskalakis & Panageas 2019): ``pi' ∝ pi exp(lr (2 q_t - q_{t-1}))``;
    its last iterate converges in zero-sum games with a unique equilibrium."""
    lr, scale = as_schedule(lr, "lr"), check_scale(scale)

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        return OptimisticState(logits, game.gradients(probabilities(logits)),
                               measured_scale(scale, game), jnp.zeros((), jnp.int32))

    def update(game, state):
        qs = game.gradients(probabilities(state.logits))
        eta = lr(state.step) / state.scale
        logits = tuple(
            rules.optimistic_mwu(l, q, qp, eta)
            for l, q, qp in zip(state.logits, qs, state.prev_gradients)
        )
        return state._replace(logits=logits, prev_gradients=qs, step=state.step + 1)

    return maybe_polish(Solver(init, update, _logit_policy, name="omwu"), polish)


def extragradient(lr=0.1, scale="game", polish=False) -> Solver:
    """Mirror prox / extragradient with entropy (Nemirovski 2004, eq. (3.1)): a look-ahead MWU
    step to ``pi_half``, then the real step from ``pi`` with the gradient at ``pi_half``."""
    lr, scale = as_schedule(lr, "lr"), check_scale(scale)

    def update(game, state):
        eta = lr(state.step) / state.scale
        qs = game.gradients(probabilities(state.logits))
        half = tuple(rules.mwu(l, q, eta) for l, q in zip(state.logits, qs))
        qs_half = game.gradients(probabilities(half))
        logits = tuple(rules.mwu(l, q, eta) for l, q in zip(state.logits, qs_half))
        return state._replace(logits=logits, step=state.step + 1)

    solver = Solver(_init_logits(scale), update, _logit_policy, name="extragradient")
    return maybe_polish(solver, polish)
