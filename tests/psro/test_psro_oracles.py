"""Best-response oracles and parameterised policies against exact best responses."""

import jax
import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy as os_policy
from open_spiel.python.algorithms import best_response as os_best_response

from gametheory.psro import as_psro_game, exact, gradient, make_oracle, mlp_policy
from gametheory.psro.features import information_state_features


@pytest.mark.parametrize("player", [0, 1])
def test_exact_oracle_value_equals_openspiel_best_response(kuhn, player):
    opponent = kuhn.uniform(1 - player)
    br, params = exact().respond(kuhn, player, opponent, None, None)
    assert params is None
    os_game = pyspiel.load_game("kuhn_poker")
    # Reference: OpenSpiel's Python best response to the uniform random policy.
    ref = os_best_response.BestResponsePolicy(
        os_game, player, os_policy.UniformRandomPolicy(os_game)).value(
        os_game.new_initial_state())
    assert float(kuhn.utility(player, opponent) @ br) == pytest.approx(ref, abs=1e-12)
    assert set(np.unique(br)) <= {0.0, 1.0}  # a pure realization plan


def test_gradient_oracle_tabular_approaches_the_best_response(kuhn):
    opponent = kuhn.uniform(1)
    q = kuhn.utility(0, opponent)
    best = q @ kuhn.best_response(0, opponent)
    short = gradient(steps=2, lr=0.1)
    long = gradient(steps=400, lr=0.1)
    values = []
    for oracle in (short, long):
        fresh = oracle.scratch(kuhn, 0, jax.random.PRNGKey(0))
        np.testing.assert_allclose(oracle.play(kuhn, 0, fresh), kuhn.uniform(0), atol=1e-12)
        strategy, params = oracle.respond(kuhn, 0, opponent, fresh, None)
        kuhn.check_strategy(0, strategy)
        values.append(q @ strategy)
    assert values[0] < best - 0.05  # two steps: far from the best response
    assert values[1] == pytest.approx(best, abs=1e-3)


def test_gradient_oracle_on_a_matrix_game():
    space = as_psro_game("spinning_top:10_3_blotto")
    opponent = space.uniform(1)
    q = space.utility(0, opponent)
    strategy, _ = gradient(steps=300, lr=0.1).respond(space, 0, opponent, None,
                                                      jax.random.PRNGKey(1))
    assert strategy.sum() == pytest.approx(1.0)
    assert q @ strategy == pytest.approx(q.max(), abs=1e-3)


def test_information_state_features_match_openspiel(kuhn):
    feats = information_state_features(kuhn.game)
    os_game = pyspiel.load_game("kuhn_poker")
    state = os_game.new_initial_state()
    state.apply_action(2)  # player 0 holds the king
    state.apply_action(0)
    key = state.information_state_string(0)
    row = kuhn.game.info.infosets[0].index(key)
    # Reference: OpenSpiel's information_state_tensor at that infoset.
    np.testing.assert_array_equal(feats[0][row], state.information_state_tensor(0))
    assert feats[0].shape == (len(kuhn.game.info.infosets[0]), 11)


def test_mlp_policy_starts_uniform_and_learns_a_best_response(kuhn):
    net = mlp_policy(kuhn, 1, hidden=(32,))
    params = net.init(jax.random.PRNGKey(3))
    np.testing.assert_allclose(net.apply(params), kuhn.uniform(1), atol=1e-12)
    opponent = kuhn.uniform(0)
    q = kuhn.utility(1, opponent)
    best = q @ kuhn.best_response(1, opponent)
    oracle = gradient(steps=300, lr=0.05, policy="mlp", hidden=(32,))
    strategy, params = oracle.respond(kuhn, 1, opponent, None, jax.random.PRNGKey(3))
    assert len(params) == 4 and q @ strategy == pytest.approx(best, abs=1e-2)


@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: gradient(steps=0), "positive integer"),
        (lambda: gradient(lr=-1.0), "positive"),
        (lambda: gradient(policy="cnn"), "unknown policy"),
        (lambda: make_oracle("dqn"), "unknown oracle"),
        (lambda: mlp_policy(as_psro_game("rps"), 0), "information-state"),
    ],
)
def test_oracle_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()
