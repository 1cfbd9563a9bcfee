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
