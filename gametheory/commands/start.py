"""Where a command-line run starts: uniform, or a seeded random profile.

Starting at an equilibrium shows nothing: the uniform profile is the Nash equilibrium of every
symmetric game such as rock-paper-scissors or Shapley's game, and a fixed point of MWU, the
replicator dynamics and MMD there, so a run from it reports 0 for a method that cycles. The
``auto`` start therefore draws a seeded random profile when the uniform one is an equilibrium,
and starts uniformly otherwise.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["uniform_is_equilibrium", "random_profile", "choose_start", "game_seed",
           "START_CHOICES"]

START_CHOICES = ("auto", "uniform", "random")


@jax.jit
def _uniform_exploitability(game):
    return game.exploitability(game.uniform_policies())


def uniform_is_equilibrium(game, rtol: float = 1e-9) -> bool:
    """Whether the uniform profile is a Nash equilibrium of ``game`` (exploitability at most
    ``rtol`` times the largest payoff). It then is a fixed point of MWU, the replicator
    dynamics and uniform-magnet MMD, whose updates all vanish when every action earns the same."""
    scale = float(jnp.max(jnp.abs(getattr(game, "payoff_values", None)
                                  if hasattr(game, "treeplexes") else game.payoffs)))
    return float(_uniform_exploitability(game)) <= rtol * max(scale, 1e-300)


def random_profile(game, seed: int) -> tuple:
    """A Dirichlet(1) profile drawn with NumPy's ``default_rng(seed)``: one probability vector
    per player, or for a sequence-form game the realization plans of Dirichlet(1) behavioural
    policies at every infoset."""
    rng = np.random.default_rng(seed)
    if not hasattr(game, "treeplexes"):
        return tuple(jnp.asarray(rng.dirichlet(np.ones(n))) for n in game.num_actions)
    from ..efg import behavioural_to_plans

    behavioural = []
    for tp in game.treeplexes:
        mask = np.asarray(tp.mask)
        draws = np.where(mask, rng.gamma(1.0, size=mask.shape) + 1e-30, 0.0)
        behavioural.append(jnp.asarray(draws / draws.sum(-1, keepdims=True),
                                       game.payoff_values.dtype))
    return behavioural_to_plans(game, tuple(behavioural))


def game_seed(game) -> int | None:
    """The seed a zoo game's payoffs were drawn with (``random_zero_sum:20x20:seed=3`` -> 3,
    ``random_zero_sum:20x20`` -> its default 0), ``None`` for a game drawn from no seed. It is
    not the seed of the initial profile (``--seed``)."""
    match = re.search(r":seed=(\d+)$", str(getattr(game, "name", "")))
    return int(match.group(1)) if match else None


def choose_start(game, choice: str, seed: int) -> tuple:
    """``(initial profile or None for uniform, used seed or None, reason)`` for ``--initial``.

    ``choice``: ``"uniform"``, ``"random"`` (seeded) or ``"auto"`` (random when the uniform
    profile is an equilibrium, see the module docstring)."""
    if choice not in START_CHOICES:
        raise ValueError(f"--initial must be one of {', '.join(START_CHOICES)}; got {choice!r}.")
    if choice == "uniform":
        return None, None, "uniform (asked for)"
    if choice == "random":
        return random_profile(game, seed), seed, f"random (seed {seed})"
    if uniform_is_equilibrium(game):
        return (random_profile(game, seed), seed,
                f"random (seed {seed}): the uniform profile is already an equilibrium of this "
                "game; --initial uniform starts there")
    return None, None, "uniform"
