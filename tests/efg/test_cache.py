"""The on-disk cache of sequence-form arrays: the automatic default (large games only, in
``$GAMETHEORY_CACHE``), an explicit folder, files that cannot be read or written."""

import pathlib

import jax
import numpy as np
import pytest

from gametheory.efg import build as fast_build
from gametheory.efg import cache, sequence_form_game
from gametheory.efg.lp import solve_lp

LIARS_DICE_4 = "liars_dice(numdice=1,dice_sides=4)"


def _same_game(a, b):
    assert a.info == b.info
    leaves_a, tree_a = jax.tree_util.tree_flatten(a)
    leaves_b, tree_b = jax.tree_util.tree_flatten(b)
    assert tree_a == tree_b
    for x, y in zip(leaves_a, leaves_b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _no_walk(*args, **kwargs):
    raise AssertionError("the tree was walked although the game is cached")


@pytest.fixture
def auto_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    return tmp_path


def test_automatic_cache_stores_large_games_and_loads_them_without_walking(auto_cache,
                                                                          monkeypatch):
    monkeypatch.setattr(cache, "AUTO_MIN_PAYOFFS", 1000)  # liar's dice 1x4: 4080 payoffs
    built = sequence_form_game(LIARS_DICE_4)
    assert len(list(auto_cache.glob("liars_dice-*.npz"))) == 1
    monkeypatch.setattr(fast_build, "build_arrays", _no_walk)
    loaded = sequence_form_game(LIARS_DICE_4)
    _same_game(built, loaded)


def test_automatic_cache_skips_small_games(auto_cache):
    sequence_form_game("kuhn_poker")  # 30 payoff entries, below AUTO_MIN_PAYOFFS
    assert not list(auto_cache.iterdir())


@pytest.mark.parametrize("off", ["off", "0", ""])
def test_environment_turns_the_automatic_cache_off(off, monkeypatch, tmp_path):
    monkeypatch.setenv(cache.CACHE_ENV, off)
    assert cache.default_dir() is None
    monkeypatch.setattr(cache, "AUTO_MIN_PAYOFFS", 0)
    monkeypatch.chdir(tmp_path)
    sequence_form_game("kuhn_poker")
    assert not list(tmp_path.rglob("*.npz"))


def test_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.default_dir() == tmp_path / "gametheory" / "sequence_form"


def test_reference_walk_ignores_the_automatic_cache(auto_cache, monkeypatch):
    monkeypatch.setattr(cache, "AUTO_MIN_PAYOFFS", 0)
    sequence_form_game("kuhn_poker", method="walk")
    assert not list(auto_cache.iterdir())


def test_explicit_folder_caches_every_game(tmp_path, monkeypatch):
    a = sequence_form_game("kuhn_poker", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("kuhn_poker-*.npz"))) == 1
    monkeypatch.setattr(fast_build, "build_arrays", _no_walk)
    b = sequence_form_game("kuhn_poker", cache_dir=tmp_path)
    _same_game(a, b)
    # Kuhn game value -1/18 (Kuhn 1950) from the cached arrays.
    assert solve_lp(b)[0] == pytest.approx(-1 / 18, abs=1e-9)


def test_file_names_depend_on_the_build(tmp_path, monkeypatch):
    before = cache.cache_path(tmp_path, "kuhn_poker()")
    monkeypatch.setattr(cache, "_build_digest", lambda: "another build")
    assert cache.cache_path(tmp_path, "kuhn_poker()") != before


def test_unreadable_file_is_rebuilt_with_a_warning(tmp_path):
    sequence_form_game("kuhn_poker", cache_dir=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not a zip file")
    with pytest.warns(RuntimeWarning, match="unreadable"):
        game = sequence_form_game("kuhn_poker", cache_dir=tmp_path)
    assert solve_lp(game)[0] == pytest.approx(-1 / 18, abs=1e-9)
    assert cache.load(tmp_path, game.info.game_string) is not None  # written again


def test_unwritable_folder_warns_and_still_builds(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.warns(RuntimeWarning, match="could not write"):
        game = sequence_form_game("kuhn_poker", cache_dir=blocker / "sub")
    assert solve_lp(game)[0] == pytest.approx(-1 / 18, abs=1e-9)


@pytest.mark.parametrize("bad", [42, 1.5, ["a"]])
def test_bad_cache_dir(bad):
    with pytest.raises(ValueError, match="cache_dir"):
        sequence_form_game("kuhn_poker", cache_dir=bad)


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(file, **arrays):
        pathlib.Path(file).write_bytes(b"half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sequence_form_game("kuhn_poker", cache_dir=tmp_path)
    assert not list(tmp_path.iterdir())
