"""One command line across solve, psro, tmecor and persuade: help with defaults, one-line errors
that name the option, one progress rule, values without ``-0.0``, the seeds, Ctrl-C."""

import argparse
import errno
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from gametheory.cli import build_parser, main
from gametheory.commands import output as output_module
from gametheory.commands.output import check_output_path, clean_json, dumps, fmt, format_value

JUDGE = {"prior": [0.7, 0.3], "states": ["innocent", "guilty"], "actions": ["acquit", "convict"],
         "sender_utility": [[0, 1], [0, 1]], "receiver_utility": [[1, 0], [0, 1]]}
COMMANDS = ("solve", "psro", "tmecor", "persuade")


@pytest.fixture
def judge(tmp_path):
    path = tmp_path / "judge.json"
    path.write_text(json.dumps(JUDGE))
    return str(path)


def _subparser(name):
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == ""
    assert err.count("\n") == 0 and "Traceback" not in err and "Errno" not in err, err
    assert err.startswith("gametheory: error: ")
    assert "?." not in err and ".." not in err.replace("...", "")  # one clean sentence end
    return err


# --- help: every option with its default and its choices --------------------------------------

def _help_blocks(text: str) -> dict:
    """``{option string: its help text}`` from the options section of a --help output."""
    blocks, current = {}, None
    for line in text.split("options:", 1)[1].splitlines():
        match = re.match(r"  (-[-\w]+)", line)
        if match:
            current = match.group(1)
            blocks[current] = line
        elif current is not None:
            blocks[current] += " " + line.strip()
    return {k: " ".join(v.split()) for k, v in blocks.items()}


@pytest.mark.parametrize("command", COMMANDS + ("games", "solvers"))
def test_help_lists_every_option_with_its_default_and_choices(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    blocks = _help_blocks(text)
    for action in _subparser(command)._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        block = blocks[action.option_strings[0]]
        assert "default:" in block or "[required]" in block, block
        for value in action.choices or ():
            assert value in block, (value, block)
    assert "``" not in text  # no raw docstring markup


def test_help_says_the_defaults_the_docs_give(capsys):
    blocks = {}
    for command in COMMANDS:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        blocks[command] = _help_blocks(capsys.readouterr().out)
    assert "[default: tabular]" in blocks["psro"]["--policy"]
    assert "[default: auto]" in blocks["psro"]["--symmetric"]
    assert "[default: 1000]" in blocks["solve"]["--steps"]
    assert "[default: 1e-10]" in blocks["tmecor"]["--tol"]
    for command in COMMANDS:
        assert "shown when stderr is a terminal" in blocks[command]["--progress"]
    seed = blocks["solve"]["--seed"]
    assert "implies --initial random" in seed and "seed=" in seed


def test_persuade_help_shows_the_file_format(capsys):
    with pytest.raises(SystemExit):
        main(["persuade", "--help"])
    text = capsys.readouterr().out
    for needle in ('"prior"', '"sender_utility"', '"receiver_utility"', "[S][A]", "[S]",
                   '"states", "actions"', '{"prior": [0.7, 0.3]'):
        assert needle in text


def test_psro_choices_match_the_registries():
    from gametheory.commands import psro as psro_command
    from gametheory.psro.initializers import INITIALIZERS
    from gametheory.psro.oracles import ORACLES
    from gametheory.psro.runner import VARIANTS

    assert psro_command.VARIANT_NAMES == tuple(VARIANTS)
    assert psro_command.ORACLE_NAMES == tuple(ORACLES)
    assert psro_command.INIT_NAMES == tuple(INITIALIZERS)


# --- errors: one line that names the option, exit 2 ---------------------------------------------

def _unwritable() -> str:
    """A folder that exists but where no file can be created (even as root)."""
    if not os.path.isdir("/proc"):
        pytest.skip("no /proc")
    return "/proc"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_output_path_is_one_line_naming_the_option(capsys, judge, command, tmp_path):
    bad = _unwritable()
    argv, option = {
        "solve": (["solve", "rps", "--solver", "mwu", "--plot", f"{bad}/x.png"], "--plot"),
        "psro": (["psro", "rps", "--policy-out", f"{bad}/x.json"], "--policy-out"),
        "tmecor": (["tmecor", "heterogeneous", "--adversary", "2", "--history",
                    f"{bad}/x.csv"], "--history"),
        "persuade": (["persuade", judge, "--online", "10", "--plot", f"{bad}/x.png"], "--plot"),
    }[command]
    err = _error(capsys, argv)
    assert f"{option} '{bad}/" in err and "cannot write there" in err
    assert "folder you can write to" in err
    # A missing folder and a folder given as a file say so, naming the option too.
    err = _error(capsys, ["psro", "rps", "--policy-out", str(tmp_path / "nodir" / "x.json")])
    assert "--policy-out" in err and "does not exist" in err
    err = _error(capsys, ["psro", "rps", "--checkpoint", judge])
    assert "--checkpoint" in err and "not a folder" in err


def test_every_os_error_of_an_output_path_names_the_option(monkeypatch, tmp_path):
    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output_module, "open", full_disk, raising=False)
    with pytest.raises(ValueError) as info:
        check_output_path(str(tmp_path / "x.csv"), "--history", (".csv",))
    assert str(info.value).startswith("--history ") and "No space left on device" in str(
        info.value)
    with pytest.raises(ValueError, match="--plot .* writing failed"):
        with output_module.writing("--plot", tmp_path / "x.png"):
            full_disk()


