"""``gametheory psro``: JSON output, checkpoints from the command line, one-line errors."""

import importlib.util
import json

import numpy as np
import pyspiel
import pytest

from gametheory.cli import main


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_psro_json_on_kuhn(capsys, tmp_path):
    out = _json(capsys, ["psro", "kuhn_poker", "--iterations", "10", "--json",
                         "--policy-out", str(tmp_path / "policy.json")])
    expl = out["exploitability"]
    assert len(expl) == out["iterations"] + 1 == len(out["seconds"])
    # Kuhn uniform policy NashConv = 11/12 (OpenSpiel exploitability_test).
    assert expl[0] == pytest.approx(11 / 24, abs=1e-12)
    assert expl[-1] <= 1e-9 and out["stop"] == "tolerance"
    policy = json.loads((tmp_path / "policy.json").read_text())
    merged = {k: list(v.items()) for table in policy for k, v in table.items()}
    merged = {k: [(int(a), p) for a, p in v] for k, v in merged.items()}
    # Reference: pyspiel.exploitability of the written meta-mixture policy.
    ref = pyspiel.exploitability(pyspiel.load_game("kuhn_poker"), merged)
    assert ref == pytest.approx(expl[-1], abs=1e-9)


def test_psro_checkpoint_and_resume(capsys, tmp_path):
    argv = ["psro", "spinning_top:10_3_blotto", "--initial-strategy", "0", "--json",
            "--tol", "0", "--no-progress", "--checkpoint", str(tmp_path)]
    full = _json(capsys, ["psro", "spinning_top:10_3_blotto", "--initial-strategy", "0",
                          "--json", "--tol", "0", "--iterations", "8"])
    _json(capsys, argv + ["--iterations", "4"])
    resumed = _json(capsys, argv + ["--iterations", "8", "--resume"])
    assert resumed["exploitability"] == full["exploitability"]
    assert resumed["symmetric"] is True


def test_psro_gradient_variants_run(capsys):
    for extra in (["--variant", "fusion"], ["--oracle", "gradient", "--init", "noisy"],
                  ["--variant", "psro-rn", "--meta-solver", "prd", "--meta-set",
                   "iterations=500"]):
        out = _json(capsys, ["psro", "blotto:4:3", "--iterations", "3", "--json", "--steps", "5",
                             "--tol", "0"] + extra)
        assert len(out["exploitability"]) == 4
        assert all(np.isfinite(out["exploitability"]))


def test_psro_text_output(capsys):
    assert main(["psro", "rps", "--iterations", "5", "--initial-strategy", "0"]) == 0
    text = capsys.readouterr().out
    assert "exploitability" in text and "stop: tolerance" in text


@pytest.mark.parametrize(
    "argv,match",
    [
        (["psro", "rps", "--variant", "alpha"], "unknown variant"),
        (["psro", "shapley"], "zero-sum"),
        (["psro", "kuhn_poker(players=3)"], "3 players"),
        (["psro", "rps", "--meta-solver", "lp"], "unknown meta-solver"),
        (["psro", "rps", "--oracle", "dqn"], "unknown oracle"),
        (["psro", "rps", "--oracle", "gradient", "--init", "warm"], "unknown initialisation"),
        (["psro", "rps", "--variant", "fusion", "--init", "inherit"], "fusion"),
        (["psro", "rps", "--resume"], "--checkpoint"),
        (["psro", "rps", "--iterations", "-1"], "iterations"),
        (["psro", "rps", "--symmetric", "maybe"], "--symmetric"),
        (["psro", "rps", "--meta-set", "steps"], "key=value"),
        (["psro", "kuhn_poker", "--initial-strategy", "0"], "normal-form"),
        (["psro", "rps", "--initial-strategy", "7"], "initial strategy index"),
    ],
)
def test_psro_errors_are_one_line(capsys, argv, match):
    assert main(argv + ["--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and match in err


@pytest.mark.skipif(importlib.util.find_spec("gametheory.teams") is not None,
                    reason="gametheory.teams is installed; the team variants run there")
def test_team_variants_run_through_the_psro_command(capsys):
    # Heterogeneous team game (the team of two wins iff (a1, a2) = (b, 1 - b)): TMECor value 0;
    # H-PSRO closes the gap, teammates sharing one policy cannot (the gap stays at 2).
    assert main(["psro", "heterogeneous", "--variant", "h-psro", "--iterations", "10",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exploitability"][-1] <= 1e-6
    assert main(["psro", "heterogeneous", "--variant", "team", "--shared", "--iterations", "10",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exploitability"][-1] > 0.5
