"""Normal-form games: the zoo against published payoffs and OpenSpiel; validation errors."""

import warnings

import jax.numpy as jnp
import numpy as np
import pyspiel
import pytest

from gametheory import games
from gametheory.lp import solve_zero_sum


def test_biased_rps_is_openspiel_matrix_brps_scaled():
    # OpenSpiel's matrix_brps holds the same game with payoffs x100.
    ref = pyspiel.load_game("matrix_brps")
    np.testing.assert_allclose(games.biased_rps().payoffs * 100, ref.row_utilities())
    np.testing.assert_allclose(-games.biased_rps().payoffs * 100, ref.col_utilities())


def test_shapley_game_matches_openspiel():
    ref = pyspiel.load_game("matrix_shapleys_game")
    g = games.shapley_game()
    np.testing.assert_array_equal(g.payoffs[0], ref.row_utilities())
    np.testing.assert_array_equal(g.payoffs[1], ref.col_utilities())


@pytest.mark.parametrize("coins,fields", [(5, 3), (5, 4), (5, 5), (10, 3), (10, 4)])
def test_blotto_from_rules_reproduces_published_matrices(coins, fields):
    # Czarnecki et al. 2020, "Real World Games Look Like Spinning Tops": published matrices.
    published = games.spinning_top(f"{coins}_{fields}_blotto").payoffs
    np.testing.assert_allclose(games.blotto(coins, fields).payoffs, published, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", games.SPINNING_TOP_NAMES)
def test_spinning_tops_are_antisymmetric(name):
    # Data note: every matrix is antisymmetric with entries in [-1, 1].
    m = np.asarray(games.spinning_top(name).payoffs)
    np.testing.assert_allclose(m, -m.T)
    assert np.abs(m).max() <= 1.0


@pytest.mark.parametrize(
    "game,equilibrium",
    [
        (games.comal_3x3(), [4 / 11, 3 / 11, 4 / 11]),  # COMAL 3x3 game NE (Liu et al. 2024)
        (games.biased_rps(), [1 / 16, 10 / 16, 5 / 16]),  # biased RPS NE (Perolat et al. 2021)
        (games.rock_paper_scissors(), [1 / 3] * 3),  # RPS NE uniform
        (games.matching_pennies(), [0.5, 0.5]),  # matching pennies NE uniform
    ],
)
def test_zoo_equilibria_agree_with_lp(game, equilibrium):
    sol = solve_zero_sum(game)
    np.testing.assert_allclose(sol.row, equilibrium, atol=1e-9)
    np.testing.assert_allclose(sol.col, equilibrium, atol=1e-9)
    assert float(game.exploitability((jnp.asarray(equilibrium),) * 2)) < 1e-12


def test_random_games_are_seeded_and_scaled():
    a = games.random_zero_sum(5, 7, seed=3)
    assert a.num_actions == (5, 7)
    np.testing.assert_array_equal(a.payoffs, games.make("random_zero_sum:5x7:seed=3").payoffs)
    assert not np.array_equal(a.payoffs, games.random_zero_sum(5, 7, seed=4).payoffs)
    for g in (games.random_skill_game(12, seed=1), games.disc_game(12, seed=1)):
        m = np.asarray(g.payoffs)
        np.testing.assert_allclose(m, -m.T, atol=1e-12)  # symmetric zero-sum by construction
    assert np.abs(games.random_skill_game(12, seed=1).payoffs).max() == pytest.approx(1.0)


def test_disc_game_has_rank_two():
    # Balduzzi et al. 2019: the disc game's payoff matrix has rank 2.
    assert np.linalg.matrix_rank(np.asarray(games.disc_game(20, seed=0).payoffs)) == 2


def test_preference_game_is_the_matrix_game_p_minus_half():
    g = games.comal_3x3()
    np.testing.assert_allclose(g.matrix, np.asarray(g.payoffs) - 0.5)
    pi = jnp.asarray([0.6, 0.3, 0.1])
    # Exploitability of (pi, pi) = max_y P(y > pi) - 1/2 (Munos et al. 2024).
    expected = np.max(np.asarray(g.payoffs) @ np.asarray(pi)) - 0.5
    assert float(g.exploitability((pi, pi))) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "build,bad,match",
    [
        (games.matrix_game, [[1.0, np.nan]], "non-finite"),
        (games.matrix_game, [1.0, 2.0], "2-dimensional"),
        (games.matrix_game, np.zeros((0, 3)), "empty"),
        (games.matrix_game, np.ones((2, 2, 2)), "not zero-sum"),
        (games.matrix_game, np.zeros((3, 2, 2)), "2 players"),
        (games.matrix_game, "abc", "array of numbers"),
        (games.matrix_game, [[1, 2], [3]], "rows of different lengths \\(row 0: 2, row 1: 1\\)"),
        (games.nplayer_game, [[[1, 2], [3, 4]], [[1, 2], [3]]], "inside index \\[1\\]"),
        (games.preference_game, [[0.5, 0.7], [0.7, 0.5]], "P \\+ P\\^T = 1"),
        (games.preference_game, [[0.5, 1.5], [-0.5, 0.5]], "\\[0, 1\\]"),
        (games.preference_game, np.full((2, 3), 0.5), "square"),
        (games.nplayer_game, np.ones((3, 2, 2)), "shape \\[n_players"),
        (games.nplayer_game, [[[1.0, np.inf]]], "non-finite"),
    ],
)
def test_constructors_reject_bad_input(build, bad, match):
    with pytest.raises(ValueError, match=match):
        build(bad)


