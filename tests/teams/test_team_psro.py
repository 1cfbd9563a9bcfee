"""Team-PSRO and H-PSRO: exact gaps, the heterogeneous-roles failure of sharing, resume."""

import numpy as np
import pytest

from gametheory.teams import (
    heterogeneous_team_game,
    matching_bits_team_game,
    openspiel_team_game,
    team_psro,
)
from gametheory.teams.checkpoint import load_checkpoint

KUHN3 = "kuhn_poker(players=3)"


def test_h_psro_solves_the_heterogeneous_game_where_shared_team_psro_stalls():
    game = heterogeneous_team_game()  # team value 0 (closed form, see the game's docstring)
    h = team_psro(game, "h-psro", iterations=20)
    assert h.converged and h.gap[-1] <= 1e-6
    assert h.lower[-1] == pytest.approx(0.0, abs=1e-9)
    shared = team_psro(game, "team", iterations=20, shared=True)
    # One shared policy plays (a, a) and always loses: the team guarantees -1 while the
    # adversary's mixture concedes 1 to the unrestricted joint best response (b, 1 - b).
    assert shared.stalled and not shared.converged
    assert shared.gap[-1] == pytest.approx(2.0, abs=1e-12)
    assert shared.lower[-1] == pytest.approx(-1.0, abs=1e-12)
    joint = team_psro(game, "team", iterations=20)
    assert joint.converged and joint.gap[-1] <= 1e-6


def test_shared_team_psro_is_fine_when_roles_agree():
    # In matching bits the optimal joint plans (0, 0) and (1, 1) are symmetric: value 1/2.
    result = team_psro(matching_bits_team_game(), "team", iterations=20, shared=True)
    assert result.converged and result.lower[-1] == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("adversary", [2, pytest.param(0, marks=pytest.mark.slow),
                                       pytest.param(1, marks=pytest.mark.slow)])
def test_kuhn3_h_psro_gap_decreases_and_ends_no_higher_than_team_psro(adversary):
    game = openspiel_team_game(KUHN3, adversary=adversary)
    h = team_psro(game, "h-psro", iterations=60)
    team = team_psro(game, "team", iterations=60)
    assert np.all(h.gap >= -1e-12)
    assert h.gap[-1] < h.gap[0]
    assert h.gap[-1] <= team.gap[-1] + 1e-9
    assert h.converged and h.gap[-1] <= 1e-9
    # The bounds bracket the exact TMECor value (5/132, 7/264, -1/24; see test_tmecor.py).
    value = {0: 5 / 132, 1: 7 / 264, 2: -1 / 24}[adversary]
    assert np.all(h.lower <= value + 1e-9) and np.all(h.upper >= value - 1e-9)
    assert h.lower[-1] == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize("variant, shared", [("h-psro", False), ("team", True)])
def test_resume_equals_uninterrupted(tmp_path, variant, shared):
    game = openspiel_team_game(KUHN3, adversary=1)
    full = team_psro(game, variant, iterations=8, shared=shared, seed=3,
                     checkpoint=tmp_path / "full")
    part = team_psro(game, variant, iterations=4, shared=shared, seed=3,
                     checkpoint=tmp_path / "run")
    assert len(part.gap) == 4
    resumed = team_psro(game, variant, iterations=8, shared=shared, seed=3,
                        checkpoint=tmp_path / "run", resume=True)
    for key in ("gap", "lower", "upper", "meta_value", "oracle_value", "team_size",
                "adversary_size"):
        np.testing.assert_array_equal(getattr(resumed, key), getattr(full, key))
    np.testing.assert_array_equal(resumed.team.weights, full.team.weights)
    for a, b in zip(resumed.team.plans, full.team.plans):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(resumed.adversary, full.adversary)
    # The saved states agree too: populations, meta-game, meta-strategies, RNG state.
    (arr_full, meta_full), (arr_res, meta_res) = (load_checkpoint(tmp_path / d)
                                                  for d in ("full", "run"))
    assert meta_res["rng_state"] == meta_full["rng_state"]
    assert meta_res["iterations"] == meta_full["iterations"] == len(full.gap)
    timing = {"history_seconds", "history_eval_seconds"}
    assert set(arr_res) == set(arr_full)
    for key in set(arr_full) - timing:
        np.testing.assert_array_equal(arr_res[key], arr_full[key], err_msg=key)
    # Wall times continue from the checkpoint instead of restarting at zero.
    assert np.all(np.diff(resumed.seconds) >= 0)


def test_resume_refuses_another_runs_checkpoint(tmp_path):
    game = heterogeneous_team_game()
    team_psro(game, "h-psro", iterations=2, checkpoint=tmp_path)
    with pytest.raises(ValueError, match="another run"):
        team_psro(game, "team", iterations=2, checkpoint=tmp_path, resume=True)


def test_bad_arguments():
    game = heterogeneous_team_game()
    with pytest.raises(ValueError, match="unknown variant"):
        team_psro(game, "psro-rn")
    with pytest.raises(ValueError, match="shared=True"):
        team_psro(game, "h-psro", shared=True)
    with pytest.raises(ValueError, match="iterations"):
        team_psro(game, "team", iterations=0)
    with pytest.raises(ValueError, match="max_starts"):
        team_psro(game, "h-psro", max_starts=0)
    with pytest.raises(ValueError, match="exact_gap=False"):
        team_psro(game, "team", exact_gap=False)
    with pytest.raises(ValueError, match="TeamGame"):
        team_psro(np.zeros((3, 2, 2, 2)), "team")
