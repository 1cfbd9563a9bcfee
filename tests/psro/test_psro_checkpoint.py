"""Checkpoint and resume: a resumed run ends exactly where an uninterrupted one does, and a
finished run loads back and exports its meta-mixture as an OpenSpiel policy."""

import json

import numpy as np
import pyspiel
import pytest

from gametheory.psro import gradient, load_run, run_psro


def _assert_same(a, b):
    np.testing.assert_array_equal(a.exploitability, b.exploitability)
    np.testing.assert_array_equal(a.meta_game, b.meta_game)
    for s, t in zip(a.meta_strategies, b.meta_strategies):
        np.testing.assert_array_equal(s, t)
    for s, t in zip(a.state.strategies, b.state.strategies):
        np.testing.assert_array_equal(s, t)
    for ps, pt in zip(a.state.params, b.state.params):
        for x, y in zip(ps, pt):
            assert (x is None) == (y is None)
            if x is not None:
                for u, v in zip(x, y):
                    np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(a.state.key, b.state.key)


def test_resume_equals_uninterrupted_exact(kuhn, tmp_path):
    full = run_psro(kuhn, 5, tol=0.0)
    run_psro(kuhn, 2, tol=0.0, checkpoint=tmp_path)
    resumed = run_psro(kuhn, 5, tol=0.0, checkpoint=tmp_path, resume=True)
    _assert_same(full, resumed)
    assert resumed.iterations == 5 and len(resumed.seconds) == 6
    assert np.all(np.diff(resumed.seconds) >= 0)


def test_resume_equals_uninterrupted_with_random_parts(tmp_path):
    # The noisy copy draws a member and Gaussian noise from the saved PRNG key.
    game = "spinning_top:10_3_blotto"
    oracle = gradient(steps=5, lr=0.2)
    parts = dict(oracle=oracle, init="noisy", variant="psro-rn", tol=0.0, seed=3)
    full = run_psro(game, 6, **parts)
    run_psro(game, 3, checkpoint=tmp_path, **parts)
    resumed = run_psro(game, 6, checkpoint=tmp_path, resume=True, **parts)
    _assert_same(full, resumed)
    loaded = load_run(tmp_path)
    _assert_same(full, loaded)


def test_finished_run_exports_an_openspiel_tabular_policy(kuhn, tmp_path):
    run_psro(kuhn, 10, checkpoint=tmp_path)
    loaded = load_run(tmp_path)  # the game is rebuilt from its saved OpenSpiel string
    tab = loaded.tabular_policy()
    game = pyspiel.load_game("kuhn_poker")
    # Reference: pyspiel.exploitability of the exported policy.
    ref = pyspiel.exploitability(game, pyspiel.TabularPolicy(tab.to_dict()))
    assert loaded.exploitability[-1] == pytest.approx(ref, abs=1e-12)
    assert ref <= 1e-9
    meta = json.loads((tmp_path / "psro.json").read_text())
    assert meta["config"]["meta_solver"]["name"] == "nash" and meta["stop"] == "tolerance"


def test_matrix_game_without_name_is_saved_with_the_run(tmp_path):
    a = np.array([[0.0, 1.0, -2.0], [-1.0, 0.0, 3.0], [2.0, -3.0, 0.0]])
    full = run_psro(a, 5, initial=0, checkpoint=tmp_path)
    loaded = load_run(tmp_path)
    np.testing.assert_array_equal(loaded.game.payoff.toarray(), a)
    np.testing.assert_array_equal(loaded.mixture()[0], full.mixture()[0])
    with pytest.raises(ValueError, match="normal-form"):
        loaded.tabular_policy()


def test_checkpoint_errors(kuhn, tmp_path):
    run_psro(kuhn, 2, tol=0.0, checkpoint=tmp_path)
    with pytest.raises(ValueError, match="already holds a PSRO run"):
        run_psro(kuhn, 4, checkpoint=tmp_path)
    with pytest.raises(ValueError, match="meta_solver"):
        run_psro(kuhn, 4, tol=0.0, meta_solver="uniform", checkpoint=tmp_path, resume=True)
    with pytest.raises(ValueError, match="needs the checkpoint"):
        run_psro(kuhn, 4, resume=True)
    with pytest.raises(ValueError, match="no PSRO checkpoint"):
        load_run(tmp_path / "missing")
    # A run interrupted between the two files: arrays of one iteration, metadata of another.
    meta = json.loads((tmp_path / "psro.json").read_text())
    meta["iteration"] = 1
    (tmp_path / "psro.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="torn"):
        load_run(tmp_path)
