"""The command line, in-process (``gametheory.cli.main``) and as ``python -m`` in a subprocess or
under a pseudo-terminal."""

import csv
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import numpy as np
import pytest

import gametheory
from gametheory import games, solvers
from gametheory.cli import main
from gametheory.solvers import solver_parameters


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    return err


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


# --- the start: the uniform profile is the NE of RPS, where MWU and replicator would not move ---

@pytest.mark.parametrize("solver", ["mwu", "replicator"])
def test_cycling_methods_start_away_from_the_uniform_equilibrium(capsys, solver):
    out = _json(capsys, ["solve", "rps", "--solver", solver, "--steps", "5000", "--json"])
    assert out["initial"] == "random" and out["seed"] == 0
    # RPS: unique NE uniform (value 0), so MWU / replicator from an interior start cycle and
    # their last iterate stays far from it (Bailey & Piliouras 2018).
    assert out["exploitability_last"] > 0.05
    uniform = _json(capsys, ["solve", "rps", "--solver", solver, "--steps", "5000",
                             "--initial", "uniform", "--json"])
    assert uniform["initial"] == "uniform" and uniform["seed"] is None
    assert uniform["exploitability_last"] == 0.0
    text_argv = ["solve", "rps", "--solver", solver, "--steps", "10"]
    assert main(text_argv) == 0
    assert "random (seed 0)" in capsys.readouterr().out


def test_start_is_uniform_where_uniform_is_not_an_equilibrium_and_seeds_reproduce(capsys):
    # Biased RPS NE (1/16, 10/16, 5/16) (Perolat et al. 2021): uniform is not an equilibrium.
    out = _json(capsys, ["solve", "biased_rps", "--solver", "mwu", "--steps", "10", "--json"])
    assert out["initial"] == "uniform" and out["seed"] is None
    runs = [_json(capsys, ["solve", "rps", "--solver", "mwu", "--steps", "10", "--seed", s,
                           "--json"]) for s in ("3", "3", "4")]
    assert runs[0]["seed"] == 3 and runs[0]["initial"] == "random"
    assert runs[0]["policies"] == runs[1]["policies"] != runs[2]["policies"]


# --- strict parameters, shared by both solver families ------------------------------------

def test_switch_words_mean_the_same_in_every_solver(capsys):
    from gametheory.driver import solve
    from gametheory.solvers import make_solver, parse_value
    from gametheory.solvers.params import check_flag

    for word, expected in (("no", False), ("NO", False), ("0", False), ("false", False),
                           ("yes", True), ("True", True), ("1", True)):
        assert check_flag(parse_value(word), "extragradient") is expected
    game = games.perturbed_rps()

    def last(**params):
        return np.asarray(solve(game, make_solver("mmd", lr=1.0, **params), 50).last[0])

    plain, mirror = last(extragradient=False), last(extragradient=True)
    assert not np.allclose(plain, mirror)
    np.testing.assert_array_equal(last(extragradient=parse_value("no")), plain)
    for bad in ("maybe", "on", "2"):
        err = _error(capsys, ["solve", "rps", "--solver", "mmd", "--set",
                              f"extragradient={bad}"])
        assert "extragradient" in err and "true/false" in err


def test_every_parameter_error_names_the_parameter_the_user_wrote(capsys):
    from gametheory.efg import EFG_SOLVERS
    from gametheory.solvers import NORMAL_FORM_SOLVERS

    for registry in (NORMAL_FORM_SOLVERS, EFG_SOLVERS):
        for name, factory in registry.items():
            for param in solver_parameters(factory):
                with pytest.raises(ValueError, match=rf"\b{param}\b") as info:
                    solvers.make_solver(name, registry=registry, **{param: "maybe"})
                assert "magnet_every" not in str(info.value) or param == "magnet_every"
    err = _error(capsys, ["solve", "rps", "--solver", "mpo", "--set", "reset_every=0"])
    assert "reset_every" in err and "magnet_every" not in err
    err = _error(capsys, ["solve", "rps", "--solver", "mpo", "--set", "reset=5"])
    assert "lr, temp, reset_every" in err and "Did you mean 'reset_every'?" in err


@pytest.mark.parametrize(
    "argv,match",
    [
        (["solve", "no_such_game", "--solver", "mwu"], "unknown game"),
        (["solve", "rps", "--solver", "sgd"], "unknown solver"),
        (["solve", "rps", "--solver", "mpoo"], "Did you mean 'mpo'?"),
        (["solve", "rps", "--solver", "mwu", "--set", "lr"], "key=value"),
        (["solve", "rps", "--solver", "mwu", "--set", "lr=-2"], "finite positive"),
        (["solve", "rps", "--solver", "mwu", "--set", "lr=fast"], "lr must be a number"),
        (["solve", "rps", "--solver", "mwu", "--set", "lr=true"], "lr must be a number"),
        (["solve", "rps", "--solver", "mwu", "--set", "beta=2"], "no parameter beta"),
        (["solve", "rps", "--solver", "mwu", "--steps", "0"], "--steps"),
        (["solve", "rps", "--solver", "mwu", "--record-every", "0"], "--record-every"),
        (["solve", "missing.npy", "--solver", "mwu"], "does not exist"),
        (["solve", "random_zero_sum:0x3", "--solver", "mwu"], "positive integer"),
        (["solve", "rps", "--solver", "mwu", "--plot", "curve.txt"], ".png"),
    ],
)
def test_errors_exit_nonzero_with_one_line(capsys, argv, match):
    assert match in _error(capsys, argv)


# --- reproducible output ---------------------------------------------------------------------

