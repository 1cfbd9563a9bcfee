"""PDHG, the simplex projection and the certified polish, checked against exact references."""

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
from gametheory.solvers.polish import polish_profile
from gametheory.solvers.simplex import (
    project_simplex,
    project_simplex_michelot,
    project_simplex_pairwise,
    project_simplex_sort,
)

_floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


_project_sort = jax.jit(project_simplex_sort)


@pytest.mark.parametrize("method", [project_simplex_michelot, project_simplex_pairwise],
                         ids=["michelot", "pairwise"])
@settings(max_examples=150, deadline=None)
@given(v=st.sampled_from([1, 2, 3, 8, 40]).flatmap(
    lambda n: hnp.arrays(np.float64, n, elements=_floats)))
def test_projection_equals_the_sort_based_one(method, v):
    # Michelot (1986), the pairwise threshold search (the CPU and accelerator methods) and the
    # sort-based projection (Held, Wolfe and Crowder 1974) compute the same Euclidean
    # projection onto the simplex. (Few sizes: one compilation each.)
    ours = np.asarray(jax.jit(method)(jnp.asarray(v)))
    ref = np.asarray(_project_sort(jnp.asarray(v)))
    size = max(1.0, np.abs(v).max())
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-14 * size)
    assert ours.min() >= 0 and ours.sum() == pytest.approx(1.0, abs=1e-14 * size * len(v))


def test_projection_of_a_simplex_point_is_itself_and_batches():
    p = jnp.asarray([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(project_simplex(p), p, atol=1e-15)
    # A point above the simplex along the all-ones direction lands on its centre.
    np.testing.assert_allclose(project_simplex(jnp.full(4, 7.0)), np.full(4, 0.25), atol=1e-15)


def test_pdhg_batch_of_64_random_50x50_games_certified_against_the_lp():
    # One vmapped call (lockstep while_loop) over 64 games; every last iterate must certify
    # NashConv <= 1e-6 (exploitability <= 5e-7) and sit at the exact LP value (HiGHS).
    batch = [games.random_zero_sum(50, 50, seed=5000 + s) for s in range(64)]
    result = solve_batch_until(batch, solvers.pdhg(), tol=5e-7, max_steps=20000, check_every=50)
    assert bool(np.all(np.asarray(result.converged)))
    for g, x, y in zip(batch, *result.last):
        a = np.asarray(g.payoffs, np.float64)
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        nash_conv = (a @ y).max() - (x @ a).min()  # recomputed in float64 from scratch
        assert nash_conv <= 1e-6
        assert float(x @ a @ y) == pytest.approx(solve_zero_sum(g).value, abs=1e-6)


@pytest.mark.parametrize("name", ["rock_paper_scissors", "biased_rps", "matching_pennies"])
def test_pdhg_reaches_known_equilibria_without_polish(name):
    # rps / matching pennies: uniform NE; biased RPS NE (1/16, 10/16, 5/16) (Perolat et al. 2021).
    game = getattr(games, name)()
    start = (jnp.asarray(np.eye(game.num_actions[0])[0] * 0.7 + 0.3 / game.num_actions[0]),
             jnp.full(game.num_actions[1], 1.0 / game.num_actions[1]))
    out = solve_until(game, solvers.pdhg(polish=False), tol=1e-10, max_steps=20000,
                      initial=start)
    assert bool(out.converged)
    np.testing.assert_allclose(out.last[0], solve_zero_sum(game).row, atol=1e-8)


def test_pdhg_rejects_games_it_cannot_solve_and_bad_parameters():
    with pytest.raises(ValueError, match="two-player zero-sum matrix"):
        solvers.pdhg().init(games.shapley_game())
    for bad in (dict(lr=1.0), dict(lr=0.0), dict(reflection=1.5), dict(primal_weight=-1.0),
                dict(restart_thresholds=(0.6, 0.5, 0.36)), dict(scale="big")):
        with pytest.raises(ValueError):
            solvers.pdhg(**bad)


def _degenerate_game(data, m, n):
    # Integer payoffs whose 6 x 5 matrix repeats rows and columns of a smaller m x n one: many
    # equilibria, equal payoffs, singular equalising systems -- the cases where a support guess
    # must not be trusted. (One shape, so the jitted polish compiles once.)
    base = data.draw(hnp.arrays(np.int64, (m, n), elements=st.integers(-2, 2)))
    rows = data.draw(st.lists(st.integers(0, m - 1), min_size=6, max_size=6))
    cols = data.draw(st.lists(st.integers(0, n - 1), min_size=5, max_size=5))
    return base[np.ix_(rows, cols)].astype(np.float64)


_polish = jax.jit(polish_profile)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), m=st.integers(1, 6), n=st.integers(1, 5), tol=st.sampled_from(
    [1e-12, 1e-9, 1e-6, 1e-3]), near=st.booleans())
