"""Normal-form solvers: last-iterate behaviour on games with known equilibria."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory import games, solvers
from gametheory.driver import random_initial_policies, solve, solve_batch_until
from gametheory.lp import solve_zero_sum

# COMAL 3x3 game, start pi0 = (0.6, 0.3, 0.1) for both players (Liu et al. 2024, Sec. 4).
# Tests that reproduce a paper's numbers pass its settings in absolute units (scale=1.0).
PI0 = (jnp.asarray([0.6, 0.3, 0.1]),) * 2
COMAL_NE = np.array([4 / 11, 3 / 11, 4 / 11])  # COMAL 3x3 game NE = (4/11, 3/11, 4/11)


def test_comal_game_lp_equilibrium():
    sol = solve_zero_sum(games.comal_3x3())
    np.testing.assert_allclose(sol.row, COMAL_NE, atol=1e-9)
    np.testing.assert_allclose(sol.col, COMAL_NE, atol=1e-9)


def test_mwu_last_iterate_cycles_while_average_converges():
    result = solve(games.comal_3x3(), solvers.mwu(lr=0.1), 20000, record_every=1000,
                   initial=PI0)
    steps = np.asarray(result.steps)
    at_3000 = np.asarray(result.exploitability_last)[steps == 3000][0]
    assert at_3000 > 0.1  # the last iterate moves away from the NE (Bailey & Piliouras 2018)
    assert float(result.exploitability_avg[-1]) < 0.01  # the average converges


def test_inpo_with_fixed_reference_stalls_at_regularized_equilibrium():
    result = solve(games.comal_3x3(), solvers.inpo(lr=1.0, tau=0.1, scale=1.0), 5000, initial=PI0)
    # The tau-regularised equilibrium around pi0 has exploitability ~0.0785 (COMAL paper, Fig. 1).
    assert float(result.exploitability_last[-1]) == pytest.approx(0.0785, abs=5e-4)
    trace = np.asarray(result.exploitability_last)
    assert abs(trace[-1] - trace[-20]) < 1e-9  # stalled, not still improving


@pytest.mark.parametrize(
    "solver",
    [
        solvers.comal(lr=1.0, tau=0.1, inner_steps=500, inner="inpo", scale=1.0,
                      polish=False),
        solvers.comal(lr=1.0, tau=0.1, inner_steps=500, inner="mwu", scale=1.0,
                      polish=False),
        solvers.mpo(lr=1.0, temp=0.1, reset_every=500, extragradient=False, scale=1.0,
                    polish=False),
    ],
    ids=["comal_inpo", "comal_mwu", "mpo"],
)
def test_prox_point_solvers_reach_the_nash_in_the_last_iterate(solver):
    result = solve(games.comal_3x3(), solver, 30 * 500, record_every=500, initial=PI0)
    assert float(result.exploitability_last[-1]) <= 1e-10
    for p in result.last:
        np.testing.assert_allclose(p, COMAL_NE, atol=1e-8)


def test_comal_inner_tolerance_moves_the_reference_early():
    solver = solvers.comal(lr=1.0, tau=0.1, inner_steps=10_000, inner="inpo", inner_tol=1e-12,
                           scale=1.0, polish=False)
    result = solve(games.comal_3x3(), solver, 15000, record_every=500, initial=PI0)
    assert int(result.state.outer_step) > 1  # without the tolerance it would be 1
    # An inexact prox step (regularised NashConv <= tol, i.e. KL <= tol / tau to the regularised
    # equilibrium) leaves a floor of order sqrt(tol / tau) in the policies.
    assert float(result.exploitability_last[-1]) <= 1e-5


def test_mmd_reaches_published_qre_of_perturbed_rps():
    # perturbed RPS QRE at temp 0.1 = [0.17347803, 0.48630324, 0.34021873]
    # (MMD paper code, examples/nfg/perturbed_rps.py; lr = temp = 0.1, uniform magnet).
    result = solve(games.perturbed_rps(), solvers.mmd(lr=0.1, temp=0.1, scale=1.0), 10000)
    for p in result.last:
        np.testing.assert_allclose(p, [0.17347803, 0.48630324, 0.34021873], atol=1e-7)


def test_annealed_and_moving_magnet_mmd_approach_the_nash():
    # Biased RPS NE (1/16, 10/16, 5/16) (Perolat et al. 2021): a fixed temperature stops at the
    # QRE; annealing the temperature or moving the magnet removes that bias.
    g = games.biased_rps()
    fixed = solve(g, solvers.mmd(lr=0.5, temp=0.2, scale=1.0), 20000)
    annealed = solve(g, solvers.mmd(lr=0.5, temp=0.2, anneal=0.5, scale=1.0), 20000)
    moving = solve(g, solvers.mmd(lr=0.5, temp=0.2, magnet_lr=0.05, scale=1.0), 20000)
    assert float(annealed.exploitability_last[-1]) < float(fixed.exploitability_last[-1]) / 10
    assert float(moving.exploitability_last[-1]) < 1e-6


@pytest.mark.parametrize("name", ["omwu", "extragradient"])
def test_optimistic_methods_converge_in_last_iterate_on_unique_ne(name):
    # Unique interior NE: OMWU / extragradient last iterates converge (Wei et al. 2021).
    result = solve(games.biased_rps(), solvers.make_solver(name, lr=1.0), 20000)
    assert float(result.exploitability_last[-1]) < 1e-6


def test_rm_plus_and_fictitious_play_averages_converge():
    g = games.biased_rps()
    rm = solve(g, solvers.rm_plus(), 5000)
    fp = solve(g, solvers.fictitious_play(), 5000)
    assert float(rm.exploitability_avg[-1]) < 1e-3
    assert float(fp.exploitability_avg[-1]) < 1e-2
    # Fictitious play's last iterate is a pure best response: far from the interior NE.
    assert float(fp.exploitability_last[-1]) > 0.01


def test_replicator_conserves_rps_cycle():
    # Replicator dynamics on RPS conserve sum(log pi) (Hofbauer & Sigmund 1998): no convergence.
    result = solve(games.rock_paper_scissors(), solvers.replicator(dt=0.01), 20000,
                   initial=(jnp.asarray([0.5, 0.3, 0.2]),) * 2)
    assert float(result.exploitability_last[-1]) > 0.05


def test_fictitious_play_average_on_shapley_does_not_converge():
    # Shapley (1964): fictitious play cycles on this general-sum game.
    result = solve(games.shapley_game(), solvers.fictitious_play(), 20000,
                   initial=(jnp.asarray([0.8, 0.1, 0.1]), jnp.asarray([0.1, 0.1, 0.8])))
    assert float(np.max(np.asarray(result.exploitability_avg)[-10:])) > 0.05


@functools.lru_cache
def _jitted_solver(name):
    solver = solvers.make_solver(name)
    return solver, jax.jit(solver.update)


@pytest.mark.parametrize("name", sorted(solvers.NORMAL_FORM_SOLVERS))
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000))
def test_every_update_keeps_policies_on_the_simplex(name, seed):
    # One static game name for every example, so the jitted update compiles once.
    g = games.matrix_game(games.random_zero_sum(4, 3, seed=seed).payoffs)
    solver, update = _jitted_solver(name)
    state = solver.init(g, random_initial_policies(jax.random.PRNGKey(seed), g))
    for _ in range(5):
        state = update(g, state)
        for p in solver.policy(g, state):
            p = np.asarray(p)
            assert np.all(p >= 0) and np.isfinite(p).all()
            assert p.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    "name,params,match",
    [
        ("mwu", {"lr": -1.0}, "lr must be a finite positive"),
        ("mwu", {"lr": float("nan")}, "lr must be a finite positive"),
        ("mwu", {"lr": "fast"}, "lr must be a number"),
        ("mmd", {"magnet": "random"}, "magnet must be"),
        ("mmd", {"magnet_lr": 2.0}, "mixture weight"),
        ("mpo", {"reset_every": 0}, "positive integer"),
        ("comal", {"inner": "adam"}, "inner must be"),
        ("comal", {"inner_tol": -1.0}, ">= 0"),
        ("comal", {"inner_steps": "adaptive"}, "MPO's rule"),
        ("comal", {"inner_rtol": 1.0}, "inner_rtol must be in"),
        ("comal", {"inner_rtol": 0.0}, "needs inner_rtol > 0"),
        ("mpo", {"bogus": 1}, "has no parameter bogus"),
        ("sgd", {}, "unknown solver"),
    ],
)
def test_bad_solver_parameters_raise(name, params, match):
    with pytest.raises(ValueError, match=match):
        solvers.make_solver(name, **params)


def test_bad_initial_policies_raise():
    g = games.rock_paper_scissors()
    solver = solvers.mwu()
    with pytest.raises(ValueError, match="expected 2"):
        solver.init(g, (jnp.ones(3) / 3,))
    with pytest.raises(ValueError, match="has 2 entries"):
        solver.init(g, (jnp.ones(2) / 2, jnp.ones(3) / 3))
    with pytest.raises(ValueError, match="not a probability vector"):
        solver.init(g, (jnp.asarray([0.5, 0.6, -0.1]), jnp.ones(3) / 3))


def test_extragradient_mmd_has_the_same_fixed_point():
    # Mirror prox on the regularised game keeps MMD's fixed point: the published perturbed RPS
    # QRE at temp 0.1 = [0.17347803, 0.48630324, 0.34021873] (MMD paper code).
    solver = solvers.mmd(lr=1.0, temp=0.1, extragradient=True, scale=1.0)
    result = solve(games.perturbed_rps(), solver, 2000)
    for p in result.last:
        np.testing.assert_allclose(p, [0.17347803, 0.48630324, 0.34021873], atol=1e-7)


@pytest.mark.parametrize("name", ["mpo", "comal"])
def test_64_random_20x20_games_in_one_vmapped_call(name):
    # Defaults (scale-free steps, adaptive resets, certified polish): every last iterate reaches
    # exploitability <= 1e-6 and the exact LP value (HiGHS).
    batch = [games.random_zero_sum(20, 20, seed=s) for s in range(64)]
    result = solve_batch_until(batch, solvers.make_solver(name), tol=1e-6, max_steps=20000)
    last = np.asarray(result.exploitability)
    assert last.max() <= 1e-6, f"worst game {last.argmax()}: {last.max():.2e}"
    for i, g in enumerate(batch):
        x, y = (np.asarray(p[i]) for p in result.last)
        value = float(x @ np.asarray(g.payoffs) @ y)
        assert value == pytest.approx(solve_zero_sum(g).value, abs=1e-6)  # exact LP value


def test_comal_and_mpo_walk_different_paths_on_rps():
    # MPO resets its magnet on the step residual, COMAL moves its reference once the regularised
    # game is solved to a tolerance: from the same start, the same inner step takes them along
    # different paths (the support polish, which returns the exact equilibrium to both, is off).
    # RPS has the unique equilibrium (1/3, 1/3, 1/3).
    g = games.rock_paper_scissors()
    start = (jnp.asarray([0.6, 0.3, 0.1]), jnp.asarray([0.2, 0.2, 0.6]))
    runs = {name: solve(g, solvers.make_solver(name, polish=False), 500, record_every=100,
                        initial=start) for name in ("mpo", "comal")}
    curves = [np.asarray(r.exploitability_last) for r in runs.values()]
    assert np.max(np.abs(curves[0] - curves[1])) > 1e-6
    assert max(float(np.max(np.abs(a - b)))
               for a, b in zip(runs["mpo"].last, runs["comal"].last)) > 1e-6
    for r in runs.values():  # both converge
        np.testing.assert_allclose(r.last[0], np.full(3, 1 / 3), atol=5e-3)


def test_comal_inner_gaps_are_the_regularised_nashconv():
    # COMAL's stopping test computes the regularised NashConv around the reference and around the
    # iterate itself from one gradient; both must equal metrics.regularized_gap (App. B of Sokota
    # et al. 2023: regularised best response temp * logsumexp(log rho + q / temp)).
    from gametheory import metrics
    from gametheory.solvers.regularized import _regularized_gaps

    g = games.random_zero_sum(6, 4, seed=5)
    pols = random_initial_policies(jax.random.PRNGKey(0), g)
    refs = random_initial_policies(jax.random.PRNGKey(1), g)
    gap, at_self = _regularized_gaps(pols, g.gradients(pols), 0.07, tuple(map(jnp.log, refs)))
    assert float(gap) == pytest.approx(float(metrics.regularized_gap(g, pols, 0.07, refs)),
                                       rel=1e-12)
    assert float(at_self) == pytest.approx(float(metrics.regularized_gap(g, pols, 0.07, pols)),
                                           rel=1e-12)
