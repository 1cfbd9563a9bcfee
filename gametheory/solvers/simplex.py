"""Euclidean projection onto the probability simplex: three exact methods, one per platform.

``proj(v) = max(v - t, 0)`` where the threshold ``t`` solves ``sum_i max(v_i - t, 0) = 1``.

* **Michelot** ("A finite algorithm for finding the projection of a point onto the canonical
  simplex of R^n", J. Optim. Theory Appl. 50, 1986), used on CPU: start from
  ``t = (sum v - 1) / n`` and repeat ``t <- (sum_{v_i > t} v_i - 1) / #{v_i > t}``; ``t`` only
  increases, the active set only shrinks, and it stops at the exact threshold after at most
  ``n`` rounds -- in practice a handful. It is Newton's method on the convex, decreasing,
  piecewise-linear ``f(t) = sum max(v - t, 0) - 1`` started left of the root, and needs only
  elementwise operations and sums, which XLA fuses well on CPU and under ``vmap`` (a sort-based
  projection was 4x slower there).
* **Pairwise**, used on GPUs and TPUs for vectors up to :data:`PAIRWISE_MAX` long: evaluate
  ``f`` at every entry at once (``n^2`` comparisons in one fused reduction, about the work of
  a matrix-vector product for a square game). Michelot's data-dependent ``while_loop`` makes
  the device report to the host after every round there (0.20 ms per projection of 1000
  entries on an H100, against 0.023 ms for the sort).
* **Sort** (Held, Wolfe and Crowder 1974; Duchi et al. 2008): the reference in tests, and the
  accelerator method for longer vectors.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["project_simplex", "project_simplex_michelot", "project_simplex_pairwise",
           "project_simplex_sort", "PAIRWISE_MAX"]


def _threshold(v, active):
    count = jnp.sum(active, axis=-1, keepdims=True)
    return (jnp.sum(jnp.where(active, v, 0.0), axis=-1, keepdims=True) - 1.0) / count


#: Longest vector that accelerators project by pairwise comparisons; longer ones are sorted.
PAIRWISE_MAX = 2048


def project_simplex(v):
    """Project ``[..., n]`` vectors onto the simplex ``{p >= 0, sum p = 1}``: Michelot's method
    on CPU, pairwise comparisons (or a sort, beyond :data:`PAIRWISE_MAX` entries) on GPUs and
    TPUs; all three give the same point up to rounding (see the module docstring)."""
    v = jnp.asarray(v)
    accelerated = (project_simplex_pairwise if v.shape[-1] <= PAIRWISE_MAX
                   else project_simplex_sort)
    return jax.lax.platform_dependent(v, cpu=project_simplex_michelot, default=accelerated)


def project_simplex_pairwise(v):
    """The projection from all pairwise comparisons: no sort and no loop.

    ``f(c) = sum_j max(v_j - c, 0)`` is below 1 exactly at the entries ``c`` above the
    threshold ``t``; the smallest of them marks the active set ``{v_j >= c}``, and
    ``t = (sum_{v_j >= c} v_j - 1) / #{v_j >= c}`` (the largest entry is always active:
    ``f(max v) = 0``). ``O(n^2)`` work, ``O(1)`` depth."""
    v = jnp.asarray(v)
    excess = jnp.sum(jnp.maximum(v[..., None, :] - v[..., :, None], 0.0), axis=-1)
    smallest_active = jnp.min(jnp.where(excess < 1.0, v, jnp.inf), axis=-1, keepdims=True)
    t = _threshold(v, v >= smallest_active)
    return jnp.maximum(v - t, 0.0)


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
