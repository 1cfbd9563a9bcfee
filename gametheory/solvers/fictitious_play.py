"""Fictitious play (Brown 1951) and discrete-time replicator dynamics."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .base import Solver, as_schedule, initial_logits
from .polish import maybe_polish
from .scale import check_scale, measured_scale

__all__ = ["fictitious_play", "replicator", "FictitiousPlayState", "ReplicatorState"]


class FictitiousPlayState(NamedTuple):
    beliefs: tuple  # per player empirical average of play, incl. the initial policy
    last: tuple  # per player the best response played at the last step
    step: jnp.ndarray


class ReplicatorState(NamedTuple):
    policies: tuple
    scale: jnp.ndarray  # [..., 1] payoff scale S: the Euler step is dt / S
    step: jnp.ndarray


def fictitious_play(polish=False) -> Solver:
    """Simultaneous fictitious play: every player best-responds to the others' empirical
    averages, which are then updated ``b' = b + (br - b) / (t + 2)`` (the initial policy counts as
    the first play). The empirical average converges in zero-sum games (Robinson 1951) but can
    cycle in general-sum games (Shapley 1964); the last iterate is the pure best response."""

    def init(game, initial=None):
        pols = tuple(jnp.exp(l) for l in initial_logits(game, initial))
        return FictitiousPlayState(pols, pols, jnp.zeros((), jnp.int32))

    def update(game, state):
        qs = game.gradients(state.beliefs)
        brs = tuple(jax.nn.one_hot(jnp.argmax(q, axis=-1), q.shape[-1], dtype=q.dtype) for q in qs)
        weight = 1.0 / (state.step + 2.0)
        beliefs = tuple(b + weight * (br - b) for b, br in zip(state.beliefs, brs))
        return FictitiousPlayState(beliefs, brs, state.step + 1)

    solver = Solver(init, update, lambda game, state: state.last,
                    lambda game, state: state.beliefs, name="fictitious_play")
    return maybe_polish(solver, polish)


def replicator(dt=0.1, scale="game", polish=False) -> Solver:
    """Replicator dynamics ``dpi/dt = pi (q - <pi, q>)`` (Taylor & Jonker 1978), forward Euler
    with step ``dt / S`` for the payoff scale ``S`` measured at init (``scale=1.0``: absolute);
    mass that a large step would push below zero is clipped and renormalised."""
    dt, scale = as_schedule(dt, "dt"), check_scale(scale)

    def init(game, initial=None):
        return ReplicatorState(tuple(jnp.exp(l) for l in initial_logits(game, initial)),
                               measured_scale(scale, game), jnp.zeros((), jnp.int32))

    def update(game, state):
        qs = game.gradients(state.policies)
        h = dt(state.step) / state.scale
        pols = []
        for p, q in zip(state.policies, qs):
            p = jnp.maximum(p + h * p * (q - jnp.sum(p * q, axis=-1, keepdims=True)), 0.0)
            pols.append(p / jnp.sum(p, axis=-1, keepdims=True))
        return state._replace(policies=tuple(pols), step=state.step + 1)

    solver = Solver(init, update, lambda game, state: state.policies, name="replicator")
    return maybe_polish(solver, polish)
