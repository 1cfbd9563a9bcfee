"""Meta-solvers against closed forms, the exact LP and OpenSpiel's own implementations."""

import numpy as np
import pytest
from open_spiel.python.algorithms import projected_replicator_dynamics, regret_matching

import gametheory.driver as driver
from gametheory import games
from gametheory.psro import make_meta_solver, meta_solver_names, nash, prd, uniform
from gametheory.psro import regret_matching as rm
from gametheory.solvers import make_solver


def _gap(m, x, y):
    return float(np.max(m @ y) - np.min(x @ m))


def test_nash_on_closed_forms():
    # Biased RPS NE (1/16, 10/16, 5/16) (Perolat et al. 2021, Sec. 6).
    m = np.asarray(games.biased_rps().payoffs)
    x, y = nash().solve(m)
    np.testing.assert_allclose(x, [1 / 16, 10 / 16, 5 / 16], atol=1e-9)
    np.testing.assert_allclose(y, [1 / 16, 10 / 16, 5 / 16], atol=1e-9)
    # Matching pennies extended by a dominated row: NE (1/2, 1/2, 0) vs (1/2, 1/2).
    m = np.array([[1.0, -1.0], [-1.0, 1.0], [-2.0, -2.0]])
    x, y = nash().solve(m)
    np.testing.assert_allclose(x, [0.5, 0.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(y, [0.5, 0.5], atol=1e-9)


def test_uniform():
    x, y = uniform().solve(np.zeros((2, 5)))
    np.testing.assert_allclose(x, [0.5, 0.5])
    np.testing.assert_allclose(y, [0.2] * 5)


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (6, 7)])
def test_prd_matches_openspiel(shape):
    m = np.random.default_rng(sum(shape)).uniform(-1, 1, size=shape)
    ours = prd(iterations=3000, dt=1e-2, gamma=1e-3).solve(m)
    # Reference: OpenSpiel's projected_replicator_dynamics with the same parameters.
    ref = projected_replicator_dynamics.projected_replicator_dynamics(
        [m, -m], prd_iterations=3000, prd_dt=1e-2, prd_gamma=1e-3)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, atol=1e-9)


@pytest.mark.parametrize("shape", [(3, 3), (4, 9)])
def test_regret_matching_matches_openspiel(shape):
    m = np.random.default_rng(7 + sum(shape)).uniform(-1, 1, size=shape)
    ours = rm(iterations=2000, gamma=1e-4).solve(m)
    # Reference: OpenSpiel's regret_matching with the same parameters.
    ref = regret_matching.regret_matching([m, -m], iterations=2000, gamma=1e-4)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_default_rm_approaches_the_lp_nash():
    m = np.random.default_rng(3).uniform(-1, 1, size=(8, 6))
    x, y = make_meta_solver("rm").solve(m)
    # Average regret matching converges to a Nash equilibrium in zero-sum games
    # (Hart & Mas-Colell 2000); the LP gives the exact value to compare with.
    value = nash().solve(m)
    assert _gap(m, x, y) < 5e-3
    assert float(value[0] @ m @ value[1]) == pytest.approx(float(x @ m @ y), abs=5e-3)


def test_registered_solver_runs_through_the_registry():
    m = np.asarray(games.comal_3x3().matrix)
    meta = make_meta_solver("mpo", steps=15000, reset_every=500)
    x, y = meta.solve(m)
    assert meta.name == "mpo" and meta.config == {"steps": 15000, "reset_every": 500}
    # COMAL 3x3 game NE = (4/11, 3/11, 4/11) (Liu et al. 2024, Sec. 4).
    np.testing.assert_allclose(x, [4 / 11, 3 / 11, 4 / 11], atol=1e-8)
    np.testing.assert_allclose(y, [4 / 11, 3 / 11, 4 / 11], atol=1e-8)
    assert "mpo" in meta_solver_names() and "nash" in meta_solver_names()


def test_registered_solver_runs_on_power_of_two_meta_games(monkeypatch):
    # The meta-game is grown by copies of its strategies to power-of-two sides (one compiled
    # solver per size class); the copies' probabilities are added back. MPO's steps keep the
    # copies' ratio, so it returns what it returns on the meta-game itself; every solver's
    # answer is an equilibrium of the meta-game (NashConv from scratch).
    shapes = []
    original = driver.solve
    monkeypatch.setattr(driver, "solve", lambda game, *a, **k: (
        shapes.append(np.shape(game.matrix)), original(game, *a, **k))[1])
    rng = np.random.default_rng(8)
    for name in ("mpo", "pdhg", "tableau"):
        meta = make_meta_solver(name)
        for shape in [(5, 3), (6, 7), (1, 4)]:
            m = rng.uniform(-1, 1, size=shape)
            x, y = meta.solve(m)
            assert _gap(m, x, y) <= 1e-9
            if name == "mpo":  # the same profile as on the meta-game itself
                ref = original(games.matrix_game(m), make_solver("mpo"), 2000, record_every=2000)
                np.testing.assert_allclose(x, ref.last[0], atol=1e-12)
                np.testing.assert_allclose(y, ref.last[1], atol=1e-12)
    assert set(shapes) == {(8, 4), (8, 8), (2, 4)}


@pytest.mark.parametrize(
    "name,params,match",
    [
        ("sgd", {}, "unknown meta-solver"),
        ("prd", {"iterations": 0}, "positive integer"),
        ("prd", {"bogus": 1}, "bad parameter"),
        ("mpo", {"bogus": 1}, "no parameter bogus"),
        ("rm", {"gamma": 1.5}, "gamma"),
    ],
)
def test_meta_solver_errors(name, params, match):
    with pytest.raises(ValueError, match=match):
        make_meta_solver(name, **params)


def test_meta_game_must_be_finite():
    with pytest.raises(ValueError, match="finite"):
        nash().solve(np.array([[np.nan, 1.0]]))
