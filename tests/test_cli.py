"""The command line, in-process (``gametheory.cli.main``) and once as ``python -m``."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gametheory import games
from gametheory.cli import main


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_solve_json_on_comal_game(capsys):
    out = _json(capsys, ["solve", "comal_3x3", "--solver", "mpo", "--steps", "15000",
                         "--set", "reset_every=500", "--json"])
    for key in ("game", "solver", "steps", "exploitability_last", "exploitability_avg",
                "policies", "seconds"):
        assert key in out
    assert out["exploitability_last"] < 1e-10
    # COMAL 3x3 game NE = (4/11, 3/11, 4/11)
    np.testing.assert_allclose(out["policies"][0], [4 / 11, 3 / 11, 4 / 11], atol=1e-8)


def test_solve_random_game_with_seed_and_files(capsys, tmp_path):
    out = _json(capsys, ["solve", "random_zero_sum:6x4:seed=3", "--solver", "omwu",
                         "--steps", "50", "--seed", "1", "--json"])
    assert [len(p) for p in out["policies"]] == [6, 4]
    np.save(tmp_path / "m.npy", np.asarray(games.biased_rps().payoffs))
    np.savetxt(tmp_path / "m.csv", np.asarray(games.biased_rps().payoffs), delimiter=",")
    np.savez(tmp_path / "t.npz", payoffs=np.asarray(games.shapley_game().payoffs))
    a = _json(capsys, ["solve", str(tmp_path / "m.npy"), "--solver", "omwu", "--steps",
                       "20000", "--set", "lr=1.0", "--json"])
    b = _json(capsys, ["solve", str(tmp_path / "m.csv"), "--solver", "omwu", "--steps",
                       "20000", "--set", "lr=1.0", "--json"])
    # Biased RPS NE (1/16, 10/16, 5/16) (Perolat et al. 2021).
    np.testing.assert_allclose(a["policies"][0], [1 / 16, 10 / 16, 5 / 16], atol=1e-6)
    np.testing.assert_allclose(a["policies"][0], b["policies"][0], atol=1e-9)
    c = _json(capsys, ["solve", str(tmp_path / "t.npz"), "--solver", "fictitious_play",
                       "--json"])
    assert len(c["policies"]) == 2


def test_listing_commands(capsys):
    assert main(["games"]) == 0
    text = capsys.readouterr().out
    assert "comal_3x3" in text and "random_zero_sum:MxN:seed=S" in text
    assert main(["solvers"]) == 0
    text = capsys.readouterr().out
    for name in ("mwu", "omwu", "extragradient", "mmd", "mpo", "comal", "inpo", "nash_md",
                 "rm_plus", "fictitious_play", "replicator"):
        assert f"  {name} " in text
    assert "reset_every='adaptive'" in text


@pytest.mark.parametrize(
    "argv,match",
    [
        (["solve", "no_such_game", "--solver", "mwu"], "unknown game"),
        (["solve", "rps", "--solver", "sgd"], "unknown solver"),
        (["solve", "rps", "--solver", "mwu", "--set", "lr"], "key=value"),
        (["solve", "rps", "--solver", "mwu", "--set", "lr=-2"], "finite positive"),
        (["solve", "rps", "--solver", "mwu", "--set", "beta=2"], "no parameter beta"),
        (["solve", "rps", "--solver", "mwu", "--steps", "0"], "--steps"),
        (["solve", "missing.npy", "--solver", "mwu"], "does not exist"),
        (["solve", "random_zero_sum:0x3", "--solver", "mwu"], "positive integer"),
    ],
)
def test_errors_exit_nonzero_with_one_line(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and match in err


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "gametheory", "solve", "rps", "--solver",
                           "mwu", "--steps", "10", "--json"], capture_output=True, text=True,
                          check=True)
    assert json.loads(proc.stdout)["solver"] == "mwu"
    bad = subprocess.run([sys.executable, "-m", "gametheory", "solve", "nope", "--solver",
                          "mwu"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("gametheory: error:")
