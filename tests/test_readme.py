"""The README: its figures exist and are small, and its command lines parse."""

import re
import shlex
from pathlib import Path

import pytest

from gametheory.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_shows_normal_form_figures_beside_the_extensive_form_ones():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", README)
    normal_form = [p for p in images if not Path(p).name.startswith("efg_")]
    extensive_form = [p for p in images if Path(p).name.startswith("efg_")]
    assert normal_form and extensive_form
    for rel in images:
        path = ROOT / rel
        assert path.is_file(), f"{rel} is linked from the README but missing"
        assert path.stat().st_size < 150_000, f"{rel} is too large for the repository"


COMMANDS = [line.split("#")[0].strip() for line in README.splitlines()
            if line.startswith("gametheory ")]


@pytest.mark.parametrize("line", COMMANDS)
def test_readme_command_lines_parse(line):
    argv = shlex.split(line)[1:]
    if argv == ["--version"]:
        return
    args = build_parser().parse_args(argv)
    assert callable(args.func)


def test_readme_says_what_each_seed_does_and_what_ctrl_c_prints():
    text = " ".join(README.split())
    # The two seeds: the game's (in its name) and the start's (--seed), and the implication.
    assert "giving `--seed` implies `--initial random`" in text
    assert "`random_zero_sum:20x20:seed=3` is the same matrix" in text
    assert "`--seed 1 drew only this start, the game's payoffs come from its own seed=3`" in text
    # Ctrl-C: what is kept and printed, from iteration 0, and how to rerun.
    assert "interrupted at iteration 0 of N steps" in text and "rerun with --steps" in text
    assert "writes `--plot` and `--policy-out`" in text
