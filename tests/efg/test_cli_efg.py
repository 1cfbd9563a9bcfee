"""The command line on OpenSpiel games: JSON output and a policy file OpenSpiel can check."""

import json

import pyspiel
import pytest
from open_spiel.python import policy as openspiel_policy
from open_spiel.python.algorithms import exploitability as openspiel_exploitability

from gametheory.cli import main


def test_solve_kuhn_json_and_policy_file_checked_by_openspiel(capsys, tmp_path):
    path = tmp_path / "kuhn.json"
    argv = ["solve", "kuhn_poker", "--solver", "cfr_plus", "--steps", "500", "--json",
            "--policy-out", str(path)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "extensive_form" and out["solver"] == "cfr_plus"
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


def test_unknown_solver_for_openspiel_game_is_one_line_error(capsys):
    assert main(["solve", "kuhn_poker", "--solver", "replicator"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown solver" in err and "\n" not in err