def test_polish_never_returns_a_profile_above_the_tolerance(data, m, n, tol, near):
    a = _degenerate_game(data, m, n)
    game = games.matrix_game(a)
    x = data.draw(hnp.arrays(np.float64, 6, elements=st.floats(0.0, 1.0)))
    y = data.draw(hnp.arrays(np.float64, 5, elements=st.floats(0.0, 1.0)))
    x, y = (x + 1e-3) / (x + 1e-3).sum(), (y + 1e-3) / (y + 1e-3).sum()
    if near:  # start next to an exact equilibrium, where a polish is most tempting
        lp = solve_zero_sum(a)
        x, y = 0.99 * lp.row + 0.01 * x, 0.99 * lp.col + 0.01 * y
    (px, py), ok = _polish(game, (jnp.asarray(x), jnp.asarray(y)), tol)
    px, py = np.asarray(px), np.asarray(py)
    nash_conv = (a @ py).max() - (px @ a).min()  # float64, from scratch
    if bool(ok):
        assert nash_conv <= tol and px.min() >= 0 and py.min() >= 0
        assert px.sum() == pytest.approx(1) and py.sum() == pytest.approx(1)
    else:  # the iterate comes back unchanged
        np.testing.assert_array_equal(px, x)
        np.testing.assert_array_equal(py, y)


def test_polish_recovers_the_exact_equilibrium_from_a_nearby_profile():
    # COMAL 3x3 game NE = (4/11, 3/11, 4/11) (Liu et al. 2024); a perturbed profile polishes to it.
    game = games.comal_3x3()
    near = jnp.asarray([4 / 11 + 0.01, 3 / 11 - 0.02, 4 / 11 + 0.01])
    (x, y), ok = polish_profile(game, (near, near), 1e-12)
    assert bool(ok)
    np.testing.assert_allclose(x, [4 / 11, 3 / 11, 4 / 11], atol=1e-14)
    np.testing.assert_allclose(y, [4 / 11, 3 / 11, 4 / 11], atol=1e-14)


def test_polish_finds_the_support_when_a_nearly_equalising_action_holds_more_probability():
    # Entropic iterates of games with an off-support action that costs the equilibrium only a
    # little more than the value keep probability on it for many steps. Here column 6 costs
    # v + 1e-4 against x* (6x6 game with full support, plus that column), and the iterate puts
    # twice the smallest equilibrium probability on it: by probability it outranks a support
    # column, by payoff deficit (0 on the support against x*) it does not. The result must be
    # the exact equilibrium (x*, (y*, 0)) of the 6x7 game (HiGHS).
    rng = np.random.default_rng(4)
    while True:
        base = rng.uniform(-1, 1, size=(6, 6))
        lp = solve_zero_sum(base)
        if lp.row.min() > 1e-3 and lp.col.min() > 1e-3:  # full supports
            break
    delta = rng.uniform(-1e-3, 1e-3, size=6)
    delta += (1e-4 - lp.row @ delta) / lp.row.sum()  # x* . column = v + 1e-4
    a = np.column_stack([base, lp.value + delta])
    ref = solve_zero_sum(a)
    np.testing.assert_allclose(ref.col, np.append(lp.col, 0.0), atol=1e-9)
    eps = 2 * lp.col.min()
    y = np.append((1 - eps) * lp.col, eps)
    (px, py), ok = polish_profile(games.matrix_game(a), (jnp.asarray(lp.row), jnp.asarray(y)),
                                  1e-12)
    assert bool(ok)
    np.testing.assert_allclose(px, ref.row, atol=1e-12)
    np.testing.assert_allclose(py, ref.col, atol=1e-12)


def test_polish_certifies_games_with_duplicated_rows_and_columns():
    # Every row and column of a random 5x6 game twice: an iterate that splits each
    # equilibrium probability between the copies guesses supports holding both copies, whose
    # equalising systems are singular. Keeping one copy with the probability of both gives an
    # exact equilibrium: NashConv 0 and the value of HiGHS on the duplicated game.
    rng = np.random.default_rng(11)
    base = rng.uniform(-1, 1, size=(5, 6))
    a = np.repeat(np.repeat(base, 2, axis=0), 2, axis=1)
    lp, ref = solve_zero_sum(base), solve_zero_sum(a)
    split = rng.uniform(0.3, 0.7, size=(2, 6))
    x = np.column_stack([split[0, :5], 1 - split[0, :5]]).ravel() * np.repeat(lp.row, 2)
    y = np.column_stack([split[1], 1 - split[1]]).ravel() * np.repeat(lp.col, 2)
    x, y = 0.999 * x + 0.001 / 10, 0.999 * y + 0.001 / 12  # near, not at, an equilibrium
    (px, py), ok = polish_profile(games.matrix_game(a), (jnp.asarray(x), jnp.asarray(y)), 1e-12)
    assert bool(ok)
    px, py = np.asarray(px), np.asarray(py)
    assert (a @ py).max() - (px @ a).min() <= 1e-12
    assert float(px @ a @ py) == pytest.approx(ref.value, abs=1e-12)


