"""``gametheory games`` and ``gametheory solvers``: what can be solved, and with what."""

from __future__ import annotations

import re

from ..games import zoo
from ..solvers.params import solver_parameters
from .options import add_subcommand
from .output import format_value

__all__ = ["add_parser", "summary"]

# A sentence ends at ". " before a capital letter, except after an abbreviation ("App. C.3").
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]`'])\.\s+(?=[A-Z])")
_ABBREVIATION = re.compile(r"\b(?:al|App|Alg|Sec|Thm|Fig|eq|Eq|e\.g|i\.e|cf|vs)$")


def summary(factory) -> str:
    """The first sentence of a solver's docstring on one line (never cut mid-sentence)."""
    doc = (factory.__doc__ or "").strip()
    paragraph = " ".join(doc.split("\n\n")[0].split())
    first = paragraph
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[: match.start()]
        if not _ABBREVIATION.search(before):
            first = before + "."
            break
    first = first.replace("``", "`")
    return first if first.endswith(".") else first + "."


def _solver_rows(registry: dict) -> list[str]:
    rows = []
    for name, factory in sorted(registry.items()):
        params = ", ".join(f"{k}={format_value(v)}" for k, v in solver_parameters(factory).items())
        rows.append(f"  {name:<16} {params or '(no parameters)'}\n  {'':<16} {summary(factory)}")
    return rows


def _cmd_games(args) -> int:
    print("Normal-form games (name or pattern):")
    for name, text in zoo.describe():
        print(f"  {name:<32} {text}")
    print("  FILE.csv                         2-player zero-sum matrix: the row player's payoffs,")
    print("                                   comma-separated numbers, one row per line, no header")
    print("  FILE.npy                         the same matrix saved with np.save")
    print("  FILE.npz                         n-player payoff tensor [n, A_1, ..., A_n] under the")
    print("                                   key 'payoffs' (np.savez(path, payoffs=T))")
    print("Extensive-form games: any two-player zero-sum OpenSpiel game string, e.g.")
    print("  kuhn_poker, leduc_poker, liars_dice(numdice=1,dice_sides=4)")
    return 0


def _cmd_solvers(args) -> int:
    from ..solvers import NORMAL_FORM_SOLVERS

    print("Normal-form solvers (set parameters with --set key=value; switches take true/false):")
    print("\n".join(_solver_rows(NORMAL_FORM_SOLVERS)))
    try:
        from ..efg import EFG_SOLVERS
    except ImportError:
        print("Extensive-form solvers: install the 'openspiel' extra.")
        return 0
    print("Extensive-form solvers (OpenSpiel games):")
    print("\n".join(_solver_rows(EFG_SOLVERS)))
    return 0


def add_parser(subparsers) -> None:
    """Register ``games`` and ``solvers``."""
    games = add_subcommand(subparsers, "games", help="list the game zoo and the file formats",
                           description="List the game zoo (names and patterns) and the payoff "
                                       "file formats that `gametheory solve` and `psro` read.")
    games.set_defaults(func=_cmd_games)
    listing = add_subcommand(subparsers, "solvers", help="list solvers with parameters",
                             description="List every solver with its parameters and their "
                                         "defaults (set them with `gametheory solve ... --set "
                                         "key=value`; switches take true/false).")
    listing.set_defaults(func=_cmd_solvers)