def test_output_paths_are_checked_before_any_work(capsys, monkeypatch, judge):
    import gametheory.psro
    from gametheory.persuasion import lp
    from gametheory.teams import tmecor

    def no_work(*args, **kwargs):
        raise AssertionError("worked before checking the output paths")

    for module, name in ((gametheory.psro, "run_psro"), (tmecor, "solve_tmecor"),
                         (lp, "optimal_scheme")):
        monkeypatch.setattr(module, name, no_work)
    _error(capsys, ["psro", "rps", "--policy-out", "/proc/x.json"])
    _error(capsys, ["tmecor", "heterogeneous", "--adversary", "2", "--history", "/proc/x.csv"])
    _error(capsys, ["persuade", judge, "--online", "10", "--plot", "/proc/x.png"])


@pytest.mark.parametrize("argv,needles", [
    (["solve", "rps", "--solver", "mwu", "--steps", "abc"], ["--steps", "'abc'", "integer"]),
    (["solve", "rps", "--solver", "mwu", "--initial", "unifrom"],
     ["--initial", "Did you mean 'uniform'?"]),
    (["solve", "rps", "--solver", "mwu", "--stpes", "5"], ["--stpes", "Did you mean '--steps'?"]),
    (["solve", "rps", "--solver", "mwu", "--set", "lr=abc"],
     ["--set lr=abc", "lr must be a number > 0", "default is lr=0.1"]),
    (["solve", "rps"], ["--solver", "missing", "gametheory solvers"]),
    (["psro", "rps", "--symmetric", "maybe"], ["--symmetric", "auto, yes, no"]),
    (["psro", "rps", "--policy", "cnn"], ["--policy", "tabular, mlp"]),
    (["psro", "rps", "--lr", "0"], ["--lr", "> 0"]),
    (["tmecor", "heterogeneous", "--adversary", "2", "--max-iterations", "0"],
     ["--max-iterations", ">= 1"]),
    (["tmecor", "heterogeneous", "--adversary", "x"], ["--adversary", "'x'"]),
    (["persuade", "judge.json", "--delta", "2"], ["--delta", "< 1"]),
    (["persuade", "judge.json", "--plot", "r.png"], ["--plot", "--online"]),
    (["slove", "rps"], ["unknown command 'slove'", "Did you mean 'solve'?"]),
    (["solve", "rps", "--solver", "mpoo"], ["--solver mpoo: unknown solver",
                                            "Did you mean 'mpo'?"]),
])
def test_a_bad_value_is_one_line_naming_the_option(capsys, argv, needles, judge):
    argv = [judge if a == "judge.json" else a for a in argv]
    err = _error(capsys, argv)
    for needle in needles:
        assert needle in err, err
    assert "callable" not in err


def test_a_solver_of_the_other_family_says_where_it_applies(capsys):
    err = _error(capsys, ["solve", "rps", "--solver", "cfr_plus"])
    assert "--solver cfr_plus: an extensive-form solver: use it on an OpenSpiel game" in err
    assert "unknown" not in err and "mwu" in err