def test_polish_refuses_games_that_are_not_zero_sum_matrix_games():
    with pytest.raises(ValueError, match="two-player zero-sum matrix game"):
        polish_profile(games.shapley_game(), games.shapley_game().uniform_policies(), 1e-9)


def test_polished_solver_keeps_its_inner_iteration_and_certifies():
    # The polish never changes the inner iteration: MPO with and without it follow the same
    # iterates; once certified, the reported policy is the exact LP equilibrium.
    game = games.random_zero_sum(12, 9, seed=77)
    plain = solvers.mpo(polish=False)
    polished = solvers.mpo(polish=True)
    a = jax.jit(plain.update)
    b = jax.jit(polished.update)
    sa, sb = plain.init(game), polished.init(game)
    for _ in range(50):
        sa, sb = a(game, sa), b(game, sb)
    for p, q in zip(plain.policy(game, sa), solvers.mpo(polish=False).policy(game, sb.inner)):
        np.testing.assert_array_equal(p, q)
    out = solve_until(game, polished, tol=1e-12, max_steps=20000)
    assert bool(out.converged)
    lp = solve_zero_sum(game)
    np.testing.assert_allclose(out.last[0], lp.row, atol=1e-9)
    np.testing.assert_allclose(out.last[1], lp.col, atol=1e-9)


def test_batched_polish_from_two_threads_at_once_finishes():
    # Two programs, each polishing a batch of 128 games, run from two Python threads (as
    # benchmarks/last_iterate.py does). With batched LAPACK solves this hung every time on a
    # 2-core machine: both kernels blocked the intra-op pool waiting for their own sub-tasks.
    import threading

    polish = jax.jit(lambda a, x, y: polish_profile(games.MatrixGame(a), (x, y), 1e-6))

    def work(seed):
        a = jnp.asarray(np.random.default_rng(seed).uniform(-1, 1, (128, 50, 50)))
        x = y = jnp.full((128, 50), 1 / 50)
        for i in range(60):
            jax.block_until_ready(polish(a, x + i * 1e-9, y))

    threads = [threading.Thread(target=work, args=(seed,), daemon=True) for seed in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "concurrent polish deadlocked"


def test_polish_period_follows_the_cost_of_a_polish_in_steps():
    # Three (s x s) factorisations, s = min(m, n) + 1, against two m x n products per step.
    from gametheory.solvers.polish import polish_period

    assert polish_period(games.random_zero_sum(50, 50, seed=0), 100) == 100
    assert polish_period(games.random_zero_sum(50, 50, seed=0), 20) == 60  # 51^3/2500 = 53
    assert polish_period(games.random_zero_sum(1000, 1000, seed=0), 50) == 1050
    # A thin game's systems are small: 11^3 / 10000 < 1 step.
    assert polish_period(games.random_zero_sum(10, 1000, seed=0), 50) == 50
    assert polish_period(games.shapley_game(), 50) == 50  # not polished: every check


def test_solve_until_polishes_a_large_game_only_every_polish_period(monkeypatch):
    # 400x400 with checks every 10 steps: the polish may run every 410 steps only.
    import gametheory.solvers.polish as polish_module

    calls = []
    real = polish_module.polish_profile

    def counting(game, policies, tol):
        jax.debug.callback(lambda: calls.append(1))
        return real(game, policies, tol)

    monkeypatch.setattr(polish_module, "polish_profile", counting)
    game = games.random_zero_sum(400, 400, seed=3)
    result = solve_until(game, solvers.make_solver("pdhg"), tol=1e-300, max_steps=1000,
                         check_every=10)
    assert int(result.steps) == 1000
    assert len(calls) == 2  # at 410 and 820


@pytest.mark.parametrize("shape", [(30, 20), (20, 30), (7, 7)])
def test_support_systems_solved_at_their_bucket_size_equal_the_full_size_ones(shape):
    # On CPU each support system is factorised at the smallest bucket size that holds it;
    # the solutions must be those of the full-size system (padding is an identity block).
    from gametheory.solvers.polish import _bucketed, _full

    rng = np.random.default_rng(3)
    a = jnp.asarray(rng.uniform(-1, 1, shape))
    rows, cols = (jnp.asarray(rng.permutation(d)) for d in shape)
    bucketed, full = jax.jit(_bucketed), jax.jit(_full)
    for k in range(1, min(shape) + 1):
        for got, want in zip(bucketed(a, rows, cols, k), full(a, rows, cols, k)):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
        # The column player's solution equalises the support rows and sums to one.
        y = np.zeros(shape[1])
        y[np.asarray(cols[:k])] = np.asarray(full(a, rows, cols, k)[0][:k])
        payoffs = np.asarray(a)[np.asarray(rows[:k])] @ y
        np.testing.assert_allclose(payoffs, payoffs[0], atol=1e-9)
        assert y.sum() == pytest.approx(1.0)
