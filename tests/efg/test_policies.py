"""Realization plans <-> behavioural policies <-> OpenSpiel policies."""

import jax
import numpy as np
import pyspiel
import pytest
from efg_games import GOOFSPIEL, load
from hypothesis import given, settings
from hypothesis import strategies as st
from open_spiel.python.algorithms import exploitability as os_exploitability

from gametheory.efg import (
    behavioural_to_plans,
    plans_to_behavioural,
    plans_to_policy_dict,
    plans_to_tabular_policy,
    policy_dict_to_plans,
    random_behavioural,
    tabular_policy_to_plans,
)
from gametheory.efg.policies import check_plans


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), conc=st.floats(0.05, 5.0))
def test_behavioural_plan_round_trip(seed, conc):
    game = load("kuhn_poker")
    b = random_behavioural(jax.random.PRNGKey(seed), game, conc)
    plans = behavioural_to_plans(game, b)
    check_plans(game, plans)
    for b0, b1 in zip(b, plans_to_behavioural(game, plans)):
        np.testing.assert_allclose(np.asarray(b0), np.asarray(b1), atol=1e-9)


@pytest.mark.parametrize("name", ["kuhn_poker", GOOFSPIEL])
def test_tabular_policy_round_trip_and_python_exploitability(name):
    game = load(name)
    plans = behavioural_to_plans(game, random_behavioural(jax.random.PRNGKey(1), game))
    tab = plans_to_tabular_policy(game, plans)
    back = tabular_policy_to_plans(game, tab)
    for a, b in zip(plans, back):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-12)
    # Reference: OpenSpiel's Python exploitability of the TabularPolicy.
    ref = os_exploitability.exploitability(pyspiel.load_game(game.info.game_string), tab)
    assert float(game.exploitability(plans)) == pytest.approx(ref, abs=1e-9)


def test_policy_dict_is_json_ready_and_round_trips(kuhn):
    import json

    plans = behavioural_to_plans(kuhn, random_behavioural(jax.random.PRNGKey(2), kuhn))
    dicts = plans_to_policy_dict(kuhn, plans)
    assert len(dicts) == 2
    text = json.dumps(dicts)
    loaded = [{k: {int(a): p for a, p in v.items()} for k, v in d.items()}
              for d in json.loads(text)]
    for a, b in zip(plans, policy_dict_to_plans(kuhn, loaded)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-12)


def test_check_plans_rejects_invalid(kuhn):
    x, y = behavioural_to_plans(kuhn, random_behavioural(jax.random.PRNGKey(0), kuhn))
    with pytest.raises(ValueError, match="sequence-form constraint"):
        check_plans(kuhn, (x.at[1].add(0.1), y))
    with pytest.raises(ValueError, match="shape"):
        check_plans(kuhn, (x[:-1], y))
    with pytest.raises(ValueError, match="2 realization plans"):
        check_plans(kuhn, (x,))


def test_policy_dict_rejects_negative(kuhn):
    key = kuhn.info.infosets[0][0]
    with pytest.raises(ValueError, match="probability"):
        policy_dict_to_plans(kuhn, [{key: {0: -1.0, 1: 2.0}}, {}])
