"""Team games: construction, validation, payoffs and best responses against OpenSpiel."""

import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy as policy_lib
from open_spiel.python.algorithms import best_response as os_best_response
from open_spiel.python.algorithms import expected_game_score

from gametheory.teams import (
    TeamMixture,
    adversary_best_response,
    heterogeneous_team_game,
    normal_form_team_game,
    openspiel_team_game,
    team_best_response,
    team_game,
)
from gametheory.teams.plans import (
    best_response_plans,
    clean_plan,
    count_pure_plans,
    enumerate_pure_plans,
)

KUHN3 = "kuhn_poker(players=3)"


def _random_tabular(game, rng):
    pol = policy_lib.TabularPolicy(game)
    probs = rng.random(pol.action_probability_array.shape) * pol.legal_actions_mask
    pol.action_probability_array = probs / probs.sum(axis=1, keepdims=True)
    return pol


def _plan_of(tree, tabular):
    """Realization plan of a player's tabular policy (top-down over the player's infosets)."""
    x = np.zeros(tree.num_sequences)
    x[0] = 1.0
    for i in range(tree.num_infosets):  # infosets are sorted by level: parents come first
        probs = tabular.policy_for_key(tree.keys[i])
        for k, a in enumerate(tree.actions[i]):
            if a >= 0:
                x[tree.seq_index[i, k]] = x[tree.parent[i]] * probs[a]
    return x


@pytest.mark.parametrize("adversary", [0, 1, 2])
def test_team_value_matches_openspiel_expected_returns(adversary):
    rng = np.random.default_rng(adversary)
    os_game = pyspiel.load_game(KUHN3)
    game = openspiel_team_game(KUHN3, adversary=adversary)
    assert game.team == tuple(p for p in range(3) if p != adversary)
    for _ in range(3):
        pol = _random_tabular(os_game, rng)
        returns = expected_game_score.policy_value(os_game.new_initial_state(), [pol] * 3)
        plans = [_plan_of(t, pol) for t in game.trees]
        mixture = TeamMixture(np.ones(1), tuple(plans[p][None] for p in game.team))
        # OpenSpiel's expected returns: team value = sum of the team's returns = -adversary's.
        assert game.value(mixture, plans[adversary]) == pytest.approx(-returns[adversary],
                                                                      abs=1e-12)
        assert game.value(mixture, plans[adversary]) == pytest.approx(
            sum(returns[p] for p in game.team), abs=1e-12)


@pytest.mark.parametrize("adversary", [0, 1, 2])
def test_adversary_best_response_matches_openspiel(adversary):
    rng = np.random.default_rng(10 + adversary)
    os_game = pyspiel.load_game(KUHN3)
    game = openspiel_team_game(KUHN3, adversary=adversary)
    for _ in range(3):
        pol = _random_tabular(os_game, rng)
        plans = [_plan_of(t, pol) for t in game.trees]
        mixture = TeamMixture(np.ones(1), tuple(plans[p][None] for p in game.team))
        br = os_best_response.BestResponsePolicy(os_game, adversary, pol)
        # OpenSpiel's exact best-response value of the adversary = -(team's guaranteed value).
        assert adversary_best_response(game, mixture)[0] == pytest.approx(
            -br.value(os_game.new_initial_state()), abs=1e-12)


def test_reduced_pure_plan_counts_and_enumeration():
    game = openspiel_team_game(KUHN3, adversary=2)
    # Per card, player 0: bet, or check then call/fold at 3 later infosets: 1 + 2^3 = 9;
    # player 1: 2 responses to a bet x (bet, or check then call/fold at 2 infosets) = 2 * 5;
    # player 2: 4 infosets, 2 actions each, no own follow-ups: 16. Four cards: ^4.
    assert [count_pure_plans(t) for t in game.trees] == [9**4, 10**4, 16**4]
    rng = np.random.default_rng(0)
    for tree in game.trees[:2]:
        plans = enumerate_pure_plans(tree)
        assert len(np.unique(plans, axis=0)) == len(plans)
        for _ in range(5):
            u = rng.normal(size=tree.num_sequences)
            # The DP best response equals the best enumerated plan.
            assert best_response_plans(tree, u)[0] == pytest.approx((plans @ u).max(), abs=1e-12)


def test_clean_plan_is_exact():
    tree = openspiel_team_game(KUHN3, adversary=2).trees[0]
    rng = np.random.default_rng(1)
    x = best_response_plans(tree, rng.normal(size=tree.num_sequences))[1]
    y = clean_plan(tree, 0.5 * x + 0.5 * best_response_plans(tree, rng.normal(
        size=tree.num_sequences))[1] + 1e-12)
    for i in range(tree.num_infosets):
        s = tree.seq_index[i][tree.seq_index[i] >= 0]
        assert y[s].sum() == pytest.approx(y[tree.parent[i]], abs=1e-15)


def test_two_player_kuhn_as_a_team_of_one():
    game = openspiel_team_game("kuhn_poker", adversary=1)
    from gametheory.teams import solve_tmecor

    # Kuhn game value = -1/18 for player 0 (Kuhn 1950): a team of one is a zero-sum game.
    assert solve_tmecor(game).value == pytest.approx(-1 / 18, abs=1e-12)


def test_heterogeneous_team_best_response_closed_form():
    game = heterogeneous_team_game()
    for q in (0.0, 0.3, 0.5, 0.9):
        y = np.array([1.0, 1 - q, q])  # adversary plays b = 1 with probability q
        # Best joint plan: (1, 0) wins iff b = 1 -> 2q - 1; (0, 1) -> 1 - 2q.
        assert team_best_response(game, y)[0] == pytest.approx(abs(2 * q - 1), abs=1e-12)
        # Identical actions never win: -1 whatever the adversary does.
        assert team_best_response(game, y, shared=True)[0] == pytest.approx(-1.0, abs=1e-12)


def test_bad_inputs_give_one_clear_error():
    payoffs = np.zeros((3, 2, 2, 2))
    with pytest.raises(ValueError, match="not a partition"):
        normal_form_team_game(payoffs, adversary=2, team=(0, 2))
    with pytest.raises(ValueError, match="not a partition"):
        normal_form_team_game(payoffs, adversary=2, team=(0,))
    with pytest.raises(ValueError, match="not a partition"):
        openspiel_team_game(KUHN3, adversary=0, team=(1, 1, 2))
    with pytest.raises(ValueError, match="out of range"):
        normal_form_team_game(payoffs, adversary=3)
    with pytest.raises(ValueError, match="out of range"):
        team_game(KUHN3, adversary=-1)
    payoffs[0, 1, 1, 1] = 1.0
    with pytest.raises(ValueError, match="not zero-sum"):
        normal_form_team_game(payoffs, adversary=2)
    with pytest.raises(ValueError, match="not zero-sum"):
        team_game("matrix_pd", adversary=1)  # prisoner's dilemma: general-sum
    with pytest.raises(ValueError, match="shape"):
        normal_form_team_game(np.zeros((3, 2, 2)), adversary=0)
    with pytest.raises(ValueError, match="non-finite"):
        normal_form_team_game(np.full((3, 2, 2, 2), np.nan), adversary=0)