def test_csv_hints_name_the_real_problem(capsys, tmp_path):
    cases = {"trailing.csv": ("1,2,\n3,4,\n", "ends with a comma (a trailing comma?)"),
             "spaces.csv": ("1 2\n3 4\n", "separates values with spaces, not commas"),
             "double.csv": ("1,,2\n3,4,5\n", "empty value at column 2"),
             "header.csv": ("rock,paper\n1,2\n", "(a header line?)")}
    for name, (content, hint) in cases.items():
        (tmp_path / name).write_text(content)
        err = _error(capsys, ["solve", str(tmp_path / name), "--solver", "mwu"])
        assert hint in err
        assert ("a header line" in err) == (name == "header.csv")


# --- the progress rule ---------------------------------------------------------------------------

def _argv(command, judge):
    return {"solve": ["solve", "rps", "--solver", "mwu", "--steps", "200"],
            "psro": ["psro", "rps", "--iterations", "3", "--initial-strategy", "0"],
            "tmecor": ["tmecor", "heterogeneous", "--adversary", "2"],
            "persuade": ["persuade", judge, "--online", "300", "--plot",
                         str(os.path.join(os.path.dirname(judge), "r.png"))]}[command]


_FRAME = re.compile(r"\r|\d+%\||it/s|s/it")


def test_no_bar_frames_in_redirected_stderr(tmp_path, judge):
    """Each subcommand with stderr redirected to a file, as in a batch job: no bar frames."""
    for command in COMMANDS:
        log = tmp_path / f"{command}.err"
        with open(log, "w") as err:
            proc = subprocess.run([sys.executable, "-m", "gametheory", *_argv(command, judge)],
                                  stdout=subprocess.PIPE, stderr=err, text=True, timeout=300)
        assert proc.returncode == 0, log.read_text()
        assert not _FRAME.search(log.read_text()), (command, log.read_text())


@pytest.mark.parametrize("command", COMMANDS)
def test_progress_forces_a_bar_and_no_progress_hides_it(capsys, command, judge):
    assert main(_argv(command, judge) + ["--progress"]) == 0
    assert _FRAME.search(capsys.readouterr().err), command
    assert main(_argv(command, judge) + ["--no-progress"]) == 0
    assert not _FRAME.search(capsys.readouterr().err)


# --- values --------------------------------------------------------------------------------------

def test_values_never_print_as_negative_zero(capsys, tmp_path):
    assert fmt(-0.0, ".6g") == "0" and fmt(-1e-17, ".4f") == "0.0000"
    assert fmt(-1e-17, ">12.6f") == "    0.000000" and fmt(-0.0, ".3e") == "0.000e+00"
    assert fmt(-0.5, ".3f") == "-0.500" and fmt(-2e-17, ".3e") == "-2.000e-17"
    assert dumps({"a": -0.0, "b": [np.float64(-0.0), 1.5], "c": np.array([-0.0])}) == (
        '{"a": 0.0, "b": [0.0, 1.5], "c": [0.0]}')
    assert clean_json((-0.0, "x", None, True)) == [0.0, "x", None, True]
    # H-PSRO on matching bits: the meta-game value is -0.0 in float arithmetic.
    assert main(["psro", "matching_bits", "--variant", "h-psro", "--iterations", "3",
                 "--json"]) == 0
    text = capsys.readouterr().out
    assert "-0.0" not in text and "meta_value" in text
    # TMECor on the heterogeneous game: the lower bound of the last master LP is -0.0.
    history = tmp_path / "bounds.csv"
    assert main(["tmecor", "heterogeneous", "--adversary", "2", "--history", str(history)]) == 0
    assert "-0" not in capsys.readouterr().out
    rows = history.read_text().splitlines()
    assert rows[0] == "iteration,lower,upper,gap" and rows[-1] == "2,0.0,0.0,0.0"


