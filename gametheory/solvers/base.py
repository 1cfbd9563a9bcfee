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

# The parameter checks live in .params; solver modules import them from here too.
from .params import as_schedule, check_count, check_flag, check_nonnegative  # noqa: F401

__all__ = ["Solver", "as_schedule", "check_initial", "initial_logits", "probabilities",
           "vmap_leading"]


class Solver(NamedTuple):
    init: Callable[..., Any]  # (game, initial=None) -> state
    update: Callable[[Any, Any], Any]  # (game, state) -> state
    policy: Callable[[Any, Any], tuple]  # (game, state) -> last-iterate policies
    average: Callable[[Any, Any], tuple] | None = None  # (game, state) -> own average, if any
    name: str = "solver"
    polish: Callable[[Any, Any], Any] | None = None  # (game, state) -> state, at record points


def vmap_leading(fn, count: int):
    """``fn`` mapped with ``jax.vmap`` over ``count`` leading axes of all its arguments (a
    solver written for one game then also takes batches of games)."""
    for _ in range(count):
        fn = jax.vmap(fn)
    return fn


def check_initial(game, initial):
    """Validate initial policies before a run; return them unchanged (``None`` = uniform).

    Normal-form games: one probability vector per player (leading batch axes allowed) of the
    right length, finite, non-negative and summing to 1. Games with their own notion of a
    profile (sequence-form realization plans) check it with ``game.check_policies``. Traced
    values (inside ``jit``) cannot be inspected and pass through.
    Raises ``ValueError`` naming the player and the problem.
    """
    if initial is None:
        return None
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(initial)):
        return initial
    own_check = getattr(game, "check_policies", None)
    if own_check is not None:
        own_check(initial)
        return initial
    if not isinstance(initial, (tuple, list)) or len(initial) != game.num_players:
        count = len(initial) if isinstance(initial, (tuple, list)) else type(initial).__name__
        raise ValueError(
            f"initial policies: expected a tuple of {game.num_players} probability vectors "
            f"(one per player); got {count}."
        )
    for i, (p, n) in enumerate(zip(initial, game.num_actions)):
        _check_probability_vector(p, n, f"initial policy of player {i}")
    return initial


def _check_probability_vector(p, n: int, what: str) -> None:
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a vector of {n} numbers; got {p!r}.") from None
    if arr.ndim == 0 or arr.shape[-1] != n:
        have = arr.shape[-1] if arr.ndim else 1
        raise ValueError(f"{what} has {have} entries; it needs {n} (one per action).")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{what} is not a probability vector: it has a non-finite entry (NaN or inf)."
        )
    if np.any(arr < 0):
        raise ValueError(
            f"{what} is not a probability vector: it has a negative entry ({arr.min():.6g}); "
            "probabilities must be >= 0."
        )
    sums = arr.sum(axis=-1)
    if not np.allclose(sums, 1.0, rtol=0.0, atol=1e-6):
        worst = float(np.ravel(sums)[np.argmax(np.abs(np.ravel(sums) - 1.0))])
        raise ValueError(
            f"{what} is not a probability vector: it sums to {worst:.6g}, not 1; divide it by "
            "its sum first."
        )


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
            _check_probability_vector(p, n, f"initial policy of player {i}")
        out.append(jnp.log(p))
    return tuple(out)


def probabilities(logits) -> tuple:
    return tuple(jnp.exp(l) for l in logits)
