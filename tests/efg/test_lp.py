"""Sequence-form LP (scipy HiGHS) against known game values."""

import jax.numpy as jnp
import pytest
from efg_games import GOOFSPIEL, LIARS_DICE_3, load

from gametheory.efg.lp import solve_lp
from gametheory.efg.policies import check_plans


@pytest.mark.parametrize(
    "name, value",
    [
        ("kuhn_poker", -1 / 18),  # Kuhn game value = -1/18 (Kuhn 1950)
        ("leduc_poker", -0.0856064),  # Leduc value = -0.0856064 (OpenSpiel sequence_form_lp_test)
        (LIARS_DICE_3, 1 / 9),  # liars_dice(1,3) = 1/9 (OpenSpiel sequence_form_lp_test)
        ("liars_dice(numdice=1,dice_sides=4)", 0.0625),  # (OpenSpiel sequence_form_lp_test)
        (GOOFSPIEL, 0.0),  # symmetric game: value 0 (player symmetry of goofspiel)
    ],
)
def test_lp_value(name, value):
    game = load(name)
    v, plans = solve_lp(game)
    assert v == pytest.approx(value, abs=1e-6)
    check_plans(game, plans)
    plans = tuple(jnp.asarray(p) for p in plans)
    # An exact equilibrium: pyspiel-verified exploitability (see test_metrics) is ~0.
    assert float(game.exploitability(plans)) < 1e-8
    assert float(game.value(plans)) == pytest.approx(value, abs=1e-6)


def test_lp_accepts_game_string():
    # Kuhn game value = -1/18 (Kuhn 1950)
    assert solve_lp("kuhn_poker")[0] == pytest.approx(-1 / 18, abs=1e-9)
