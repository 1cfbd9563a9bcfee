"""``gametheory tmecor`` and the team-PSRO command handler."""

import argparse
import json

import numpy as np
import pytest

from gametheory.cli import main
from gametheory.commands.tmecor import add_team_psro_arguments, run_team_psro_command


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    "game, adversary, value",
    [
        # 3-player Kuhn, adversary 2: -1/24 (see tests/teams/test_tmecor.py).
        ("kuhn_poker(players=3)", "2", -1 / 24),
        # Team wins iff (a0, a1) = (b, 1 - b): value 0 (closed form).
        ("heterogeneous", "2", 0.0),
        # Team wins 1 iff its bits match and differ from the adversary's: 1/2 (closed form).
        ("matching_bits", "2", 0.5),
    ],
)
def test_tmecor_json(capsys, game, adversary, value):
    code, out, _ = _run(capsys, ["tmecor", game, "--adversary", adversary, "--json"])
    assert code == 0
    res = json.loads(out)
    assert res["value"] == pytest.approx(value, abs=1e-9)
    assert 0 <= res["gap"] + 1e-12 and res["gap"] <= 1e-9


def test_tmecor_text_and_npz_tensor(capsys, tmp_path):
    u = np.zeros((2, 2, 2))
    u[0, 0, 1] = u[1, 1, 0] = 1.0  # matching bits, adversary = player 2: value 1/2
    np.savez(tmp_path / "bits.npz", payoffs=np.stack([u / 2, u / 2, -u]))
    code, out, _ = _run(capsys, ["tmecor", str(tmp_path / "bits.npz"), "--adversary", "2"])
    assert code == 0
    assert "value       0.5" in out and "gap" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["tmecor", "kuhn_poker(players=3)", "--adversary", "3"], "out of range"),
        (["tmecor", "matrix_pd", "--adversary", "0"], "not zero-sum"),
        (["tmecor", "no_such_game", "--adversary", "0"], "unknown game"),
        (["tmecor", "kuhn_poker(bogus=1)", "--adversary", "0"], "cannot load"),
        (["tmecor", "leduc_poker", "--adversary", "0", "--tol", "-1"], "--tol"),
    ],
)
def test_tmecor_bad_input_is_one_line(capsys, argv, message):
    code, out, err = _run(capsys, argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def _psro_parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("game")
    parser.add_argument("--variant", default="team")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--resume", action="store_true")
    add_team_psro_arguments(parser)
    return parser


def test_team_psro_command(capsys, tmp_path):
    args = _psro_parser().parse_args(["heterogeneous", "--variant", "h-psro", "--json",
                                      "--checkpoint", str(tmp_path)])
    assert run_team_psro_command(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["adversary"] == 2 and out["converged"]
    assert out["exploitability"][-1] <= 1e-6  # team value 0 reached exactly
    args = _psro_parser().parse_args(["heterogeneous", "--variant", "team", "--shared"])
    assert run_team_psro_command(args) == 0
    text = capsys.readouterr().out
    assert "stalled" in text and "2.0000e+00" in text  # identical roles: gap 2 (see PSRO tests)
    with pytest.raises(ValueError, match="unknown team variant"):
        run_team_psro_command(_psro_parser().parse_args(["heterogeneous", "--variant", "x"]))
