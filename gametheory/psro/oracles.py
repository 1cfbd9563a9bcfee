"""Best-response oracles: ``Oracle(respond, scratch, name, trains, config)``.

``respond(game, player, opponent, params, key) -> (strategy, params)`` returns a new policy
of ``player`` against the opponent's (mixed) strategy ``opponent``: its strategy vector (mixed
strategy or realization plan, float64 NumPy) and its parameters (``None`` when it has none).
``params`` is the starting point an :mod:`~gametheory.psro.initializers` initialiser chose;
oracles with ``trains=False`` ignore it. ``scratch(game, player, key)`` gives fresh parameters
(``None`` for parameter-free oracles) and ``play(game, player, params)`` the strategy that
parameters play (``None`` for parameter-free oracles).

* :func:`exact`: an exact pure best response: ``argmax`` of ``A y`` in a matrix game, one
  bottom-up ``max`` sweep over the treeplex in the sequence form
  (:func:`gametheory.efg.metrics.best_responses`).
* :func:`gradient`: an *approximate* best response: a parameterised policy
  (:mod:`~gametheory.psro.param_policies`) trained by gradient ascent with optax for a fixed
  number of steps on its exact expected payoff ``<strategy(theta), q>``, where ``q`` is the
  player's payoff per action/sequence against the opponent's strategy (``A y`` or ``-A^T x``).
  The payoff is linear in the strategy, so the gradient is exact, with no sampling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .games import PSROGame
from .param_policies import make_param_policy

__all__ = ["Oracle", "exact", "gradient", "make_oracle", "ORACLES"]


class Oracle(NamedTuple):
    respond: Callable[..., tuple]  # (game, player, opponent, params, key) -> (strategy, params)
    scratch: Callable[..., Any]  # (game, player, key) -> params | None
    name: str
    trains: bool  # True: consumes the initial parameters chosen by an initialiser
    config: dict = {}
    play: Callable[..., Any] | None = None  # (game, player, params) -> strategy of params


def exact() -> Oracle:
    """Exact pure best response (ties broken towards the lowest action index / slot)."""

    def respond(game: PSROGame, player, opponent, params=None, key=None):
        return game.best_response(player, opponent), None

    return Oracle(respond, lambda game, player, key=None: None, "exact", False, {})


def _check_count(value, name) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def gradient(steps: int = 100, lr: float = 0.1, policy: str = "tabular", hidden=(64,),
             optimizer=None) -> Oracle:
    """Approximate best response: ``steps`` optax updates (default ``optax.adam(lr)``) of a
    ``policy`` (``"tabular"`` logits or an ``"mlp"`` over OpenSpiel's information-state tensor
    with ReLU layers ``hidden``) maximising its exact expected payoff against the opponent.

    One compiled training program per game and player (``jax.lax.scan`` over the steps).
    """
    import optax

    steps = _check_count(steps, "steps")
    lr = float(lr)
    if not lr > 0 or not np.isfinite(lr):
        raise ValueError(f"lr must be a finite positive number; got {lr!r}.")
    if policy not in ("tabular", "mlp"):
        raise ValueError(f"unknown policy {policy!r}; choose 'tabular' or 'mlp'.")
    hidden = tuple(int(h) for h in hidden)
    opt = optimizer if optimizer is not None else optax.adam(lr)
    cache: dict = {}

    def _bound(game: PSROGame, player: int):
        entry = cache.get((id(game), player))
        if entry is not None and entry[0] is game:
            return entry[1:]
        kwargs = {"hidden": hidden} if policy == "mlp" else {}
        net = make_param_policy(game, player, policy, **kwargs)

        def train(params, q):
            def loss(p):
                return -jnp.dot(net.apply(p), q)

            def step(carry, _):
                p, state = carry
                grads = jax.grad(loss)(p)
                updates, state = opt.update(grads, state, p)
                return (optax.apply_updates(p, updates), state), None

            (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), None, length=steps)
            return params, net.apply(params)

        entry = (game, net, jax.jit(train), jax.jit(net.apply))
        cache[(id(game), player)] = entry
        return entry[1:]

    def scratch(game: PSROGame, player, key):
        net, _, _ = _bound(game, player)
        return tuple(np.asarray(p) for p in net.init(key))

    def respond(game: PSROGame, player, opponent, params, key=None):
        _, trainer, _ = _bound(game, player)
        if params is None:
            params = scratch(game, player, key if key is not None else jax.random.PRNGKey(0))
        q = jnp.asarray(game.utility(player, opponent))
        params, strategy = trainer(tuple(jnp.asarray(p) for p in params), q)
        return (np.asarray(strategy, np.float64), tuple(np.asarray(p) for p in params))

    def play(game: PSROGame, player, params):
        _, _, apply = _bound(game, player)
        return np.asarray(apply(tuple(jnp.asarray(p) for p in params)), np.float64)

    config = {"steps": steps, "lr": lr, "policy": policy,
              "optimizer": "adam" if optimizer is None else "custom"}
    if policy == "mlp":
        config["hidden"] = list(hidden)
    return Oracle(respond, scratch, "gradient", True, config, play)


#: Oracles by name (the command line's ``--oracle``).
ORACLES = {"exact": exact, "gradient": gradient}


def make_oracle(name: str | Oracle, **params) -> Oracle:
    """An oracle by name (``exact`` or ``gradient``; ``params`` go to its factory)."""
    if isinstance(name, Oracle):
        return name
    if name not in ORACLES:
        raise ValueError(f"unknown oracle {name!r}; choose one of {', '.join(ORACLES)}.")
    try:
        return ORACLES[name](**params)
    except TypeError as err:
        raise ValueError(f"bad parameter for oracle {name!r}: {err}") from None