def test_switches_print_as_true_false_everywhere(capsys):
    assert format_value(False) == "false" and format_value(True) == "true"
    assert main(["solvers"]) == 0
    text = capsys.readouterr().out
    assert not re.search(r"=(True|False)\b", text)
    for switch in ("polish=false", "alternating=false", "alternating=true",
                   "linear_average=true", "extragradient=true", "adaptive_lr=true"):
        assert switch in text
    assert "extragradient=1" not in text and "alternating=0" not in text
    assert main(["solve", "kuhn_poker", "--solver", "cfr_plus", "--steps", "5",
                 "--json"]) == 0
    params = json.loads(capsys.readouterr().out)["params"]
    assert params["alternating"] is True and params["linear_average"] is True
    assert main(["solve", "rps", "--solver", "mwu", "--steps", "5"]) == 0
    assert "polish=false" in capsys.readouterr().out


# --- the two seeds -------------------------------------------------------------------------------

def test_game_seed_and_start_seed_are_told_apart(capsys):
    argv = ["solve", "random_zero_sum:6x4:seed=3", "--solver", "omwu", "--steps", "20",
            "--seed", "1"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "payoffs drawn with the game's seed=3" in text
    assert "--seed implies --initial random" in text
    assert "--seed 1 drew only this start, the game's payoffs come from its own seed=3" in text
    assert main(argv + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["seed"], out["game_seed"], out["initial"]) == (1, 3, "random")
    # --seed draws the start only: another --seed, the same game (the same uniform value).
    assert main(argv[:-1] + ["2", "--json"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["history"]["exploitability_last"][0] != out["history"]["exploitability_last"][0]
    assert main(["solve", "rps", "--solver", "mwu", "--steps", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["game_seed"] is None


def test_seed_with_a_uniform_start_is_refused_and_an_unused_seed_is_said(capsys):
    err = _error(capsys, ["solve", "rps", "--solver", "mwu", "--initial", "uniform",
                          "--seed", "1"])
    assert "--seed 1" in err and "--initial random" in err
    assert main(["solve", "biased_rps", "--solver", "mwu", "--steps", "5", "--initial", "auto",
                 "--seed", "2"]) == 0
    assert "--seed 2 unused" in capsys.readouterr().out


# --- Ctrl-C keeps what was recorded --------------------------------------------------------------

def test_ctrl_c_after_records_prints_and_writes_them(capsys, monkeypatch, tmp_path):
    from gametheory.commands import solve as solve_command

    calls = []

    def stop_after_two_records(args):
        calls.append(1)
        return len(calls) >= 2

    monkeypatch.setattr(solve_command, "stop_requested", stop_after_two_records)
    paths = {"--history": tmp_path / "h.csv", "--plot": tmp_path / "h.png",
             "--policy-out": tmp_path / "p.json"}
    argv = ["solve", "rps", "--solver", "mwu", "--steps", "1000", "--record-every", "100"]
    for option, path in paths.items():
        argv += [option, str(path)]
    assert main(argv) == 130
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.count("\n") == 0 and err.startswith("gametheory: interrupted after 200 of 1000")
    assert "kept 3 records (iterations 0 to 200)" in err and "--steps 200" in err
    for path in paths.values():
        assert path.exists() and str(path) in err
    assert "steps     200 of 1000 (interrupted by Ctrl-C)" in captured.out
    assert "player 0" in captured.out
    assert len(json.loads(paths["--policy-out"].read_text())) == 2


def test_ctrl_c_before_the_first_update_keeps_iteration_0(capsys, monkeypatch, tmp_path):
    from gametheory import driver
    from gametheory.commands import Interrupted

    def interrupted(*args, **kwargs):
        raise Interrupted("stopped")

    monkeypatch.setattr(driver, "solve", interrupted)
    assert main(["solve", "rps", "--solver", "mwu", "--policy-out",
                 str(tmp_path / "p.json")]) == 130
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("gametheory: interrupted at iteration 0 of 1000 steps")
    assert "kept the record at iteration 0" in err and "rerun the same command" in err
    assert "the report on stdout" in err and "p.json" in err
    assert "exploitability (NashConv/2, as OpenSpiel)  last: " in captured.out
    assert "the start profile" in captured.out
    start = json.loads((tmp_path / "p.json").read_text())  # the seeded random start
    assert len(start) == 2 and abs(sum(start[0]) - 1) < 1e-12
    assert main(["solve", "rps", "--solver", "mwu", "--json"]) == 130
    partial = json.loads(capsys.readouterr().out)
    assert partial["interrupted"] and partial["history"]["step"] == [0]
