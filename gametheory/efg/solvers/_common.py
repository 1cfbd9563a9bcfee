"""Shared pieces of the sequence-form solvers: log-policy state, validated initial policies.

Log-policies are per-sequence vectors ``[S]`` (:mod:`gametheory.efg.sequence_sweeps`; slot 0,
the empty sequence, holds 0)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..policies import check_plans, plans_to_behavioural, uniform_behavioural
from ..sequence_sweeps import to_sequences, top_down_seq

_TINY = 1e-300


def masked_log(tp, b):
    """``log b`` on legal slots (floored), ``-inf`` on padded slots."""
    tiny = jnp.finfo(b.dtype).tiny if jnp.issubdtype(b.dtype, jnp.floating) else _TINY
    return jnp.where(tp.mask, jnp.log(jnp.maximum(b, tiny)), -jnp.inf)


def initial_behavioural(game, initial=None) -> tuple:
    """Behavioural policies to start from: uniform, or those of the given realization plans."""
    dtype = game.payoff_values.dtype
    if initial is None:
        return tuple(b.astype(dtype) for b in uniform_behavioural(game))
    if len(initial) != 2:
        raise ValueError(f"initial: expected 2 realization plans, got {len(initial)}.")
    initial = tuple(jnp.asarray(x, dtype) for x in initial)
    if not any(isinstance(x, jax.core.Tracer) for x in initial):
        check_plans(game, tuple(np.asarray(x) for x in initial))
    return plans_to_behavioural(game, initial)


def initial_logits(game, initial=None) -> tuple:
    """Per-sequence log-policies ``[S]`` to start from (uniform or the given plans')."""
    b = initial_behavioural(game, initial)
    return tuple(to_sequences(tp, masked_log(tp, p)) for tp, p in zip(game.treeplexes, b))


def plans_of_logits(game, logits) -> tuple:
    return tuple(top_down_seq(tp, jnp.exp(l)) for tp, l in zip(game.treeplexes, logits))


def entropy_magnet(game) -> tuple:
    """Log-magnet ``0`` on every sequence: the dilated *entropy* regulariser (rho = 1)."""
    dtype = game.payoff_values.dtype
    return tuple(jnp.zeros(tp.num_sequences, dtype) for tp in game.treeplexes)