def test_json_holds_everything_needed_to_repeat_the_run(capsys, tmp_path):
    argv = ["solve", "rps", "--solver", "mpo", "--steps", "300", "--record-every", "100",
            "--set", "temp=0.2", "--json", "--pretty", "--history", str(tmp_path / "h.csv"),
            "--plot", str(tmp_path / "h.png"), "--policy-out", str(tmp_path / "p.json")]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("{\n") and "\n \"params\": {" in text  # indented
    out = json.loads(text)
    expected = {**solver_parameters(solvers.mpo), "temp": 0.2}
    assert out["params"] == json.loads(json.dumps(expected))  # tuples come back as lists
    assert out["version"] == gametheory.__version__ and out["seed"] == 0
    assert out["history"]["step"] == [0, 100, 200, 300] and not out["interrupted"]
    with open(tmp_path / "h.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["step", "exploitability_last", "exploitability_avg"]
    assert [float(r[1]) for r in rows[1:]] == out["history"]["exploitability_last"]
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "p.json").read_text()) == out["policies"]
    # The same command again: the same numbers (the seed and the parameters are all it needs).
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["history"] == out["history"] and again["policies"] == out["policies"]


def test_output_paths_are_checked_before_solving(capsys, monkeypatch, tmp_path):
    from gametheory import driver

    def no_solve(*args, **kwargs):
        raise AssertionError("solved before checking the output paths")

    monkeypatch.setattr(driver, "solve", no_solve)
    for option, path, match in (("--policy-out", "/nonexistent/dir/p.json", "does not exist"),
                                ("--history", str(tmp_path), "is a folder"),
                                ("--plot", str(tmp_path / "nodir" / "x.png"), "create it")):
        err = _error(capsys, ["solve", "rps", "--solver", "mwu", option, path])
        assert option in err and match in err and "Errno" not in err


def test_labels_say_nashconv_over_two_only_for_two_player_zero_sum(capsys, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "three.npz", payoffs=rng.uniform(size=(3, 2, 2, 2)))
    assert main(["solve", str(tmp_path / "three.npz"), "--solver", "mwu", "--steps", "10"]) == 0
    text = capsys.readouterr().out
    assert "NashConv/3" in text and "NashConv/2" not in text and "general-sum" in text
    shapley = _json(capsys, ["solve", "shapley", "--solver", "mwu", "--steps", "10", "--json"])
    assert shapley["zero_sum"] is False and "general-sum" in shapley["exploitability"]
    assert main(["solve", "rps", "--solver", "mwu", "--steps", "10"]) == 0
    assert "NashConv/2, as OpenSpiel" in capsys.readouterr().out


# --- listings, version, names ----------------------------------------------------------------

def test_listing_commands(capsys):
    assert main(["games"]) == 0
    text = capsys.readouterr().out
    assert "comal_3x3" in text and "random_zero_sum:MxN:seed=S" in text
    assert "comma-separated numbers" in text and "'payoffs'" in text
    assert main(["solvers"]) == 0
    text = capsys.readouterr().out
    for name in ("mwu", "omwu", "extragradient", "mmd", "mpo", "comal", "inpo", "nash_md",
                 "rm_plus", "fictitious_play", "replicator"):
        assert f"  {name} " in text
    assert "reset_every=" in text
    # Whole first sentences, e.g. MPO's (Wang et al. 2024, Alg. 1), not cut at a line break.
    assert "is reset to the current iterate, every `reset_every` steps or (`\"adaptive\"`)" in text
    summaries = [line.strip() for line in text.splitlines() if line.startswith(" " * 19)]
    assert summaries and all(s.endswith((".", ".)")) for s in summaries)


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"gametheory {gametheory.__version__}"


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "gametheory", "solve", "rps", "--solver",
                           "mwu", "--steps", "10", "--json"], capture_output=True, text=True,
                          check=True)
    assert json.loads(proc.stdout)["solver"] == "mwu"
    bad = subprocess.run([sys.executable, "-m", "gametheory", "solve", "nope", "--solver",
                          "mwu"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("gametheory: error:")


# --- Ctrl-C and progress bars ----------------------------------------------------------------

def test_ctrl_c_stops_a_long_solve_with_one_line_and_the_partial_json(tmp_path):
    history = tmp_path / "h.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gametheory", "solve", "rps", "--solver", "mwu", "--steps",
         str(10**9), "--record-every", "20000", "--json", "--history", str(history)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        # Wait until the solve is under way: the curve is written record by record.
        while not (history.exists() and len(history.read_text().splitlines()) >= 3):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert elapsed < 2.0
    assert proc.returncode == 130
    assert err.count("\n") == 1 and err.startswith("gametheory: interrupted after")
    assert "Traceback" not in err
    partial = json.loads(out)
    assert partial["interrupted"] and 0 < partial["steps_done"] < 10**9
    assert partial["history"]["step"][0] == 0 and len(partial["policies"]) == 2


def _run_in_terminal(argv, timeout=240):
    """Run ``argv`` with stderr on a pseudo-terminal (100 columns); return (rc, stdout, tty)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    out = proc.stdout.read()
    proc.wait(timeout=10)
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


def test_progress_bar_by_default_on_a_terminal_and_silenced_by_no_progress():
    argv = [sys.executable, "-m", "gametheory", "solve", "rps", "--solver", "mwu", "--steps",
            "2000"]
    rc, out, tty = _run_in_terminal(argv)
    assert rc == 0 and "steps     2000" in out
    assert "mwu: 100%" in tty and "2000/2000" in tty
    rc, out, tty = _run_in_terminal(argv + ["--no-progress"])
    assert rc == 0 and "100%" not in tty
