"""Correlated and coarse-correlated equilibria: gaps, exact LPs and no-regret play."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory import correlated, games, solvers
from gametheory.lp import solve_zero_sum

# Chicken with payoffs (6,6) / (2,7) / (7,2) / (0,0) (action 0 = yield, 1 = dare).
CHICKEN = games.nplayer_game([[[6, 2], [7, 0]], [[6, 7], [2, 0]]], name="chicken")


def test_welfare_maximising_ce_of_chicken_is_ten_and_a_half():
    # Aumann 1974; Papadimitriou & Roughgarden 2008, Sec. 1: the CE putting 1/2 on
    # (yield, yield) and 1/4 on each (yield, dare), (dare, yield) has welfare 10.5, the most any
    # CE of this chicken attains (its Nash equilibria have welfare 9, 9 and 28/3).
    ce = correlated.correlated_equilibrium(CHICKEN)
    assert ce.welfare == pytest.approx(10.5, abs=1e-9)
    np.testing.assert_allclose(ce.joint, [[0.5, 0.25], [0.25, 0.0]], atol=1e-9)
    assert abs(ce.ce_gap) <= 1e-9 and abs(ce.cce_gap) <= 1e-9
    assert ce.payoffs == pytest.approx([5.25, 5.25], abs=1e-9)


def test_cce_lp_gives_every_player_the_value_of_a_zero_sum_game():
    # In a two-player zero-sum game every CCE pays the row player exactly the game value
    # (row >= best fixed action against the column marginal >= v, and symmetrically <= v).
    for game in (games.biased_rps(), games.random_zero_sum(5, 4, seed=2)):
        for kind in ("cce", "ce"):
            sol = correlated.correlated_equilibrium(game, kind=kind, objective="feasible")
            assert sol.payoffs[0] == pytest.approx(solve_zero_sum(game).value, abs=1e-8)
            assert sol.cce_gap <= 1e-9


def test_shapley_game_ce_with_welfare_one():
    # Shapley's game (Shapley 1964): no cell pays both players 1, so welfare <= 1; the uniform
    # distribution over the six off-diagonal cells is a CE attaining it (each recommendation
    # leaves the player indifferent between following and its best deviation).
    game = games.shapley_game()
    off_diagonal = (1 - np.eye(3)) / 6
    assert float(correlated.ce_gap(game, off_diagonal)) == pytest.approx(0.0, abs=1e-15)
    sol = correlated.correlated_equilibrium(game)
    assert sol.welfare == pytest.approx(1.0, abs=1e-9) and sol.ce_gap <= 1e-9


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6))
def test_product_profiles_cce_gap_is_nash_conv_and_ce_gap_is_larger(seed):
    # For independent policies the CCE deviation is a unilateral deviation: gap = NashConv.
    rng = np.random.default_rng(seed)
    game = games.nplayer_game(rng.normal(size=(3, 2, 3, 2)))
    policies = tuple(rng.dirichlet(np.ones(n)) for n in game.num_actions)
    joint = correlated.joint_distribution(policies)
    cce = float(correlated.cce_gap(game, joint))
    assert cce == pytest.approx(float(game.nash_conv(policies)), abs=1e-12)
    assert float(correlated.ce_gap(game, joint)) >= cce - 1e-12


def test_mwu_average_play_reaches_a_cce_on_shapley_while_the_last_iterate_cycles():
    # Hedge has vanishing external regret (Freund & Schapire 1999), so its empirical play
    # approaches the CCE set; on Shapley's game no last iterate approaches the unique Nash
    # equilibrium (uniform), as for fictitious play (Shapley 1964).
    game = games.shapley_game()
    rng = np.random.default_rng(0)
    start = tuple(rng.dirichlet(np.ones(3)) for _ in range(2))
    play = correlated.empirical_play(game, solvers.mwu(lr=0.1), 10_000, initial=start)
    assert int(play.steps[-1]) == 10_000
    assert float(play.cce_gap[-1]) < 1e-2
    assert float(play.ce_gap[-1]) > 0.1  # not a correlated equilibrium
    from gametheory.driver import solve

    last = np.asarray(solve(game, solvers.mwu(lr=0.1), 10_000, initial=start)
                      .exploitability_last)
    assert last[len(last) // 2:].min() > 0.1


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="shape"):
        correlated.cce_gap(CHICKEN, np.ones((3, 2)) / 6)
    with pytest.raises(ValueError, match="kind must be"):
        correlated.correlated_equilibrium(CHICKEN, kind="nash")
    with pytest.raises(ValueError, match="objective"):
        correlated.correlated_equilibrium(CHICKEN, objective=[1.0])
    with pytest.raises(ValueError, match="normal-form"):
        correlated.payoff_tensor(object())
    with pytest.raises(ValueError, match="negative"):
        correlated.empirical_play(CHICKEN, solvers.mwu(), 10, initial=([-1, 2], [1, 0]))
