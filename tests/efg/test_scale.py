"""The fast sequence-form build (gametheory.efg.build): equal to the reference walk, equal across
worker counts, and exact at scale against OpenSpiel's C++ exploitability."""

import jax
import jax.numpy as jnp
import numpy as np
import pyspiel
import pytest

from gametheory.efg import behavioural_to_plans, random_behavioural, to_pyspiel_policy
from gametheory.efg import build as fast_build
from gametheory.efg.sequence_form import (
    _layout,
    _walk,
    load_openspiel_game,
    sequence_form_game,
)

# Chance at the root only (Kuhn, liar's dice), also after the first betting round (Leduc's public
# card), no chance (goofspiel with a fixed point order) and chance between every round (goofspiel
# with a random point order).
EQUALITY_GAMES = [
    "kuhn_poker",
    "leduc_poker",
    "liars_dice(numdice=1,dice_sides=3)",
    "goofspiel(num_cards=4,imp_info=True,points_order=descending)",
    "goofspiel(num_cards=4,imp_info=True,points_order=random)",
]
# liars_dice(numdice=1,dice_sides=6): 24576 infosets (12288 per player), the size reference.
LIARS_DICE_6_INFOSETS = 24576
LARGE = "liars_dice(numdice=1,dice_sides=8)"  # 524288 infosets, 8388617 histories


def _assert_same_arrays(ref: dict, new: dict):
    assert ref.keys() == new.keys()
    for k in ref:
        assert ref[k].shape == new[k].shape, k
        np.testing.assert_array_equal(ref[k], new[k], err_msg=k)


def _random_plans(game, n, seed=0):
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    return [behavioural_to_plans(game, random_behavioural(k, game, 0.5)) for k in keys]


@pytest.mark.parametrize("name", EQUALITY_GAMES)
def test_fast_build_equals_reference_walk(name):
    # Reference: the original per-node walk (sequence_form._walk + _layout, method="walk").
    os_game = load_openspiel_game(name)
    ref = _layout(_walk(os_game, 10**7))
    _assert_same_arrays(ref, fast_build.build_arrays(os_game, 10**7, workers=1))
    slow = sequence_form_game(name, method="walk")
    fast = sequence_form_game(name)
    assert fast.info.infosets == slow.info.infosets
    (plans,) = _random_plans(fast, 1)
    assert float(fast.value(plans)) == pytest.approx(float(slow.value(plans)), abs=1e-12)


@pytest.mark.parametrize("name", ["leduc_poker", "liars_dice(numdice=1,dice_sides=4)"])
def test_process_parallel_build_equals_serial(name, monkeypatch):
    os_game = load_openspiel_game(name)
    serial = fast_build.build_arrays(os_game, 10**7, workers=1)
    # Force the worker processes even for these small trees.
    monkeypatch.setattr(fast_build, "PARALLEL_THRESHOLD_S", -1.0)
    parallel = fast_build.build_arrays(os_game, 10**7, workers=2)
    _assert_same_arrays(serial, parallel)


def test_parallel_build_respects_max_nodes(monkeypatch):
    monkeypatch.setattr(fast_build, "PARALLEL_THRESHOLD_S", -1.0)
    # liars_dice(1, 4): 16 deals x 511 betting histories + 5 chance nodes = 8181 histories.
    with pytest.raises(ValueError, match="max_nodes=8000"):
        sequence_form_game("liars_dice(numdice=1,dice_sides=4)", max_nodes=8000, workers=2)
    assert sequence_form_game("liars_dice(numdice=1,dice_sides=4)", max_nodes=8181,
                              workers=2).num_infosets == (512, 512)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_bad_workers(workers):
    with pytest.raises(ValueError, match="workers"):
        sequence_form_game("kuhn_poker", workers=workers)


def test_bad_method():
    with pytest.raises(ValueError, match="method"):
        sequence_form_game("kuhn_poker", method="dfs")


def _check_against_openspiel(name, n_policies):
    game = sequence_form_game(name)
    os_game = pyspiel.load_game(game.info.game_string)
    for plans in _random_plans(game, n_policies, seed=1):
        ours = float(game.exploitability(plans))
        # Reference: OpenSpiel's C++ best-response exploitability of the same policy.
        theirs = pyspiel.exploitability(os_game, to_pyspiel_policy(game, plans))
        assert ours == pytest.approx(theirs, abs=1e-9)
    return game


def test_smaller_game_matches_openspiel():
    # The always-run variant of the test below: liars_dice(numdice=1,dice_sides=5), 2 x 2560
    # infosets, 25 rolls x 1023 betting histories (51k histories).
    game = _check_against_openspiel("liars_dice(numdice=1,dice_sides=5)", 1)
    assert game.num_infosets == (2560, 2560)


@pytest.mark.slow
def test_large_game_builds_and_matches_openspiel():
    # Several minutes and ~14 GB: OpenSpiel's best responses keep every history of the tree in
    # memory (8.4M here); our build peaks below 2 GB.
    game = _check_against_openspiel(LARGE, 1)
    assert sum(game.num_infosets) >= 10 * LIARS_DICE_6_INFOSETS
    x, y = game.uniform_policies()
    q0, q1 = jax.jit(type(game).gradients)(game, (x, y))
    assert bool(jnp.all(jnp.isfinite(q0))) and bool(jnp.all(jnp.isfinite(q1)))
