"""Sequence form from OpenSpiel: sizes, sparsity, caching and input validation."""

import numpy as np
import pyspiel
import pytest
from efg_games import GOOFSPIEL, load

from gametheory.efg import sequence_form_game
from gametheory.efg.lp import solve_lp


def test_leduc_sizes_and_sparsity(leduc):
    # Leduc hold'em: 936 information states, 468 per player (OpenSpiel tabular policy size);
    # 1093 x 1093 sequences with ~5k non-zero payoff entries (issue 3 / DESIGN.md).
    assert leduc.num_infosets == (468, 468)
    assert leduc.num_sequences == (1093, 1093)
    assert 4000 < leduc.nnz < 6000
    assert leduc.payoff_values.shape == (leduc.nnz,)


def test_kuhn_dense_payoff_matches_openspiel_sequence_form(kuhn):
    # OpenSpiel's sequence_form_utils builds the same payoff matrix (up to sequence order): the
    # multiset of non-zero entries must agree.
    from open_spiel.python.algorithms import sequence_form_utils as utils

    *_, payoff, _ = utils.construct_vars(pyspiel.load_game("kuhn_poker"))
    theirs = np.sort(np.abs(payoff[0][payoff[0] != 0]))
    ours = np.sort(np.abs(kuhn.dense_payoff()[kuhn.dense_payoff() != 0]))
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_each_players_gradient_is_the_dense_product(leduc):
    # payoff_gradient(0, y) = A y and payoff_gradient(1, x) = -A^T x with the dense payoff matrix
    # (whose entries match OpenSpiel's sequence form above), on the plans of a random profile.
    import jax

    from gametheory.efg import behavioural_to_plans, random_behavioural

    x, y = behavioural_to_plans(leduc, random_behavioural(jax.random.PRNGKey(3), leduc))
    dense = leduc.dense_payoff()
    np.testing.assert_allclose(np.asarray(leduc.payoff_gradient(0, y)), dense @ np.asarray(y),
                               atol=1e-12)
    np.testing.assert_allclose(np.asarray(leduc.payoff_gradient(1, x)),
                               -dense.T @ np.asarray(x), atol=1e-12)
    for ours, theirs in zip(leduc.gradients((x, y)), (leduc.payoff_gradient(0, y),
                                                     leduc.payoff_gradient(1, x))):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_infoset_strings_match_openspiel_tabular_policy(kuhn):
    # Every information state of OpenSpiel's TabularPolicy appears once in the sequence form.
    from open_spiel.python import policy as os_policy

    tab = os_policy.TabularPolicy(pyspiel.load_game("kuhn_poker"))
    ours = set(kuhn.info.infosets[0]) | set(kuhn.info.infosets[1])
    assert ours == set(tab.state_lookup)


def test_game_object_and_string_agree():
    a = sequence_form_game("liars_dice(numdice=1,dice_sides=3)")
    b = sequence_form_game(pyspiel.load_game("liars_dice(numdice=1,dice_sides=3)"))
    assert a.num_sequences == b.num_sequences
    np.testing.assert_array_equal(np.asarray(a.payoff_values), np.asarray(b.payoff_values))


def test_simultaneous_game_is_converted_to_turn_based():
    game = load(GOOFSPIEL)
    assert "turn_based_simultaneous_game" in game.info.game_string


def test_cache_round_trip(tmp_path):
    a = sequence_form_game("kuhn_poker", cache_dir=tmp_path)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False):  # plain arrays, no pickle needed
        pass
    b = sequence_form_game("kuhn_poker", cache_dir=tmp_path)
    assert a.info == b.info
    # Kuhn game value = -1/18 (Kuhn 1950), also from the cached arrays.
    assert solve_lp(b)[0] == pytest.approx(-1 / 18, abs=1e-9)


@pytest.mark.parametrize(
    "game, match",
    [
        ("kuhn_poker(players=3)", "3 players"),
        ("matrix_pd", "not zero-sum"),
        ("no_such_game_xyz", "cannot load"),
        (42, "OpenSpiel game string"),
    ],
)
def test_bad_games_raise_value_error(game, match):
    with pytest.raises(ValueError, match=match):
        sequence_form_game(game)


def test_too_large_game_names_the_limit():
    with pytest.raises(ValueError, match="max_nodes=100"):
        sequence_form_game("leduc_poker", max_nodes=100)


def test_bad_max_nodes():
    with pytest.raises(ValueError, match="max_nodes"):
        sequence_form_game("kuhn_poker", max_nodes=0)