@pytest.mark.parametrize(
    "spec,match",
    [
        ("nope", "unknown game"),
        ("rps:3", "takes no arguments"),
        ("random_zero_sum:3", "expected random_zero_sum"),
        ("random_zero_sum:3xq", "must be an integer"),
        ("random_zero_sum:0x3", "positive integer"),
        ("spinning_top:chess", "unknown spinning-top game"),
        ("blotto:5", "bad arguments"),
    ],
)
def test_make_rejects_bad_names(spec, match):
    with pytest.raises(ValueError, match=match):
        games.make(spec)


def test_load_game_file_roundtrip_and_errors(tmp_path):
    m = np.asarray(games.biased_rps().payoffs)
    np.save(tmp_path / "g.npy", m)
    np.savetxt(tmp_path / "g.csv", m, delimiter=",")
    np.savez(tmp_path / "g.npz", payoffs=np.asarray(games.shapley_game().payoffs))
    np.testing.assert_array_equal(games.load_game_file(tmp_path / "g.npy").payoffs, m)
    np.testing.assert_allclose(games.load_game_file(tmp_path / "g.csv").payoffs, m)
    assert games.load_game_file(tmp_path / "g.npz").num_players == 2
    np.savez(tmp_path / "bad.npz", other=m)
    with pytest.raises(ValueError, match="no array named 'payoffs'"):
        games.load_game_file(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="does not exist"):
        games.load_game_file(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match="unsupported"):
        games.load_game_file(tmp_path / "g.txt")
    (tmp_path / "broken.csv").write_text("1,2\n3,oops\n")
    with pytest.raises(ValueError, match="cannot read"):
        games.load_game_file(tmp_path / "broken.csv")


@pytest.mark.parametrize(
    "name,content,problem",
    [
        ("ragged.csv", "1,2,3\n4,5\n", "line 2 has 2 values but line 1 has 3"),
        ("semicolons.csv", "1;2\n3;4\n", "line 1 separates values with semicolons"),
        ("header.csv", "rock,paper\n1,2\n", "line 1 has 'rock', which is not a number "
                                             "(a header line?)"),
        ("trailing.csv", "1,2,\n3,4,\n", "line 1 ends with a comma (a trailing comma?)"),
        ("spaces.csv", "1 2\n3 4\n", "line 1 separates values with spaces, not commas"),
        ("empty.csv", "", "the file is empty"),
        ("text.npz", "1,2\n3,4\n", "it is not an .npz archive"),
        ("text.npy", "1,2\n3,4\n", "it is not a NumPy .npy file"),
    ],
)
def test_game_file_errors_say_what_format_is_expected(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_text(content)
    expected = {".csv": "comma-separated numbers, one row per line, no header",
                ".npz": "under the key 'payoffs'", ".npy": "np.save(path, A)"}[path.suffix]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's "empty input file" UserWarning used to leak
        with pytest.raises(ValueError) as info:
            games.load_game_file(path)
    message = str(info.value)
    assert problem in message and expected in message
    for misleading in ("usecols", "allow_pickle", "could not convert"):
        assert misleading not in message


def test_stack_games_requires_same_shape():
    with pytest.raises(ValueError, match="share type and shape"):
        games.stack_games([games.random_zero_sum(3, 3), games.random_zero_sum(3, 4)])
