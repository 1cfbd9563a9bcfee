"""Where an approximate best response starts: ``Initializer(init, name, config)``.

``init(ctx) -> params`` receives an :class:`InitContext` (the player's population parameters,
its meta-strategy, the member it added last, fresh parameters on demand and a PRNG key) and
returns the parameters the oracle trains from. Only oracles with ``trains=True`` (the gradient
oracle) use them; with an exact oracle every initialiser gives the same run.

* :func:`scratch`: fresh parameters (:meth:`Oracle.scratch`).
* :func:`inherit`: the parameters of the player's last best response (under PSRO-rN: of the
  support member being rectified).
* :func:`noisy`: OpenSpiel's noisy copy: a population member drawn with its meta-strategy
  probability (``psro_v2``'s default ``probabilistic`` selector), every weight multiplied by
  ``1 + sigma * eps``, ``eps ~ N(0, 1)`` (OpenSpiel ``policy_gradient.copy_with_noise``).
* :func:`fusion`: Fusion-PSRO's Nash policy fusion (Lian et al. 2024, arXiv 2405.21027): the
  average of the parameters of the ``top_k`` members with the largest meta-Nash probability,
  weighted by those probabilities renormalised over the chosen members. For logits this is a
  *geometric* mixture of the chosen policies (``prod_i b_i^{w_i}``, renormalised per infoset),
  not the meta-mixture ``sum_i w_i x_i`` that the members play together.

Members without parameters (e.g. a pure initial strategy) are skipped by ``inherit``, ``noisy``
and ``fusion``; when no member qualifies they fall back to fresh parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["InitContext", "Initializer", "scratch", "inherit", "noisy", "fusion",
           "make_initializer", "INITIALIZERS"]


class InitContext(NamedTuple):
    player: int
    params: list  # params of every member of the player's population (None: no params)
    meta_strategy: np.ndarray  # [k] the player's meta-strategy over its population
    last: int | None  # index of the player's last best response, if any
    anchor: int | None  # PSRO-rN: index of the support member being rectified, else None
    fresh: Callable[[Any], tuple]  # key -> fresh parameters
    key: Any  # PRNG key for this initialisation


class Initializer(NamedTuple):
    init: Callable[[InitContext], tuple]
    name: str
    config: dict = {}


def scratch() -> Initializer:
    """Fresh parameters every time."""
    return Initializer(lambda ctx: ctx.fresh(ctx.key), "scratch", {})


def _own(ctx: InitContext) -> int | None:
    """The member to copy: the rectified anchor, else the last best response with params."""
    for index in (ctx.anchor, ctx.last):
        if index is not None and ctx.params[index] is not None:
            return index
    return None


def inherit() -> Initializer:
    """The parameters of the player's last best response (fresh if it has none)."""

    def init(ctx: InitContext):
        index = _own(ctx)
        return ctx.fresh(ctx.key) if index is None else ctx.params[index]

    return Initializer(init, "inherit", {})


def _check_fraction(value, name):
    value = float(value)
    if not value >= 0 or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return value


def noisy(sigma: float = 0.1) -> Initializer:
    """A member drawn with its meta-strategy probability (the rectified anchor under PSRO-rN),
    weights multiplied by ``1 + sigma * N(0, 1)`` (OpenSpiel's noisy copy)."""
    sigma = _check_fraction(sigma, "sigma")

    def init(ctx: InitContext):
        # A NumPy generator seeded by the (saved) PRNG key: reproducible on resume, and no
        # per-shape JAX compilation for the noise.
        rng = np.random.default_rng([int(v) for v in np.asarray(ctx.key).ravel()])
        candidates = [i for i, p in enumerate(ctx.params) if p is not None]
        if ctx.anchor is not None and ctx.params[ctx.anchor] is not None:
            index = ctx.anchor
        elif candidates:
            weights = np.asarray(ctx.meta_strategy, np.float64)[candidates]
            if weights.sum() > 0:
                index = candidates[int(rng.choice(len(candidates), p=weights / weights.sum()))]
            else:
                index = candidates[int(rng.integers(len(candidates)))]
        else:
            return ctx.fresh(ctx.key)
        return tuple(np.asarray(p) * (1.0 + sigma * rng.standard_normal(np.shape(p)))
                     for p in ctx.params[index])

    return Initializer(init, "noisy", {"sigma": sigma})


def fusion(top_k: int | None = 3) -> Initializer:
    """Nash policy fusion: ``theta = sum_i w_i theta_i`` over the ``top_k`` members with the
    largest meta-strategy probability (all support members when ``top_k=None``), ``w``
    proportional to those probabilities. Fresh parameters if no support member has any."""
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None; got {top_k!r}.")

    def init(ctx: InitContext):
        sigma = np.asarray(ctx.meta_strategy, np.float64)
        members = [i for i, p in enumerate(ctx.params) if p is not None and sigma[i] > 0]
        if not members:
            return ctx.fresh(ctx.key)
        members.sort(key=lambda i: (-sigma[i], i))
        members = members[: top_k or len(members)]
        weights = sigma[members] / sigma[members].sum()
        leaves = zip(*(ctx.params[i] for i in members))
        return tuple(sum(w * np.asarray(p) for w, p in zip(weights, leaf)) for leaf in leaves)

    return Initializer(init, "fusion", {"top_k": top_k})


#: Initialisers by name (the command line's ``--init``).
INITIALIZERS = {"scratch": scratch, "inherit": inherit, "noisy": noisy, "fusion": fusion}


def make_initializer(name: str | Initializer, **params) -> Initializer:
    """An initialiser by name (``scratch``, ``inherit``, ``noisy``, ``fusion``)."""
    if isinstance(name, Initializer):
        return name
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initialisation {name!r}; choose one of "
                         f"{', '.join(INITIALIZERS)}.")
    try:
        return INITIALIZERS[name](**params)
    except TypeError as err:
        raise ValueError(f"bad parameter for initialisation {name!r}: {err}") from None
