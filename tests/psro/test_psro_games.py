"""PSRO's bilinear view of a game: exact meta-game entries and mixture exploitability,
checked against OpenSpiel, and the errors for games two-player PSRO does not handle."""

import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy as os_policy
from open_spiel.python.algorithms import exploitability as os_exploitability
from open_spiel.python.algorithms import policy_aggregator

from gametheory import games
from gametheory.efg import plans_to_tabular_policy
from gametheory.psro import as_psro_game, run_psro


def _pyspiel_policy(game, plans):
    """A C++ TabularPolicy of both players' behavioural policies of ``plans``."""
    from gametheory.efg import to_pyspiel_policy

    return pyspiel.TabularPolicy(to_pyspiel_policy(game.game, plans))


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
def test_meta_game_entries_equal_openspiel_expected_returns(name, request):
    space = request.getfixturevalue(name)
    result = run_psro(space, 4, tol=0.0)
    rows, cols = result.population(0), result.population(1)
    os_game = pyspiel.load_game(space.game.info.game_string)
    for i in range(len(rows)):
        for j in range(len(cols)):
            plans_i = (rows[i], space.uniform(1))
            plans_j = (space.uniform(0), cols[j])
            # Reference: OpenSpiel's exact tree walk of the two policies' expected returns.
            ret = pyspiel.expected_returns(
                os_game.new_initial_state(),
                [_pyspiel_policy(space, plans_i), _pyspiel_policy(space, plans_j)], -1, True)
            assert result.meta_game[i, j] == pytest.approx(ret[0], abs=1e-9)
            assert ret[0] + ret[1] == pytest.approx(0.0, abs=1e-12)


def test_mixture_exploitability_equals_openspiel_on_aggregated_policy(kuhn, leduc):
    for space, iterations in ((kuhn, 3), (leduc, 6)):
        result = run_psro(space, iterations, tol=0.0)
        os_game = pyspiel.load_game(space.game.info.game_string)
        # Reference 1: pyspiel.exploitability of the exported meta-mixture.
        ref = pyspiel.exploitability(os_game, _pyspiel_policy(space, result.mixture()))
        assert result.exploitability[-1] == pytest.approx(ref, abs=1e-9)
        # Reference 2: OpenSpiel's PolicyAggregator, which mixes the members' behavioural
        # policies by their reach (as psro_v2 does), then its Python exploitability.
        members = [[plans_to_tabular_policy(space.game, (x, space.uniform(1)), os_game)
                    for x in result.population(0)],
                   [plans_to_tabular_policy(space.game, (space.uniform(0), y), os_game)
                    for y in result.population(1)]]
        aggregated = policy_aggregator.PolicyAggregator(os_game).aggregate(
            [0, 1], members, [list(s) for s in result.meta_strategies])
        ref2 = os_exploitability.exploitability(os_game, aggregated)
        assert result.exploitability[-1] == pytest.approx(ref2, abs=1e-9)
        assert isinstance(result.tabular_policy(), os_policy.TabularPolicy)


def test_symmetric_detection_and_payoff_block():
    # Spinning tops are antisymmetric (Czarnecki et al. 2020; data/SPINNING_TOPS.md).
    space = as_psro_game("spinning_top:5_3_blotto")
    assert space.symmetric and space.kind == "normal_form"
    assert as_psro_game(games.biased_rps()).symmetric  # its matrix satisfies A = -A^T
    assert not as_psro_game(np.array([[1.0, 2.0], [3.0, 4.0]])).symmetric
    a = np.asarray(games.spinning_top("rps").payoffs)
    x = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    y = np.array([[0.1, 0.1, 0.8]])
    block = as_psro_game(a).payoff_block(x, y)
    assert block.shape == (2, 1)
    np.testing.assert_allclose(block, x @ a @ y.T, atol=1e-15)


@pytest.mark.parametrize(
    "game,match",
    [
        (games.shapley_game(), "zero-sum"),
        (games.nplayer_game(np.zeros((3, 2, 2, 2))), "3 players"),
        ("kuhn_poker(players=3)", "3 players"),
        ("kuhn_poker(players=two)", "cannot load"),
        ("no_such_game", "unknown game"),
        (object(), "cannot use"),
    ],
)
def test_bad_games_give_one_clear_error(game, match):
    with pytest.raises(ValueError, match=match):
        as_psro_game(game)


def test_general_sum_openspiel_game_is_refused():
    # OpenSpiel's matrix_pd (prisoner's dilemma) is general-sum.
    with pytest.raises(ValueError, match="zero-sum|ZERO_SUM"):
        run_psro("matrix_pd", 3)
