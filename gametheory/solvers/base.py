"""The solver protocol shared by every normal-form and extensive-form solver.

A solver is an optax-style pair of pure functions over a pytree state (plus a read-out):

    solver = gametheory.solvers.mmd(lr=0.1, temp=0.1)
    state = solver.init(game)                 # or solver.init(game, initial_policies)
    state = solver.update(game, state)        # one iteration; jit- and vmap-able
    policies = solver.policy(game, state)     # last iterate, one probability array per player

``policy`` returns the iterate in the space where averaging is meaningful (probability vectors
for normal-form games, realization plans for sequence-form games), so the driver can average it.
Solvers whose average is weighted (e.g. linear averaging in RM+/CFR+) provide ``average``.
Solvers built with ``polish=True`` provide ``polish`` (:mod:`.polish`), which the driver calls at
every record or convergence check to try an exact, certified equilibrium.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Solver", "as_schedule", "initial_logits", "probabilities"]


class Solver(NamedTuple):
    init: Callable[..., Any]  # (game, initial=None) -> state
    update: Callable[[Any, Any], Any]  # (game, state) -> state
    policy: Callable[[Any, Any], tuple]  # (game, state) -> last-iterate policies
    average: Callable[[Any, Any], tuple] | None = None  # (game, state) -> own average, if any
    name: str = "solver"
    polish: Callable[[Any, Any], Any] | None = None  # (game, state) -> state, at record points


def as_schedule(value, name: str) -> Callable:
    """Turn a constant or a callable ``step -> value`` into a callable; reject bad constants."""
    if callable(value):
        return value
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number or a callable of the step; got {value!r}."
        ) from None
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"{name} must be a finite positive number; got {value!r}.")
    return lambda step: value


def check_nonnegative(value, name: str) -> float:
    value = float(value)
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return value


def check_count(value, name: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return value


def initial_logits(game, initial=None) -> tuple:
    """Log-policies to start from: uniform, or the given probability vectors (validated)."""
    if initial is None:
        return tuple(jnp.log(p) for p in game.uniform_policies())
    if len(initial) != game.num_players:
        raise ValueError(
            f"initial policies: expected {game.num_players} (one per player), got {len(initial)}."
        )
    out = []
    for i, (p, n) in enumerate(zip(initial, game.num_actions)):
        p = jnp.asarray(p, dtype=jnp.result_type(float))
        if p.shape[-1] != n:
            raise ValueError(f"initial policy of player {i} has {p.shape[-1]} entries; need {n}.")
        if not isinstance(p, jax.core.Tracer):
            arr = np.asarray(p)
            if not np.all(np.isfinite(arr)) or np.any(arr < 0) or not np.allclose(arr.sum(-1), 1):
                raise ValueError(
                    f"initial policy of player {i} is not a probability vector (entries >= 0 "
                    "summing to 1); normalise it first."
                )
        out.append(jnp.log(p))
    return tuple(out)


def probabilities(logits) -> tuple:
    return tuple(jnp.exp(l) for l in logits)
