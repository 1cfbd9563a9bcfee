"""Meta-solvers: a meta-game payoff matrix in, one meta-strategy per population out.

A meta-solver is a small protocol, ``MetaSolver(solve, name)`` with
``solve(M) -> (sigma_row, sigma_col)`` where ``M [k0, k1]`` holds the row population's payoffs
(the column population receives ``-M``). Provided:

* :func:`nash`: an exact Nash equilibrium of the meta-game by linear programming (scipy HiGHS,
  :func:`gametheory.lp.solve_zero_sum`); PSRO with it is the double oracle of McMahan et al.
  (2003) when the oracle is exact.
* :func:`uniform`: the uniform distribution (PSRO becomes fictitious self-play; Lanctot et al.
  2017, Sec. 3).
* :func:`prd`: projected replicator dynamics (Lanctot et al. 2017, Sec. 3.1; OpenSpiel
  ``projected_replicator_dynamics``): Euler steps of the replicator dynamics projected onto the
  simplex with every probability ``>= gamma``; returns the average of all iterates.
* :func:`regret_matching`: regret matching (Hart & Mas-Colell 2000; OpenSpiel
  ``regret_matching``), average strategy.
* :func:`registered`: any normal-form solver of the :mod:`gametheory.solvers` registry (``mpo``,
  ``mmd``, ``rm_plus``, ...), run on the meta-game through :func:`gametheory.driver.solve` with
  the registry's own defaults; the last or average iterate, whichever has lower meta-game
  exploitability.

:func:`make_meta_solver` builds any of them by name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..lp import solve_zero_sum

__all__ = [
    "MetaSolver",
    "nash",
    "uniform",
    "prd",
    "regret_matching",
    "registered",
    "make_meta_solver",
    "META_SOLVERS",
    "meta_solver_names",
]


class MetaSolver(NamedTuple):
    """``solve(M [k0, k1]) -> (sigma_row [k0], sigma_col [k1])``; the row maximises ``M``."""

    solve: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    name: str
    config: dict = {}


def _simplex_point(p) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 0.0, None)
    total = p.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("meta-solver returned no probability mass; the meta-game may hold "
                         "non-finite payoffs.")
    return p / total


def _check_matrix(m) -> np.ndarray:
    m = np.asarray(m, np.float64)
    if m.ndim != 2 or 0 in m.shape or not np.all(np.isfinite(m)):
        raise ValueError(f"a meta-game must be a finite, non-empty 2-D matrix; got shape "
                         f"{m.shape}.")
    return m


def nash() -> MetaSolver:
    """Exact meta-Nash equilibrium by one HiGHS LP (row strategy from the primal, column
    strategy from the duals; :func:`gametheory.lp.solve_zero_sum`)."""

    def solve(m):
        sol = solve_zero_sum(_check_matrix(m))
        return _simplex_point(sol.row), _simplex_point(sol.col)

    return MetaSolver(solve, "nash")


def uniform() -> MetaSolver:
    """The uniform meta-strategy over each population (fictitious self-play)."""

    def solve(m):
        k0, k1 = _check_matrix(m).shape
        return np.full(k0, 1.0 / k0), np.full(k1, 1.0 / k1)

    return MetaSolver(solve, "uniform")


def _check_positive(value, name, integer=False):
    if integer:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")
        return int(value)
    value = float(value)
    if not value > 0 or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite positive number; got {value!r}.")
    return value


def _padded(m: np.ndarray):
    """Pad ``m`` to power-of-two sides (one compiled program per size class) with masks."""
    k0, k1 = m.shape
    n0, n1 = (1 << int(np.ceil(np.log2(max(k, 2)))) for k in (k0, k1))
    out = np.zeros((n0, n1))
    out[:k0, :k1] = m
    return jnp.asarray(out), jnp.arange(n0) < k0, jnp.arange(n1) < k1


def _project(v, mask, gamma):
    """Euclidean projection onto ``{p : sum p = 1, p >= gamma}`` over the masked entries
    (Wang & Carreira-Perpinan 2013, as OpenSpiel's ``_simplex_projection``); 0 elsewhere."""
    n = jnp.sum(mask)
    size = v.shape[0]
    u = -jnp.sort(-jnp.where(mask, v, -jnp.inf))
    idx = jnp.arange(1, size + 1)
    cumulative = jnp.cumsum(jnp.where(idx <= n, u, 0.0))
    shift = (1.0 - cumulative - (n - idx) * gamma) / idx
    stop = (u + shift <= gamma) | (idx > n)
    rho = jnp.where(jnp.any(stop), jnp.argmax(stop), size)
    return jnp.where(mask, jnp.maximum(v + shift[rho - 1], gamma), 0.0)


def _uniform_on(mask):
    return mask / jnp.sum(mask)


@functools.partial(jax.jit, static_argnames=("iterations",))
def _prd_run(m, mask0, mask1, iterations, dt, gamma):
    def payoffs(x, y):
        return m @ y, -(m.T @ x)

    def step(carry, _):
        x, y, sx, sy = carry
        u0, u1 = payoffs(x, y)
        x = _project(x + dt * x * (u0 - x @ u0), mask0, gamma)
        y = _project(y + dt * y * (u1 - y @ u1), mask1, gamma)
        return (x, y, sx + x, sy + y), None

    x, y = _uniform_on(mask0), _uniform_on(mask1)
    (_, _, sx, sy), _ = jax.lax.scan(step, (x, y, x, y), None, length=iterations)
    return sx / (iterations + 1), sy / (iterations + 1)


def prd(iterations=100_000, dt=1e-3, gamma=1e-6) -> MetaSolver:
    """Projected replicator dynamics (Lanctot et al. 2017, Sec. 3.1), OpenSpiel's defaults:
    ``x' = proj_gamma(x + dt * x * (u - x.u))`` from uniform for ``iterations`` steps; returns
    the average of all iterates (the initial one included), as OpenSpiel's
    ``projected_replicator_dynamics``. Only approximately a Nash equilibrium."""
    iterations = _check_positive(iterations, "iterations", integer=True)
    dt = _check_positive(dt, "dt")
    gamma = float(gamma)
    if not 0 <= gamma < 1:
        raise ValueError(f"gamma is a minimum probability in [0, 1); got {gamma!r}.")

    def solve(m):
        m = _check_matrix(m)
        k0, k1 = m.shape
        if gamma * max(k0, k1) >= 1:
            raise ValueError(f"gamma={gamma} is too large for {max(k0, k1)} strategies.")
        pm, mask0, mask1 = _padded(m)
        sx, sy = _prd_run(pm, mask0, mask1, iterations, dt, gamma)
        return _simplex_point(np.asarray(sx)[:k0]), _simplex_point(np.asarray(sy)[:k1])

    return MetaSolver(solve, "prd", {"iterations": iterations, "dt": dt, "gamma": gamma})


@functools.partial(jax.jit, static_argnames=("iterations",))
def _rm_run(m, mask0, mask1, iterations, gamma):
    def matched(regret, mask):
        pos = jnp.where(mask, jnp.maximum(regret, 0.0), 0.0)
        total = jnp.sum(pos)
        uni = _uniform_on(mask)
        return jnp.where(total > 0, gamma * uni + (1 - gamma) * pos / jnp.where(
            total > 0, total, 1.0), uni)

    def step(carry, _):
        x, y, rx, ry, sx, sy = carry
        u0, u1 = m @ y, -(m.T @ x)
        rx = rx + jnp.where(mask0, u0 - x @ u0, 0.0)
        ry = ry + jnp.where(mask1, u1 - y @ u1, 0.0)
        x, y = matched(rx, mask0), matched(ry, mask1)
        return (x, y, rx, ry, sx + x, sy + y), None

    x, y = _uniform_on(mask0), _uniform_on(mask1)
    # OpenSpiel starts every regret at 1 / INITIAL_REGRET_DENOM = 1e-6.
    rx, ry = mask0 * 1e-6, mask1 * 1e-6
    carry = (x, y, rx, ry, x, y)
    (_, _, _, _, sx, sy), _ = jax.lax.scan(step, carry, None, length=iterations)
    return sx / (iterations + 1), sy / (iterations + 1)


def regret_matching(iterations=100_000, gamma=1e-6) -> MetaSolver:
    """Regret matching (Hart & Mas-Colell 2000) as OpenSpiel's ``regret_matching``: regrets
    start at 1e-6, each strategy mixes ``gamma`` of uniform into the normalised positive
    regrets, and the average of all iterates is returned. In a two-player zero-sum game the
    average converges to a Nash equilibrium at rate ``O(1/sqrt(iterations))``."""
    iterations = _check_positive(iterations, "iterations", integer=True)
    gamma = float(gamma)
    if not 0 <= gamma < 1:
        raise ValueError(f"gamma is an exploration weight in [0, 1); got {gamma!r}.")

    def solve(m):
        m = _check_matrix(m)
        k0, k1 = m.shape
        pm, mask0, mask1 = _padded(m)
        sx, sy = _rm_run(pm, mask0, mask1, iterations, gamma)
        return _simplex_point(np.asarray(sx)[:k0]), _simplex_point(np.asarray(sy)[:k1])

    return MetaSolver(solve, "rm", {"iterations": iterations, "gamma": gamma})


def _meta_exploitability(m, x, y) -> float:
    return 0.5 * float(np.max(m @ y) - np.min(x @ m))


def _copies_to_power_of_two(k: int) -> np.ndarray:
    """For ``k`` strategies, the strategy behind each of the next power of two (at least 2):
    ``0, 1, ..., k - 1`` and then the strategies again from the first (copies)."""
    size = 1 << int(np.ceil(np.log2(max(k, 2))))
    return np.arange(size) % k


def registered(name: str, steps: int = 2000, **params) -> MetaSolver:
    """Run the registered normal-form solver ``name`` (:data:`gametheory.solvers.
    NORMAL_FORM_SOLVERS`) for ``steps`` updates on each meta-game, from uniform.

    ``params`` go to :func:`gametheory.solvers.make_solver` (unknown names raise
    ``ValueError``); anything left out takes the registry's default, so the solver's own
    scale-free defaults apply. Returns the last or the average iterate, whichever has the lower
    exploitability on the meta-game.

    The solver runs on the meta-game grown to power-of-two sides by copies of its strategies
    (a copy has the same payoffs, so the payoff scale, the equilibria and every profile's
    exploitability are those of the meta-game once the copies' probabilities are added up),
    from a start that splits each strategy's uniform share evenly among its copies. So a PSRO
    run compiles the solver once per size class (1, 2, 4, ... strategies), not once per
    iteration. Entropic steps whose magnet is the start (``mpo``, ``comal``) walk the same
    profiles as on the meta-game itself: copies keep their ratio.
    """
    from ..solvers import make_solver

    steps = _check_positive(steps, "steps", integer=True)
    solver = make_solver(name, **params)

    def solve(m):
        from ..driver import solve as run
        from ..games import matrix_game

        m = _check_matrix(m)
        rows, cols = (_copies_to_power_of_two(k) for k in m.shape)
        start = tuple(1.0 / (k * np.bincount(c, minlength=k)[c])
                      for k, c in zip(m.shape, (rows, cols)))
        result = run(matrix_game(m[np.ix_(rows, cols)]), solver, steps, record_every=steps,
                     initial=start)
        best = None
        for policies in (result.last, result.average):
            x, y = (_simplex_point(np.bincount(c, weights=np.asarray(p, np.float64),
                                               minlength=k))
                    for p, c, k in zip(policies, (rows, cols), m.shape))
            gap = _meta_exploitability(m, x, y)
            if best is None or gap < best[0]:
                best = (gap, x, y)
        return best[1], best[2]

    return MetaSolver(solve, name, {"steps": steps, **params})


#: Meta-solvers specific to PSRO; every other name is looked up in the solver registry.
META_SOLVERS = {"nash": nash, "uniform": uniform, "prd": prd, "rm": regret_matching}


def meta_solver_names() -> list[str]:
    """Every name :func:`make_meta_solver` accepts."""
    from ..solvers import NORMAL_FORM_SOLVERS

    return sorted(META_SOLVERS) + sorted(set(NORMAL_FORM_SOLVERS) - set(META_SOLVERS))


def make_meta_solver(name: str | MetaSolver, **params) -> MetaSolver:
    """A meta-solver by name: ``nash``, ``uniform``, ``prd``, ``rm`` or any registered
    normal-form solver (e.g. ``mpo``; extra ``params`` such as ``steps=`` or the solver's own
    parameters are passed on). A :class:`MetaSolver` is returned unchanged."""
    if isinstance(name, MetaSolver):
        if params:
            raise ValueError("parameters cannot be applied to an already built MetaSolver.")
        return name
    from ..solvers import NORMAL_FORM_SOLVERS

    if name in META_SOLVERS:
        try:
            return META_SOLVERS[name](**params)
        except TypeError as err:
            raise ValueError(f"bad parameter for meta-solver {name!r}: {err}") from None
    if name in NORMAL_FORM_SOLVERS:
        return registered(name, **params)
    raise ValueError(
        f"unknown meta-solver {name!r}; choose one of {', '.join(meta_solver_names())}."
    )
