"""The command line on OpenSpiel games: JSON output and a policy file OpenSpiel can check."""

import json

import numpy as np
import pyspiel
import pytest
from efg_games import load
from open_spiel.python import policy as openspiel_policy
from open_spiel.python.algorithms import exploitability as openspiel_exploitability

from gametheory.cli import main
from gametheory.driver import solve
from gametheory.efg import EFG_SOLVERS, sequence_form_game
from gametheory.solvers import make_solver, parse_value


def test_solve_kuhn_json_and_policy_file_checked_by_openspiel(capsys, tmp_path):
    path = tmp_path / "kuhn.json"
    argv = ["solve", "kuhn_poker", "--solver", "cfr_plus", "--steps", "500", "--json",
            "--policy-out", str(path)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "extensive_form" and out["solver"] == "cfr_plus"
    # Kuhn's uniform profile is not an equilibrium (NashConv 11/12, OpenSpiel
    # exploitability_test), so the run starts there.
    assert out["initial"] == "uniform" and out["history"]["step"][0] == 0
    assert out["history"]["exploitability_last"][0] == pytest.approx(11 / 24, abs=1e-12)
    # Rebuild the last-iterate policy from the file alone and evaluate it with OpenSpiel.
    game = pyspiel.load_game("kuhn_poker")
    tab = openspiel_policy.TabularPolicy(game)
    policies = json.loads(path.read_text())
    for player_policy in policies:
        for info_state, probs in player_policy.items():
            row = tab.policy_for_key(info_state)
            for action, p in probs.items():
                row[int(action)] = p
    assert len(tab.state_lookup) == sum(len(p) for p in policies)  # every infoset written
    reference = openspiel_exploitability.exploitability(game, tab)
    assert out["exploitability_last"] == pytest.approx(reference, abs=1e-9)


def test_unknown_solver_or_game_is_one_line_error_with_the_closest_name(capsys):
    # A normal-form solver on an OpenSpiel game: which family it is, and this family's solvers.
    assert main(["solve", "kuhn_poker", "--solver", "replicator"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--solver replicator: a normal-form solver" in err and "\n" not in err
    assert "cfr_plus" in err
    assert main(["solve", "kuhn_poker", "--solver", "cfr_pluss"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown solver" in err and "Did you mean 'cfr_plus'?" in err and "\n" not in err
    assert main(["solve", "leduc", "--solver", "mpo"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Did you mean 'leduc_poker'?" in err and "\n" not in err


def test_switches_parse_as_in_the_normal_form_solvers(kuhn, capsys):
    def last(name, **params):
        return np.asarray(solve(kuhn, make_solver(name, registry=EFG_SOLVERS, **params),
                                20).last[0])

    # "no" is False in every solver family (it used to be True for the normal-form ones).
    np.testing.assert_array_equal(last("cfr_plus", alternating=parse_value("no")),
                                  last("cfr_plus", alternating=False))
    assert not np.allclose(last("cfr_plus", alternating=False), last("cfr_plus",
                                                                       alternating=True))
    for argv in (["--set", "alternating=maybe"], ["--set", "linear_average=on"]):
        assert main(["solve", "kuhn_poker", "--solver", "cfr_plus", *argv]) == 2
        err = capsys.readouterr().err
        assert "true/false" in err and argv[1].split("=")[0] in err


def test_tree_walk_shows_progress(capsys):
    sequence_form_game("kuhn_poker", progress=True)
    err = capsys.readouterr().err
    assert "walking the tree" in err and "building treeplexes" in err


def test_bad_initial_plans_raise_before_solving():
    game = load("kuhn_poker")
    x, y = game.uniform_policies()
    bad = np.asarray(x).copy()
    bad[1] = -0.5
    with pytest.raises(ValueError, match="negative"):
        solve(game, EFG_SOLVERS["cfr_plus"](), 10, initial=(bad, y))
    with pytest.raises(ValueError, match="non-finite"):
        solve(game, EFG_SOLVERS["mpo"](), 10, initial=(np.full_like(bad, np.nan), y))


def test_openspiel_game_whose_uniform_profile_is_the_equilibrium_starts_at_random(capsys):
    # OpenSpiel's matrix_rps: RPS as a one-shot extensive-form game, NE uniform (value 0).
    assert main(["solve", "matrix_rps", "--solver", "cfr", "--steps", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["initial"] == "random" and out["seed"] == 0
    assert out["history"]["exploitability_last"][0] > 0.05
