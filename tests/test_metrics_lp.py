"""Metrics against OpenSpiel's NashConv, and the HiGHS LP against known equilibria."""

import jax
import jax.numpy as jnp
import numpy as np
import pyspiel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from open_spiel.python import policy as openspiel_policy
from open_spiel.python.algorithms import exploitability as openspiel_exploitability

from gametheory import games, metrics
from gametheory.lp import solve_zero_sum


def _openspiel_nash_conv(spiel_game, policies):
    """NashConv of a profile on the turn-based conversion of an OpenSpiel matrix game."""
    turn_based = pyspiel.convert_to_turn_based(spiel_game)
    tab = openspiel_policy.TabularPolicy(turn_based)
    state = turn_based.new_initial_state()
    for p in policies:
        row = tab.policy_for_key(state.information_state_string())  # padded to max #actions
        row[:] = 0.0
        row[: len(p)] = np.asarray(p)
        state.apply_action(0)
    return openspiel_exploitability.nash_conv(turn_based, tab)


@pytest.mark.parametrize("seed", range(5))
def test_nash_conv_matches_openspiel_on_matrix_games(seed):
    m = np.random.default_rng(seed).uniform(-1, 1, size=(3, 4))
    spiel_game = pyspiel.create_matrix_game(m.tolist(), (-m).tolist())
    x, y = (jax.random.dirichlet(k, jnp.ones(n))
            for k, n in zip(jax.random.split(jax.random.PRNGKey(seed)), (3, 4)))
    ours = games.matrix_game(m).nash_conv((x, y))
    assert float(ours) == pytest.approx(_openspiel_nash_conv(spiel_game, (x, y)), abs=1e-10)


def test_nash_conv_matches_openspiel_on_three_player_game():
    # OpenSpiel's matching_pennies_3p, a 3-player normal-form game.
    spiel_game = pyspiel.load_game("matching_pennies_3p")
    payoffs = np.zeros((3, 2, 2, 2))
    for a in np.ndindex(2, 2, 2):
        state = spiel_game.new_initial_state()
        state.apply_actions(list(a))
        payoffs[(slice(None), *a)] = state.returns()
    g = games.nplayer_game(payoffs)
    policies = tuple(jnp.asarray([p, 1 - p]) for p in (0.2, 0.7, 0.45))
    ref = _openspiel_nash_conv(spiel_game, policies)
    assert float(g.nash_conv(policies)) == pytest.approx(ref, abs=1e-10)
    assert float(metrics.exploitability(g, policies)) == pytest.approx(ref / 3, abs=1e-10)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 8), n=st.integers(1, 8))
def test_exploitability_nonnegative_and_zero_at_lp_solution(seed, m, n):
    g = games.random_zero_sum(m, n, seed=seed)
    key_x, key_y = jax.random.split(jax.random.PRNGKey(seed))
    x, y = jax.random.dirichlet(key_x, jnp.ones(m)), jax.random.dirichlet(key_y, jnp.ones(n))
    assert float(g.exploitability((x, y))) >= -1e-12
    sol = solve_zero_sum(g)
    assert float(g.exploitability((jnp.asarray(sol.row), jnp.asarray(sol.col)))) < 1e-9
    # Value: x*^T A y* equals the LP value.
    assert float(sol.row @ np.asarray(g.payoffs) @ sol.col) == pytest.approx(sol.value, abs=1e-9)


def test_regularized_gap_vanishes_at_published_qre():
    # Perturbed RPS QRE at temp 0.1 = [0.17347803, 0.48630324, 0.34021873] (MMD paper code,
    # examples/nfg/perturbed_rps.py); 8 printed digits bound the gap near 1e-8.
    qre = jnp.asarray([0.17347803, 0.48630324, 0.34021873])
    g = games.perturbed_rps()
    assert float(metrics.regularized_gap(g, (qre, qre), 0.1)) < 1e-7
    assert float(metrics.regularized_gap(g, g.uniform_policies(), 0.1)) > 1e-3
    assert float(metrics.exploitability(g, (qre, qre))) > 1e-3  # a QRE is not a Nash


def test_duality_gap_is_nash_conv_and_rejects_nplayer():
    g = games.biased_rps()
    p = g.uniform_policies()
    assert float(metrics.duality_gap(g, p)) == pytest.approx(float(metrics.nash_conv(g, p)))
    three = games.nplayer_game(np.zeros((3, 2, 2, 2)))
    with pytest.raises(ValueError, match="two-player"):
        metrics.duality_gap(three, three.uniform_policies())


def test_lp_value_of_blotto_and_kuhn_tops_is_zero():
    # Symmetric zero-sum games (antisymmetric matrices) have value 0 (von Neumann).
    for name in ("5_3_blotto", "kuhn_poker"):
        assert solve_zero_sum(games.spinning_top(name)).value == pytest.approx(0.0, abs=1e-9)


def test_lp_rejects_bad_matrix():
    with pytest.raises(ValueError, match="NaN or inf"):
        solve_zero_sum(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="2-D"):
        solve_zero_sum(np.ones(3))


def test_zero_sum_apis_refuse_general_sum_games_naming_the_alternative():
    shapley = games.shapley_game()
    with pytest.raises(ValueError, match="general-sum.*correlated_equilibrium"):
        solve_zero_sum(shapley)
    with pytest.raises(ValueError, match="3-player"):
        solve_zero_sum(games.nplayer_game(np.zeros((3, 2, 2, 2))))
    with pytest.raises(ValueError, match="cce_gap"):
        metrics.duality_gap(shapley, shapley.uniform_policies())
    # A zero-sum game written as a [2, m, n] tensor is accepted: matching pennies, value 0.
    pennies = games.nplayer_game([[[1, -1], [-1, 1]], [[-1, 1], [1, -1]]])
    assert solve_zero_sum(pennies).value == pytest.approx(0.0, abs=1e-12)
