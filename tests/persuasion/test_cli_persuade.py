"""``gametheory persuade``: JSON output, the online learner's plot, one-line errors."""

import json
import subprocess
import sys

import pytest

from gametheory.cli import main

JUDGE = {"prior": [0.7, 0.3], "states": ["innocent", "guilty"], "actions": ["acquit", "convict"],
         "sender_utility": [[0, 1], [0, 1]], "receiver_utility": [[1, 0], [0, 1]]}


def test_persuade_json_and_online(tmp_path, capsys):
    path = tmp_path / "judge.json"
    path.write_text(json.dumps(JUDGE))
    plot = tmp_path / "regret.png"
    assert main(["persuade", str(path), "--json", "--online", "500", "--plot", str(plot)]) == 0
    out = json.loads(capsys.readouterr().out)
    # Kamenica and Gentzkow (2011): value 0.6, pi(convict | innocent) = 3/7; no information 0,
    # full disclosure 0.3.
    assert out["value"] == pytest.approx(0.6, abs=1e-9)
    assert out["scheme"][0][1] == pytest.approx(3 / 7, abs=1e-9)
    assert out["no_information"] == pytest.approx(0.0, abs=1e-12)
    assert out["full_disclosure"] == pytest.approx(0.3, abs=1e-12)
    assert {p["recommended"] for p in out["posteriors"]} == {"acquit", "convict"}
    assert out["online"]["rounds"] == 500 and out["online"]["always_persuasive"]
    assert plot.stat().st_size > 0
    assert main(["persuade", str(path)]) == 0
    text = capsys.readouterr().out
    assert "sender value  0.6" in text and "innocent" in text


@pytest.mark.parametrize("content,needle", [
    ('{"prior": [0.5, 0.6], "sender_utility": [[0, 1], [0, 1]], '
     '"receiver_utility": [[1, 0], [0, 1]]}', "prior sums to 1.1"),
    ('{"prior": [0.5, 0.5], "sender_utility": [[0, NaN], [0, 1]], '
     '"receiver_utility": [[1, 0], [0, 1]]}', "non-finite"),
    ('{"prior": [0.5, 0.5], "sender_utility": [[0, 1], [0, 1]], '
     '"receiver_utility": [[1, 0]]}', "shape mismatch"),
    ('{"prior": [0.5, 0.5]', "not valid JSON"),
    ('[1, 2]', "JSON object"),
])
def test_bad_files_exit_nonzero_with_one_line(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["persuade", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and err.startswith("gametheory: error:")


def test_missing_file_and_bad_online(tmp_path, capsys):
    assert main(["persuade", str(tmp_path / "none.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    path = tmp_path / "judge.json"
    path.write_text(json.dumps(JUDGE))
    assert main(["persuade", str(path), "--online", "0"]) == 2
    assert "--online" in capsys.readouterr().err


def test_module_entry_point(tmp_path):
    path = tmp_path / "judge.json"
    path.write_text(json.dumps(JUDGE))
    out = subprocess.run([sys.executable, "-m", "gametheory", "persuade", str(path), "--json"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["value"] == pytest.approx(0.6, abs=1e-9)
