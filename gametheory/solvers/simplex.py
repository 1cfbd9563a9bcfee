"""Euclidean projection onto the probability simplex without sorting (Michelot 1986).

``proj(v) = max(v - t, 0)`` where the threshold ``t`` solves ``sum_i max(v_i - t, 0) = 1``.
Michelot's method ("A finite algorithm for finding the projection of a point onto the canonical
simplex of R^n", J. Optim. Theory Appl. 50, 1986) starts from ``t = (sum v - 1) / n`` and
repeats ``t <- (sum_{v_i > t} v_i - 1) / #{v_i > t}``: ``t`` only increases, the active set only
shrinks, and it stops at the exact threshold after at most ``n`` rounds -- in practice a handful.
It is Newton's method on the convex, decreasing, piecewise-linear ``f(t) = sum max(v - t, 0) - 1``
started left of the root. Unlike the sort-based projection (Held et al. 1974; Duchi et al. 2008)
it needs only elementwise operations and sums, which XLA fuses well on CPU and under ``vmap``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["project_simplex", "project_simplex_michelot", "project_simplex_sort"]


def _threshold(v, active):
    count = jnp.sum(active, axis=-1, keepdims=True)
    return (jnp.sum(jnp.where(active, v, 0.0), axis=-1, keepdims=True) - 1.0) / count


def project_simplex(v):
    """Project ``[..., n]`` vectors onto the simplex ``{p >= 0, sum p = 1}``.

    Michelot's method on CPU; the sort-based projection (:func:`project_simplex_sort`, the same
    point to rounding) on GPUs and TPUs, where each round of Michelot's data-dependent
    ``while_loop`` waits for the device to report whether to go on: on an H100 that made a PDHG
    step on a 1000x1000 game cost ~0.33 ms, against a few microseconds for the sort."""
    v = jnp.asarray(v)
    return jax.lax.platform_dependent(v, cpu=project_simplex_michelot,
                                      default=project_simplex_sort)


def project_simplex_michelot(v):
    """Michelot's projection (see the module docstring): elementwise rounds, no sort."""
    v = jnp.asarray(v)
    n = v.shape[-1]
    t = (jnp.sum(v, axis=-1, keepdims=True) - 1.0) / n

    def cond(carry):
        t, t_prev, rounds = carry
        return jnp.any(t != t_prev) & (rounds < n)

    def body(carry):
        t, _, rounds = carry
        return _threshold(v, v > t), t, rounds + 1

    t, _, _ = jax.lax.while_loop(cond, body, (_threshold(v, v > t), t, 1))
    return jnp.maximum(v - t, 0.0)


def project_simplex_sort(v):
    """The sort-based projection (Held, Wolfe and Crowder 1974): the reference for tests."""
    v = jnp.asarray(v)
    n = v.shape[-1]
    u = -jnp.sort(-v, axis=-1)
    cumulative = jnp.cumsum(u, axis=-1) - 1.0
    k = jnp.arange(1, n + 1, dtype=v.dtype)
    rho = jnp.sum(u - cumulative / k > 0, axis=-1, keepdims=True)
    t = jnp.take_along_axis(cumulative, rho - 1, axis=-1) / rho
    return jnp.maximum(v - t, 0.0)
