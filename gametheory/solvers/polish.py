"""Certified polish: an exact equilibrium from an approximate one, accepted only if verified.

A two-player zero-sum game's equilibrium is determined by its supports: if the row player mixes
over ``I`` and the column player over ``J`` with ``|I| = |J| = k``, the strategies solve the
*equalising* linear systems (every action in the opponent's support earns the game value)

    sum_j A[i, j] y_j = v  (i in I),   y_j = 0 (j not in J),   sum_j y_j = 1,
    sum_i A[i, j] x_i = v  (j in J),   x_i = 0 (i not in I),   sum_i x_i = 1

(the support-enumeration characterisation; e.g. Nisan et al. 2007, "Algorithmic Game Theory",
Sec. 3.3). :func:`polish_profile` guesses the supports from an iterate by complementary
slackness -- row ``i`` is kept when ``x_i > (max_a (A y)_a - (A y)_i) / S``, i.e. when its
probability outweighs its payoff deficit in units of the payoff scale ``S`` -- ranks the actions
by that margin, solves the two ``(n+1)`` / ``(m+1)`` systems for the top-``k`` supports with ``k``
taken from either player's guess, and returns the better candidate **only if its full NashConv
is at most the tolerance and below the iterate's**; otherwise the iterate comes back unchanged.
Everything has a fixed size and masks, so it runs under ``jit`` and ``vmap``. Degenerate games
(supports of unequal size, singular systems) simply fail the certificate and fall back.

:func:`with_polish` attaches it to any normal-form solver as the ``Solver.polish`` hook, which
the driver calls at records (:func:`gametheory.solve`) and at convergence checks no more often
than every :func:`polish_period` steps (:func:`gametheory.solve_until`: one polish costs a few
``(n+1)^3`` linear solves).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ..games.normal_form import MatrixGame
from .base import Solver
from .params import check_flag

__all__ = ["PolishedState", "polish_profile", "with_polish", "maybe_polish", "polish_period",
           "POLISH_TOL"]

#: NashConv a polished profile must reach, relative to the game's payoff scale.
POLISH_TOL = 1e-9


class PolishedState(NamedTuple):
    inner: Any  # the wrapped solver's state, iterated as if there were no polish
    best: tuple  # certified profile (meaningful where ``certified``)
    certified: jnp.ndarray  # [] bool


def _ranks(score):
    """0 for the largest entry, 1 for the next, ... (ties broken by index)."""
    return jnp.argsort(jnp.argsort(-score, axis=-1, stable=True), axis=-1, stable=True)


def _equalise_system(a, order_own, order_opp, k, size):
    """The linear system for the opponent's strategy that equalises ``a``'s rows
    ``order_own[:k]`` over the support ``order_opp[:k]``: ``[a[order_own[r]], -1] . (y, v) = 0``
    for ``r < k``, ``y[order_opp[r]] = 0`` for ``r >= k`` and ``sum y = 1``. Padded with an
    identity block to ``size >= n + 1`` so that systems of both players stack; the first ``n``
    entries of the solution are ``y``."""
    m, n = a.shape
    r = jnp.arange(n)
    own = order_own[jnp.minimum(r, m - 1)]
    equalise = jnp.concatenate([a[own], -jnp.ones((n, 1), a.dtype)], axis=1)
    zero = jax.nn.one_hot(order_opp, n + 1, dtype=a.dtype)
    rows = jnp.where((r < k)[:, None], equalise, zero)
    total = jnp.concatenate([jnp.ones((1, n), a.dtype), jnp.zeros((1, 1), a.dtype)], axis=1)
    system = jnp.concatenate([rows, total], axis=0)
    pad = size - (n + 1)
    system = jnp.block([
        [system, jnp.zeros((n + 1, pad), a.dtype)],
        [jnp.zeros((pad, n + 1), a.dtype), jnp.eye(pad, dtype=a.dtype)],
    ])
    rhs = jnp.zeros((size,), a.dtype).at[n].set(1.0)
    return system, rhs


def _simplex(p):
    p = jnp.where(jnp.isfinite(p), jnp.maximum(p, 0.0), 0.0)
    total = jnp.sum(p)
    return jnp.where(total > 0, p / jnp.where(total > 0, total, 1.0), jnp.nan)


def _nash_conv(a, x, y):
    value = jnp.max(a @ y) - jnp.min(x @ a)
    return jnp.where(jnp.isfinite(value), value, jnp.inf)


@jax.custom_batching.custom_vmap
def _solve_one(mat, rhs):
    """``mat^-1 rhs`` for one square system, batched as a sequential loop of single solves.

    XLA's CPU LAPACK kernels spread a *batch* of factorisations over the intra-op thread pool
    and block a pool thread until the pieces finish; two such kernels at once (two programs
    run from two Python threads, or two solves in one program) can occupy every thread of a
    small pool and wait on each other forever. A single system is factorised inline, so
    mapping over the batch one system at a time cannot deadlock."""
    return jnp.linalg.solve(mat, rhs[:, None])[:, 0]


@_solve_one.def_vmap
def _solve_one_batched(axis_size, in_batched, mat, rhs):
    """On CPU a ``lax.map`` of single solves (see :func:`_solve_one`); on accelerators one
    batched factorisation, which runs the systems in parallel (cuSOLVER's batched LU) instead
    of one kernel after another."""
    mat, rhs = (v if batched else jnp.broadcast_to(v, (axis_size,) + v.shape)
                for v, batched in zip((mat, rhs), in_batched))
    sequential = lambda mat, rhs: jax.lax.map(lambda args: _solve_one(*args), (mat, rhs))
    batched = lambda mat, rhs: jnp.linalg.solve(mat, rhs[..., None])[..., 0]
    return jax.lax.platform_dependent(mat, rhs, cpu=sequential, default=batched), True


def _polish_one(a, x, y, scale):
    """Unbatched polish of one ``[m, n]`` game; returns ``(x, y, nash_conv)`` of the best
    candidate (not yet compared with the tolerance)."""
    m, n = a.shape
    ay, xa = a @ y, x @ a
    score_x = x - (jnp.max(ay) - ay) / scale
    score_y = y - (xa - jnp.min(xa)) / scale
    order_x = jnp.argsort(_ranks(score_x))
    order_y = jnp.argsort(_ranks(score_y))
    kx, ky = jnp.sum(score_x > 0), jnp.sum(score_y > 0)
    guesses = [jnp.clip(g, 1, min(m, n)) for g in (kx, ky, jnp.maximum(kx, ky) + 1)]
    size = max(m, n) + 1
    systems = [_equalise_system(a, order_x, order_y, k, size) for k in guesses]
    systems += [_equalise_system(a.T, order_y, order_x, k, size) for k in guesses]
    solutions = jax.vmap(_solve_one)(jnp.stack([mat for mat, _ in systems]),
                                     jnp.stack([rhs for _, rhs in systems]))
    best = (x, y, jnp.asarray(jnp.inf, a.dtype))
    for g in range(len(guesses)):
        yy = _simplex(solutions[g, :n])
        xx = _simplex(solutions[len(guesses) + g, :m])
        nc = _nash_conv(a, xx, yy)
        better = nc < best[2]
        best = (jnp.where(better, xx, best[0]), jnp.where(better, yy, best[1]),
                jnp.where(better, nc, best[2]))
    return best


def polish_profile(game, policies, tol):
    """Try to turn ``policies`` into an exact equilibrium of the zero-sum matrix ``game``.

    Returns ``(policies, certified)``: the polished profile and ``True`` where its NashConv is
    ``<= tol`` and below that of ``policies``; the input profile and ``False`` elsewhere.
    Batch axes of the game and the policies are mapped over. ``tol`` is absolute (NashConv, not
    NashConv / 2).
    """
    if not isinstance(game, MatrixGame):
        raise ValueError(
            "polish needs a two-player zero-sum matrix game (MatrixGame or PreferenceGame); "
            f"got {type(game).__name__}."
        )
    a = jnp.asarray(game.matrix)
    x, y = (jnp.asarray(p, a.dtype) for p in policies)
    scale = game.payoff_scale()
    fn = _polish_one
    for _ in range(a.ndim - 2):
        fn = jax.vmap(fn)
    xx, yy, nc = fn(a, x, y, scale)
    current = game.nash_conv((x, y))
    ok = (nc <= tol) & (nc < current)
    keep = lambda new, old: jnp.where(ok[..., None], new, old)
    return (keep(xx, x), keep(yy, y)), ok


def polish_period(game, check_every: int) -> int:
    """Updates between two polish attempts: the multiple of ``check_every`` that is at least the
    polish's cost in solver steps.

    A polish factorises six ``s x s`` systems, ``s = max(m, n) + 1`` (about ``4 s^3`` flops);
    a step costs two matrix-vector products (about ``4 m n`` flops). At ``s^3 / (m n)`` steps
    between attempts the polish is at most about half the work: every 100 steps for a 50x50
    game, every ~1000 for a 1000x1000 one, where polishing at every check (50 steps) had cost
    0.18 s per attempt, 20 times the steps in between. Games that are not matrix games are not
    polished: ``check_every``."""
    if not isinstance(game, MatrixGame):
        return int(check_every)
    m, n = (int(d) for d in jnp.shape(game.matrix)[-2:])
    cost = (max(m, n) + 1) ** 3 / (m * n)
    return int(check_every) * max(1, int(-(-cost // check_every)))


def with_polish(solver: Solver, tol: float = POLISH_TOL) -> Solver:
    """``solver`` with a ``polish`` hook (see the module docstring).

    The inner iteration is unchanged; once a polished profile is certified (NashConv
    ``<= tol * S`` for the game's payoff scale ``S``) the solver's policy is that profile from
    then on. Games that are not two-player zero-sum matrix games are left unpolished.
    """

    def init(game, initial=None):
        inner = solver.init(game, initial)
        best = tuple(jnp.zeros_like(p) for p in solver.policy(game, inner))
        return PolishedState(inner, best, jnp.zeros(best[0].shape[:-1], bool))

    def update(game, state):
        return state._replace(inner=solver.update(game, state.inner))

    def policy(game, state):
        inner = solver.policy(game, state.inner)
        return tuple(jnp.where(state.certified[..., None], b, p)
                     for b, p in zip(state.best, inner))

    def polish(game, state):
        if not isinstance(game, MatrixGame):
            return state
        current = policy(game, state)
        limit = tol * game.payoff_scale()
        polished, ok = polish_profile(game, current, limit)
        ok = ok & ~state.certified
        best = tuple(jnp.where(ok[..., None], p, b) for p, b in zip(polished, state.best))
        return PolishedState(state.inner, best, state.certified | ok)

    average = None
    if solver.average is not None:
        average = lambda game, state: solver.average(game, state.inner)
    return Solver(init, update, policy, average, name=solver.name, polish=polish)


def maybe_polish(solver: Solver, polish) -> Solver:
    """``with_polish(solver)`` if the switch ``polish`` is on (true/false, yes/no, 1/0)."""
    return with_polish(solver) if check_flag(polish, "polish") else solver
