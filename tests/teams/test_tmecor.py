"""Exact TMECor: certified by exact best responses, checked against direct LPs."""

import numpy as np
import pytest

from gametheory.teams import (
    adversary_best_response,
    heterogeneous_team_game,
    matching_bits_team_game,
    normal_form_team_game,
    openspiel_team_game,
    solve_joint_plan_lp,
    solve_semi_randomized_lp,
    solve_tmecor,
    team_best_response,
    tmecor_gap,
)

KUHN3 = "kuhn_poker(players=3)"
# 3-player Kuhn TMECor values (team total utility), adversary = player 0, 1, 2. Computed by
# column generation and, independently, by the semi-randomized LP (Farina et al., ICML 2021)
# in test_semi_randomized_lp_agrees_on_kuhn (slow): 5/132, 7/264, -1/24. No published table
# for OpenSpiel's 4-card 3-player Kuhn was found; the certificate below is the bracket.
KUHN3_VALUES = {0: 5 / 132, 1: 7 / 264, 2: -1 / 24}


@pytest.mark.parametrize("adversary", [0, 1, 2])
def test_kuhn3_tmecor_is_certified_by_exact_best_responses(adversary):
    game = openspiel_team_game(KUHN3, adversary=adversary)
    sol = solve_tmecor(game)
    # The adversary's exact best response to the final team mixture and the team's exact best
    # response (enumerate one teammate, DP for the other) to the final adversary plan bracket
    # the value; an exact TMECor closes the bracket.
    lower = adversary_best_response(game, sol.team)[0]
    upper = team_best_response(game, sol.adversary)[0]
    assert upper - lower <= 1e-9
    assert lower - 1e-12 <= sol.value <= upper + 1e-12
    assert sol.value == pytest.approx(KUHN3_VALUES[adversary], abs=1e-9)
    assert np.all(sol.team.weights > 0) and sol.team.weights.sum() == pytest.approx(1.0)
    assert tmecor_gap(game, sol.team, sol.adversary) <= 1e-9


@pytest.mark.parametrize(
    "make, value",
    [
        # Team wins iff (a0, a1) = (b, 1 - b), payoffs +1 / -1: value 0 (uniform on (0,1),(1,0)).
        (heterogeneous_team_game, 0.0),
        # Team wins 1 iff its bits match and differ from the adversary's: value 1/2.
        (matching_bits_team_game, 0.5),
    ],
)
def test_small_team_games_agree_with_direct_lps(make, value):
    game = make()
    lp_value, mixture, y = solve_joint_plan_lp(game)
    assert lp_value == pytest.approx(value, abs=1e-12)
    sol = solve_tmecor(game)
    assert sol.value == pytest.approx(value, abs=1e-12)
    assert sol.upper - sol.lower <= 1e-12
    assert solve_semi_randomized_lp(game) == pytest.approx(value, abs=1e-9)
    # The joint-plan LP's strategies are an equilibrium too.
    assert tmecor_gap(game, mixture, y) <= 1e-12


def test_heterogeneous_tmecor_uses_distinct_roles():
    sol = solve_tmecor(heterogeneous_team_game())
    # Both optimal joint plans give the teammates different actions: (0, 1) and (1, 0).
    a0 = sol.team.plans[0][:, 1:].argmax(axis=1)
    a1 = sol.team.plans[1][:, 1:].argmax(axis=1)
    assert np.all(a0 != a1)
    assert sol.team.weights == pytest.approx([0.5, 0.5], abs=1e-12)


def test_tmecor_gap_of_a_non_equilibrium_profile():
    game = heterogeneous_team_game()
    team = game.pure_mixture((np.array([1.0, 1.0, 0.0]), np.array([1.0, 1.0, 0.0])))  # (0, 0)
    y = np.array([1.0, 0.5, 0.5])
    # Team best response to a uniform adversary: 0 (win half the time); the adversary's best
    # response to (0, 0): -1 (the team never wins). Gap 1.
    assert tmecor_gap(game, team, y) == pytest.approx(1.0, abs=1e-12)


def test_infeasible_enumeration_is_a_clear_error():
    game = openspiel_team_game(KUHN3, adversary=2)
    with pytest.raises(ValueError, match="max_plans"):
        solve_tmecor(game, max_plans=100)
    with pytest.raises(ValueError, match="max_columns"):
        solve_joint_plan_lp(game)


@pytest.mark.slow
@pytest.mark.parametrize("adversary", [0, 1, 2])
def test_semi_randomized_lp_agrees_on_kuhn(adversary):
    # An LP with no column generation and no team best response: one teammate's pure plans
    # enumerated, the other's conditional mixtures as scaled realization plans.
    game = openspiel_team_game(KUHN3, adversary=adversary)
    assert solve_semi_randomized_lp(game) == pytest.approx(KUHN3_VALUES[adversary], abs=1e-7)


def test_three_teammates_agree_with_the_joint_plan_lp():
    # A random zero-sum 4-player game, players 0-2 against 3: the enumeration of two
    # teammates' plans (product) plus DP for the third must match the LP over all 12 joint
    # pure plans, and the LP where one teammate randomises.
    rng = np.random.default_rng(0)
    payoffs = rng.normal(size=(4, 2, 3, 2, 3))
    payoffs[3] = -payoffs[:3].sum(axis=0)
    game = normal_form_team_game(payoffs, adversary=3)
    value = solve_joint_plan_lp(game)[0]
    sol = solve_tmecor(game)
    assert sol.value == pytest.approx(value, abs=1e-9)
    assert sol.upper - sol.lower <= 1e-9
    assert solve_semi_randomized_lp(game) == pytest.approx(value, abs=1e-7)


def test_shared_best_response_is_the_best_common_action():
    rng = np.random.default_rng(1)
    payoffs = rng.normal(size=(4, 2, 2, 2, 3))
    payoffs[3] = -payoffs[:3].sum(axis=0)
    game = normal_form_team_game(payoffs, adversary=3)
    y = np.array([1.0, 0.2, 0.5, 0.3])
    team_u = payoffs[:3].sum(axis=0) @ y[1:]  # team utility of each joint action (brute force)
    assert team_best_response(game, y)[0] == pytest.approx(team_u.max(), abs=1e-12)
    value, plans = team_best_response(game, y, shared=True)
    assert value == pytest.approx(max(team_u[a, a, a] for a in range(2)), abs=1e-12)
    actions = [int(np.argmax(x[1:])) for x in plans]
    assert len(set(actions)) == 1
    with pytest.raises(ValueError, match="same actions"):
        team_best_response(normal_form_team_game(np.zeros((3, 2, 3, 2)), adversary=2),
                           np.array([1.0, 0.5, 0.5]), shared=True)
