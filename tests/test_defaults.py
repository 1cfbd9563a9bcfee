"""Solver defaults on games they were not chosen on, and scale-free parameters.

The defaults of MPO, COMAL and PDHG were chosen on 16 random 50x50 games (``seed=1000..1015``),
Leduc poker, Kuhn poker and liars_dice(1,3); the games below were never looked at while choosing
them (seeds 7000+, rectangular shapes, all spinning tops).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gametheory import games, solvers
from gametheory.driver import solve, solve_batch_until, solve_until
from gametheory.lp import solve_zero_sum

# 20 random zero-sum games of sizes 10..60, rectangular too: four shapes x five seeds.
SHAPES = [(10, 60), (60, 35), (27, 27), (45, 12)]
TARGET = 1e-6  # exploitability = NashConv / 2


@pytest.mark.parametrize("name", ["mpo", "comal", "pdhg"])
def test_defaults_solve_twenty_unseen_random_games(name):
    solver = solvers.make_solver(name)  # no parameters: the registry defaults
    for k, (m, n) in enumerate(SHAPES):
        batch = [games.random_zero_sum(m, n, seed=7000 + 10 * k + s) for s in range(5)]
        out = solve_batch_until(batch, solver, tol=TARGET, max_steps=20000)
        expl = np.asarray(out.exploitability)
        assert expl.max() <= TARGET, f"{name} {m}x{n}: {expl.max():.2e}"
        for g, x, y in zip(batch, *out.last):  # at the exact LP value (HiGHS)
            assert float(x @ g.payoffs @ y) == pytest.approx(solve_zero_sum(g).value, abs=1e-5)


@pytest.mark.parametrize("top", games.SPINNING_TOP_NAMES)
def test_defaults_solve_every_spinning_top(top):
    # Published empirical games (Czarnecki et al. 2020, "Real world games look like spinning
    # tops"); values checked against the exact LP.
    game = games.spinning_top(top)
    value = solve_zero_sum(game).value
    for name in ("mpo", "comal", "pdhg"):
        out = solve_until(game, solvers.make_solver(name), tol=TARGET, max_steps=20000)
        assert float(out.exploitability) <= TARGET, f"{name} on {top}"
        x, y = out.last
        assert float(x @ game.payoffs @ y) == pytest.approx(value, abs=1e-5)


SCALE_FREE = sorted(set(solvers.NORMAL_FORM_SOLVERS) - {"fictitious_play"})


@pytest.mark.parametrize("name", SCALE_FREE)
@pytest.mark.parametrize("factor", [1000.0, 1e-3])
def test_scaling_the_payoffs_leaves_the_iterates_unchanged(name, factor):
    # Parameters are read relative to the game's own scale (payoff range, ||A||_2), so the same
    # defaults walk the same path on A and on c*A; fictitious play is scale-free by construction
    # and tested alongside in the random-start test of the CLI.
    base = games.random_zero_sum(7, 5, seed=11)
    scaled = games.matrix_game(np.asarray(base.payoffs) * factor)
    solver = solvers.make_solver(name)
    start = (jnp.asarray([0.3, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1]),
             jnp.asarray([0.5, 0.2, 0.1, 0.1, 0.1]))
    a = solve(base, solver, 300, record_every=100, initial=start)
    b = solve(scaled, solver, 300, record_every=100, initial=start)
    for p, q in zip(a.last, b.last):
        np.testing.assert_allclose(p, q, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(np.asarray(b.exploitability_last) / factor,
                               a.exploitability_last, rtol=1e-6, atol=1e-12)


def test_absolute_units_reproduce_the_papers_and_differ_from_relative():
    # scale=1.0 reads lr in absolute units; on a game with payoff range 2 (S = 1) both agree,
    # on the COMAL preference game (S = 0.4) they do not.
    rps = games.rock_paper_scissors()
    start = (jnp.asarray([0.5, 0.3, 0.2]), jnp.asarray([0.2, 0.3, 0.5]))
    rel = solve(rps, solvers.mwu(lr=0.1), 50, initial=start)
    abs_ = solve(rps, solvers.mwu(lr=0.1, scale=1.0), 50, initial=start)
    np.testing.assert_allclose(rel.last[0], abs_.last[0], atol=1e-14)
    pref = games.comal_3x3()
    rel = solve(pref, solvers.mwu(lr=0.1), 50, initial=start)
    abs_ = solve(pref, solvers.mwu(lr=0.1, scale=1.0), 50, initial=start)
    assert float(jnp.max(jnp.abs(rel.last[0] - abs_.last[0]))) > 1e-3
    with pytest.raises(ValueError, match="scale must be"):
        solvers.mwu(scale=0.0)
    with pytest.raises(ValueError, match="scale must be"):
        solvers.mwu(scale="huge")


def test_payoff_scale_is_half_the_range_and_ignores_shifts():
    a = np.array([[3.0, -1.0], [0.5, 2.0]])
    assert float(games.matrix_game(a).payoff_scale()) == pytest.approx(2.0)
    assert float(games.matrix_game(a + 10).payoff_scale()) == pytest.approx(2.0)
    assert float(games.matrix_game(np.zeros((2, 2))).payoff_scale()) == 1.0  # constant game
    # Shapley's game, payoffs in {0, 1}: S = 1/2.
    assert float(games.shapley_game().payoff_scale()) == pytest.approx(0.5)


def test_operator_norm_matches_numpy():
    from gametheory.solvers.scale import operator_norm

    for seed in range(5):
        # Power iteration approaches the norm from below (numpy: exact SVD).
        a = np.random.default_rng(seed).normal(size=(13, 29))
        estimate, exact = float(operator_norm(jnp.asarray(a))), np.linalg.norm(a, 2)
        assert exact * (1 - 1e-4) <= estimate <= exact * (1 + 1e-12)
    batch = jnp.stack([jnp.eye(3) * 2, jnp.eye(3) * 5])
    np.testing.assert_allclose(jax.jit(operator_norm)(batch), [2.0, 5.0], rtol=1e-12)
