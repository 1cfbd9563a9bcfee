"""Parameterised policies that the gradient oracle trains: ``ParamPolicy(init, apply, name)``.

``init(key) -> params`` (a tuple of arrays) and ``apply(params) -> strategy``: the player's
mixed strategy (normal form) or realization plan (extensive form), differentiable in
``params``. Two families:

* :func:`tabular_policy`: one logit per action (normal form) or per infoset and action
  (extensive form; a masked softmax per infoset, then the top-down sweep
  :func:`gametheory.efg.treeplex.top_down` to the realization plan). Zero logits = uniform.
* :func:`mlp_policy`: an MLP from OpenSpiel's information-state tensor of each infoset to the
  logits of the game's distinct actions (extensive form only). Hidden layers are He-initialised
  from the key; the output layer starts at zero, so a fresh MLP plays uniformly too.

Averaging the parameters of tabular policies averages their *logits*: the result plays, at
every infoset, the normalised geometric mean ``prod_i b_i(a)^{w_i}`` of the policies, not the
mixture ``sum_i w_i b_i`` (which in the sequence form is ``sum_i w_i x_i`` on realization plans).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .games import NORMAL_FORM, PSROGame

__all__ = ["ParamPolicy", "tabular_policy", "mlp_policy", "make_param_policy"]


class ParamPolicy(NamedTuple):
    init: Callable  # key -> params (tuple of arrays)
    apply: Callable  # params -> strategy [n] (mixed strategy or realization plan)
    name: str


def _masked_softmax(logits, mask):
    z = jnp.where(mask, logits, -jnp.inf)
    z = z - jnp.max(z, axis=-1, keepdims=True)
    e = jnp.where(mask, jnp.exp(z), 0.0)
    return e / jnp.sum(e, axis=-1, keepdims=True)


def _plan_of_logits(tp, logits):
    from ..efg.treeplex import top_down

    return top_down(tp, _masked_softmax(logits, tp.mask))


def tabular_policy(space: PSROGame, player: int) -> ParamPolicy:
    """One logit per action (normal form) or per (infoset, action slot) (extensive form)."""
    dtype = jnp.asarray(0.0).dtype
    if space.kind == NORMAL_FORM:
        n = space.sizes[player]

        def init(key):
            return (jnp.zeros((n,), dtype),)

        def apply(params):
            return jax.nn.softmax(params[0])

        return ParamPolicy(init, apply, "tabular")
    tp = space.game.treeplexes[player]

    def init_efg(key):
        return (jnp.zeros(tp.mask.shape, dtype),)

    def apply_efg(params):
        return _plan_of_logits(tp, params[0])

    return ParamPolicy(init_efg, apply_efg, "tabular")


def mlp_policy(space: PSROGame, player: int, hidden=(64,), features=None) -> ParamPolicy:
    """An MLP over OpenSpiel's information-state tensor (ReLU hidden layers ``hidden``).

    ``features``: the ``[I, d]`` feature rows of the player's infosets (default:
    :func:`gametheory.psro.features.information_state_features`).
    """
    if space.kind == NORMAL_FORM:
        raise ValueError("the MLP policy reads OpenSpiel information-state tensors; a "
                         "normal-form game has none. Use policy='tabular'.")
    hidden = tuple(int(h) for h in hidden)
    if any(h < 1 for h in hidden):
        raise ValueError(f"hidden layer sizes must be positive integers; got {hidden}.")
    if features is None:
        from .features import information_state_features

        features = information_state_features(space.game)[player]
    tp = space.game.treeplexes[player]
    dtype = jnp.asarray(0.0).dtype
    feats = jnp.asarray(np.asarray(features, np.float64), dtype)
    if feats.shape[0] != tp.num_infosets:
        raise ValueError(f"features have {feats.shape[0]} rows; player {player} has "
                         f"{tp.num_infosets} infosets.")
    actions = np.asarray(space.game.info.actions[player])
    width = int(actions.max()) + 1
    slots = jnp.asarray(np.maximum(actions, 0))
    sizes = (feats.shape[1],) + hidden + (width,)

    def init(key):
        params = []
        keys = jax.random.split(key, len(sizes) - 1)
        for i, (k, fan_in, fan_out) in enumerate(zip(keys, sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            scale = 0.0 if last else np.sqrt(2.0 / fan_in)  # He init; zero output layer
            params += [scale * jax.random.normal(k, (fan_in, fan_out), dtype),
                       jnp.zeros((fan_out,), dtype)]
        return tuple(params)

    def apply(params):
        h = feats
        n_layers = len(params) // 2
        for i in range(n_layers):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < n_layers - 1:
                h = jax.nn.relu(h)
        logits = jnp.take_along_axis(h, slots, axis=1)
        return _plan_of_logits(tp, logits)

    return ParamPolicy(init, apply, "mlp")


def make_param_policy(space: PSROGame, player: int, kind: str = "tabular",
                      **kwargs) -> ParamPolicy:
    """``kind``: ``"tabular"`` or ``"mlp"`` (keyword arguments go to :func:`mlp_policy`)."""
    if kind == "tabular":
        if kwargs:
            raise ValueError(f"the tabular policy takes no options; got {sorted(kwargs)}.")
        return tabular_policy(space, player)
    if kind == "mlp":
        return mlp_policy(space, player, **kwargs)
    raise ValueError(f"unknown policy {kind!r}; choose 'tabular' or 'mlp'.")
