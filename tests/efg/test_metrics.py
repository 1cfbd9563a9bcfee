"""Exact exploitability against pyspiel, and the regularised gap against OpenSpiel's MMD."""

import jax
import jax.numpy as jnp
import numpy as np
import pyspiel
import pytest
from efg_games import EXPLOITABILITY_GAMES, load
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.efg import (
    behavioural_to_plans,
    random_behavioural,
    to_pyspiel_policy,
    uniform_plans,
)
from gametheory.efg.metrics import best_responses, regularized_gap

N_POLICIES = 100


@pytest.mark.parametrize("name", EXPLOITABILITY_GAMES)
def test_exploitability_matches_pyspiel_on_random_policies(name):
    game = load(name)
    os_game = pyspiel.load_game(game.info.game_string)
    keys = jax.random.split(jax.random.PRNGKey(0), N_POLICIES)
    # Mix of Dirichlet concentrations: near-deterministic to near-uniform policies.
    conc = np.geomspace(0.05, 5.0, N_POLICIES)
    plans = [behavioural_to_plans(game, random_behavioural(k, game, float(c)))
             for k, c in zip(keys, conc)]
    batch = jax.tree.map(lambda *xs: jnp.stack(xs), *plans)
    ours = np.asarray(jax.jit(jax.vmap(game.exploitability))(batch))
    # Reference: OpenSpiel's C++ best-response exploitability of the same behavioural policies.
    theirs = np.array([pyspiel.exploitability(os_game, to_pyspiel_policy(game, p))
                       for p in plans])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "name, nash_conv",
    [
        ("kuhn_poker", 11 / 12),  # Kuhn uniform NashConv = 11/12 (OpenSpiel exploitability_test)
        # Leduc uniform NashConv = 4.747222 (OpenSpiel exploitability_test)
        ("leduc_poker", 4.747222222222222),
    ],
)
def test_uniform_nash_conv(name, nash_conv):
    game = load(name)
    assert float(game.nash_conv(uniform_plans(game))) == pytest.approx(nash_conv, abs=1e-9)


def test_best_responses_attain_best_response_values(leduc):
    plans = behavioural_to_plans(leduc, random_behavioural(jax.random.PRNGKey(3), leduc))
    br_x, br_y = best_responses(leduc, plans)
    x, y = plans
    # NashConv = gain of each best response; compare with pyspiel's NashConv.
    gain = leduc.value((br_x, y)) - leduc.value((x, br_y))
    os_game = pyspiel.load_game("leduc_poker")
    ref = pyspiel.nash_conv(os_game, pyspiel.TabularPolicy(to_pyspiel_policy(leduc, plans)))
    assert float(gain) == pytest.approx(ref, abs=1e-9)


def test_regularized_gap_matches_openspiel_mmd(kuhn):
    # OpenSpiel MMDDilatedEnt.get_gap(): saddle-point gap of the dilated-entropy game.
    from open_spiel.python.algorithms import mmd_dilated

    from gametheory.efg import tabular_policy_to_plans

    ref = mmd_dilated.MMDDilatedEnt(pyspiel.load_game("kuhn_poker"), alpha=0.2, stepsize=0.3)
    for _ in range(5):
        ref.update_sequences()
    plans = tabular_policy_to_plans(kuhn, ref.get_policies())
    assert float(regularized_gap(kuhn, plans, 0.2)) == pytest.approx(ref.get_gap(), abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), conc=st.floats(0.01, 10.0))
def test_exploitability_nonnegative_and_plans_valid(seed, conc):
    game = load("liars_dice(numdice=1,dice_sides=3)")
    from gametheory.efg.policies import check_plans

    plans = behavioural_to_plans(game, random_behavioural(jax.random.PRNGKey(seed), game, conc))
    check_plans(game, plans)  # raises if a sequence-form constraint is violated
    assert float(game.exploitability(plans)) >= -1e-12
