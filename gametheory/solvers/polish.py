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
by that margin, and for the top-``k`` supports (``k`` from either player's guess, or one more)
and for the ``min(k_x, k_y)`` actions of smallest payoff deficit factorises the bordered
``(k+1) x (k+1)`` matrix of both systems once (:func:`_equalise_system`: one LU gives ``y``
and, transposed, ``x``). It returns the best candidate **only if its full
NashConv is at most the tolerance and below the iterate's**; otherwise the iterate comes back
unchanged. On CPU each system is factorised at the smallest of a few bucket sizes that holds
it (one system after another: batched LAPACK calls from two threads can deadlock XLA's pool);
on GPUs and TPUs all systems go to one batched factorisation at the full size.
Everything has a fixed size and masks, so it runs under ``jit`` and ``vmap``. Identical rows
(columns) enter a guess only as their first copy, carrying the probability of all copies, so
duplicated strategies do not make the systems singular. Other degenerate games (supports of
unequal size, singular systems) simply fail the certificate and fall back.

:func:`with_polish` attaches it to any normal-form solver as the ``Solver.polish`` hook, which
the driver calls at records (:func:`gametheory.solve`) and at convergence checks no more often
than every :func:`polish_period` steps (:func:`gametheory.solve_until`: one polish costs four
factorisations of up to ``min(m, n) + 1`` rows).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ..games.normal_form import MatrixGame
from .base import Solver, vmap_leading
from .params import check_flag

__all__ = ["PolishedState", "polish_profile", "with_polish", "maybe_polish", "polish_period",
           "POLISH_TOL"]

#: NashConv a polished profile must reach, relative to the game's payoff scale.
POLISH_TOL = 1e-9


class PolishedState(NamedTuple):
    inner: Any  # the wrapped solver's state, iterated as if there were no polish
    best: tuple  # certified profile (meaningful where ``certified``)
    certified: jnp.ndarray  # [] bool


def _equalise_system(a, rows, cols, k, size):
    """The bordered matrix of the support pair ``I = rows[:k]``, ``J = cols[:k]``,

        M = [[A[I, J], -1], [1^T, 0]]   (size k + 1, padded with an identity to ``size``),

    whose solves give both players' equalising strategies: ``M (y_J, v) = e`` (``y`` makes the
    rows ``I`` earn ``v``, ``sum y = 1``) and ``M^T (x_I, -v) = -e`` (``x`` makes the columns
    ``J`` cost ``v``, ``sum x = 1``), with ``e`` the last unit vector. The padding rows and
    columns ``k <= r < size - 1`` are the identity, so their entries of both solutions are 0.
    Needs ``k < size <= min(m, n) + 1``."""
    r = jnp.arange(size - 1)
    inside = (r[:, None] < k) & (r[None, :] < k)
    block = jnp.where(inside, a[rows[: size - 1]][:, cols[: size - 1]],
                      jnp.eye(size - 1, dtype=a.dtype) * (r[:, None] >= k))
    border_col = jnp.where(r < k, -1.0, 0.0).astype(a.dtype)
    border_row = jnp.where(r < k, 1.0, 0.0).astype(a.dtype)
    return jnp.block([[block, border_col[:, None]],
                      [border_row[None, :], jnp.zeros((1, 1), a.dtype)]])


def _simplex(p):
    p = jnp.where(jnp.isfinite(p), jnp.maximum(p, 0.0), 0.0)
    total = jnp.sum(p)
    return jnp.where(total > 0, p / jnp.where(total > 0, total, 1.0), jnp.nan)


def _nash_conv(a, x, y):
    value = jnp.max(a @ y) - jnp.min(x @ a)
    return jnp.where(jnp.isfinite(value), value, jnp.inf)


def _support_solutions(a, rows, cols, k, size):
    """Both equalising solutions of the support pair (:func:`_equalise_system` of ``size``),
    from one LU factorisation, as ``(y, x)`` entries over ``rows[:s]`` / ``cols[:s]`` for
    ``s = min(m, n)`` (zero past ``k``)."""
    mat = _equalise_system(a, rows, cols, k, size)
    e = jnp.zeros(size, a.dtype).at[-1].set(1.0)
    lu = jax.scipy.linalg.lu_factor(mat)
    pad = (0, min(a.shape) + 1 - size)
    return (jnp.pad(jax.scipy.linalg.lu_solve(lu, e)[:-1], pad),
            jnp.pad(jax.scipy.linalg.lu_solve(lu, -e, trans=1)[:-1], pad))


def _bucket_sizes(support: int) -> list[int]:
    """System sizes for supports up to ``support`` actions: 8, 16, 32, ... and ``support``
    itself, each plus the border. Doubling keeps the branches (one compiled factorisation
    each) few: finer steps (x1.5) were no faster on 50x50 games and took 5.4 s instead of
    3.7 s to compile for a 1000x1000 one."""
    sizes, size = [], 8
    while size < support:
        sizes.append(size)
        size *= 2
    return [s + 1 for s in sizes + [support]]


def _bucketed(a, rows, cols, k):
    """:func:`_support_solutions` at the smallest bucket size that holds ``k`` (a factorisation
    costs ``size^3``, and supports are often much smaller than the game)."""
    sizes = _bucket_sizes(min(a.shape))
    index = sum((k + 1 > size).astype(jnp.int32) for size in sizes[:-1])  # first size >= k + 1
    branches = [lambda a, rows, cols, k, size=size: _support_solutions(a, rows, cols, k, size)
                for size in sizes]
    return jax.lax.switch(index, branches, a, rows, cols, k)


def _full(a, rows, cols, k):
    return _support_solutions(a, rows, cols, k, min(a.shape) + 1)


@jax.custom_batching.custom_vmap
def _solve_support(a, rows, cols, k):
    """:func:`_support_solutions` of one support pair: on CPU at its bucket's size, batched as
    a sequential loop.

    XLA's CPU LAPACK kernels spread a *batch* of factorisations over the intra-op thread pool
    and block a pool thread until the pieces finish; two such kernels at once (two programs
    run from two Python threads, or two solves in one program) can occupy every thread of a
    small pool and wait on each other forever. A single system is factorised inline, so
    mapping over the batch one system at a time cannot deadlock, and each system can take its
    own size."""
    return jax.lax.platform_dependent(a, rows, cols, k, cpu=_bucketed, default=_full)


@_solve_support.def_vmap
def _solve_support_batched(axis_size, in_batched, *args):
    """On CPU a ``lax.map`` of single systems (see :func:`_solve_support`); on accelerators one
    batched factorisation at the full size, which runs the systems in parallel (cuSOLVER's
    batched LU) instead of one kernel after another."""
    args = tuple(v if batched else jnp.broadcast_to(v, (axis_size,) + jnp.shape(v))
                 for v, batched in zip(args, in_batched))
    sequential = lambda *args: jax.lax.map(lambda one: _solve_support(*one), args)
    return jax.lax.platform_dependent(*args, cpu=sequential, default=jax.vmap(_full)), \
        (True, True)


def _copies(fingerprint):
    """For actions with fingerprints ``[k]``: ``same [k, k]`` (equal fingerprints) and
    ``later [k]`` (an earlier action has the same one)."""
    same = fingerprint[:, None] == fingerprint[None, :]
    return same, jnp.any(jnp.tril(same, -1), axis=1)


def _polish_one(a, x, y, scale):
    """Unbatched polish of one ``[m, n]`` game; returns ``(x, y, nash_conv)`` of the best
    candidate (not yet compared with the tolerance)."""
    m, n = a.shape
    ay, xa = a @ y, x @ a
    deficit_x, deficit_y = jnp.max(ay) - ay, xa - jnp.min(xa)  # payoff left on the table
    # Identical rows (columns) make every support holding two of them singular: only the first
    # copy may enter a support, with the probability of all copies (identical payoffs give
    # identical fingerprints; a rare collision only loses a guess, never the certificate).
    same_x, later_x = _copies(a @ jnp.cos(1.618 * jnp.arange(n, dtype=a.dtype)))
    same_y, later_y = _copies(jnp.cos(2.718 * jnp.arange(m, dtype=a.dtype)) @ a)
    score_x = jnp.where(later_x, -jnp.inf, same_x @ x - deficit_x / scale)
    score_y = jnp.where(later_y, -jnp.inf, same_y @ y - deficit_y / scale)
    deficit_x = jnp.where(later_x, jnp.inf, deficit_x)
    deficit_y = jnp.where(later_y, jnp.inf, deficit_y)
    by_score = (jnp.argsort(-score_x, stable=True), jnp.argsort(-score_y, stable=True))
    by_deficit = (jnp.argsort(deficit_x, stable=True), jnp.argsort(deficit_y, stable=True))
    kx, ky = jnp.sum(score_x > 0), jnp.sum(score_y > 0)
    # Candidates (order, k): the top-k by margin for either player's count or one more, and
    # the k = min(kx, ky) smallest deficits. The last one matters for entropic iterates of
    # nearly degenerate games: an off-support action whose deficit at the equilibrium is tiny
    # (3e-5 of the payoff range) keeps more probability than the smallest support member for
    # tens of thousands of steps, so it outranks that member by margin but not by deficit.
    candidates = [(by_score, kx), (by_score, ky), (by_score, jnp.maximum(kx, ky) + 1),
                  (by_deficit, jnp.minimum(kx, ky))]
    orders_x, orders_y = (jnp.stack([c[0][p] for c in candidates]) for p in (0, 1))
    guesses = jnp.stack([jnp.clip(c[1], 1, min(m, n)) for c in candidates])
    support = min(m, n)  # the padded support: the first `support` actions in each order
    col_solutions, row_solutions = jax.vmap(_solve_support, in_axes=(None, 0, 0, 0))(
        a, orders_x, orders_y, guesses)
    best = (x, y, jnp.asarray(jnp.inf, a.dtype))
    for g in range(len(candidates)):
        yy = _simplex(jnp.zeros(n, a.dtype).at[orders_y[g, :support]].set(
            col_solutions[g, :support]))
        xx = _simplex(jnp.zeros(m, a.dtype).at[orders_x[g, :support]].set(
            row_solutions[g, :support]))
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
    xx, yy, nc = vmap_leading(_polish_one, a.ndim - 2)(a, x, y, scale)
    current = game.nash_conv((x, y))
    ok = (nc <= tol) & (nc < current)
    keep = lambda new, old: jnp.where(ok[..., None], new, old)
    return (keep(xx, x), keep(yy, y)), ok


def polish_period(game, check_every: int) -> int:
    """Updates between two polish attempts: the multiple of ``check_every`` that is at least the
    polish's cost in solver steps.

    A polish factorises four ``s x s`` systems, ``s = min(m, n) + 1`` at most (about
    ``2.7 s^3`` flops); a step costs two matrix-vector products (about ``4 m n`` flops). At
    ``s^3 / (m n)`` steps between attempts the polish is at most about 40% of the work:
    every 100 steps for a 50x50 game, every ~1000 for a 1000x1000 one, where polishing at every
    check (50 steps) had cost 0.18 s per attempt, 20 times the steps in between. Games that are
    not matrix games are not polished: ``check_every``."""
    if not isinstance(game, MatrixGame):
        return int(check_every)
    m, n = (int(d) for d in jnp.shape(game.matrix)[-2:])
    cost = (min(m, n) + 1) ** 3 / (m * n)
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
