"""The simplex-method solver, checked against scipy's HiGHS on the same games."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gametheory import games, solvers
from gametheory.driver import solve_batch_until, solve_until
from gametheory.lp import solve_zero_sum

TOL = 1e-12


def _check_against_lp(matrix, result, tol=TOL):
    """NashConv of the solver's profile (recomputed in NumPy) and its value against HiGHS."""
    a = np.asarray(matrix, np.float64)
    x, y = (np.asarray(p, np.float64) for p in result.last)
    spread = max(float(np.ptp(a)), float(np.abs(a).max()), 1e-300)  # constant games too
    assert x.min() >= 0 and y.min() >= 0
    assert x.sum() == pytest.approx(1.0, abs=1e-12) and y.sum() == pytest.approx(1.0, abs=1e-12)
    nash_conv = float(np.max(a @ y) - np.min(x @ a))
    assert nash_conv <= tol * spread, nash_conv
    size = max(spread, 1.0)  # HiGHS's tolerances are absolute
    assert float(x @ a @ y) == pytest.approx(solve_zero_sum(a).value, abs=1e-9 * size)


@functools.lru_cache
def _solver():
    return solvers.make_solver("tableau")


def _solve(matrix, max_steps=500):
    game = games.matrix_game(matrix, name="")
    size = max(float(np.ptp(matrix)), float(np.abs(matrix).max()), 1e-300)
    return solve_until(game, _solver(), tol=TOL * size,
                       max_steps=max_steps, check_every=10)


_SHAPES = [(1, 4), (4, 1), (3, 3), (5, 8), (9, 4), (12, 12)]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_games_of_every_shape_match_highs(data):
    # Payoffs on a fine grid (as good as continuous: ties are rare), rectangular and 1xn
    # included. (Payoffs near the float64 underflow are out of scope: XLA flushes subnormals.)
    shape = data.draw(st.sampled_from(_SHAPES))
    a = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-10**6, 10**6))) / 1e4
    _check_against_lp(a, _solve(a))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_degenerate_games_are_solved_exactly(data):
    # Payoffs in {-1, 0, 1} with duplicated rows and columns: ties in the ratio test at almost
    # every pivot (the case anti-cycling rules are for) and many equilibria.
    base = data.draw(hnp.arrays(np.int64, (4, 4), elements=st.integers(-1, 1)))
    rows = data.draw(st.lists(st.integers(0, 3), min_size=6, max_size=6))
    cols = data.draw(st.lists(st.integers(0, 3), min_size=6, max_size=6))
    a = base[np.ix_(rows, cols)].astype(np.float64)
    _check_against_lp(a, _solve(a))


def test_constant_games_and_rock_paper_scissors_are_solved_at_the_start():
    # The slack basis reads as uniform play, already an equilibrium of both.
    for a in (np.full((3, 5), 2.5), np.asarray(games.rock_paper_scissors().payoffs)):
        result = _solve(a)
        assert int(result.steps) == 0
        _check_against_lp(a, result)


def test_preference_game_reaches_its_closed_form_equilibrium():
    # COMAL's 3x3 preference game (Liu et al. 2024, Sec. 5): the unique equilibrium is
    # (4/11, 3/11, 4/11) for both players (the README's quick start shows MPO reaching it).
    result = solve_until(games.comal_3x3(), _solver(), tol=1e-15, max_steps=50, check_every=1)
    for p in result.last:
        np.testing.assert_allclose(p, np.array([4, 3, 4]) / 11, atol=1e-14)
    assert int(result.steps) == 3  # from the slack basis: one pivot per support action
    assert int(result.state.pivots) == 3


@pytest.mark.parametrize("name", games.SPINNING_TOP_NAMES)
def test_every_spinning_top(name):
    top = games.spinning_top(name)
    _check_against_lp(top.payoffs, _solve(np.asarray(top.payoffs), max_steps=5000))


def test_batch_of_random_50x50_games_in_continuous_batching_is_exact():
    # 64 games vmapped 16 at a time; steepest-edge pricing needs about 45 pivots each (Goldfarb
    # and Reid 1977 report ~n pivots on dense problems), far below the cap of 200.
    batch = [games.random_zero_sum(50, 50, seed=9000 + s) for s in range(64)]
    result = solve_batch_until(batch, _solver(), tol=1e-12, max_steps=200, check_every=25,
                               slots=16)
    assert bool(np.all(result.converged))
    # Updates after the optimum take no pivot; every action in the column player's support
    # entered the basis by a pivot of its own (the start is the slack basis).
    pivots = np.asarray(result.state.pivots)
    support = np.sum(np.asarray(result.last[1]) > 0, axis=1)
    assert np.all(pivots <= np.asarray(result.steps)) and np.all(pivots >= support)
    for game, x, y in zip(batch, *result.last):
        one = type(result)(last=(x, y), steps=None, exploitability=None, converged=None,
                           state=None)
        _check_against_lp(game.payoffs, one)


def test_float32_games_reach_float32_accuracy():
    a = np.asarray(games.random_zero_sum(20, 15, seed=4).payoffs)
    game = games.matrix_game(a, dtype=jnp.float32)
    result = solve_until(game, _solver(), tol=1e-5, max_steps=500, check_every=10)
    assert result.last[0].dtype == jnp.float32 and bool(result.converged)
    x, y = (np.asarray(p, np.float64) for p in result.last)
    assert float(np.max(a @ y) - np.min(x @ a)) <= 1e-5 * np.ptp(a)


def test_leading_batch_axes_are_mapped_over():
    a = np.stack([np.asarray(games.random_zero_sum(6, 4, seed=s).payoffs) for s in range(3)])
    game = games.stack_games([games.matrix_game(m) for m in a])
    solver = _solver()
    state = solver.init(game)
    for _ in range(20):
        state = jax.jit(solver.update)(game, state)
    for b in range(3):
        one = solve_until(games.matrix_game(a[b]), solver, tol=1e-300, max_steps=20,
                          check_every=20)
        for p, q in zip(solver.policy(game, state), one.last):
            np.testing.assert_allclose(p[b], q, atol=1e-15)


def test_tableau_rejects_games_that_are_not_zero_sum_matrix_games():
    with pytest.raises(ValueError, match="tableau solves two-player zero-sum"):
        _solver().init(games.shapley_game())
