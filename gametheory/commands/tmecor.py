"""Command line for team games: ``gametheory tmecor GAME --adversary P [--json] [--history F]``.

Also the pieces a ``gametheory psro GAME --variant team|h-psro`` command needs:
:func:`add_team_psro_arguments` (the team-only options) and :func:`run_team_psro_command`.
"""

from __future__ import annotations

import csv
import time

from .options import (
    add_progress_option,
    add_subcommand,
    integer,
    number,
    option_error,
    progress_enabled,
)
from .output import check_output_path, dumps, fmt, format_value, writing

__all__ = ["add_parser", "add_team_psro_arguments", "run_team_psro_command",
           "TEAM_PSRO_VARIANTS"]

#: ``--variant`` values handled by :func:`run_team_psro_command`.
TEAM_PSRO_VARIANTS = ("team", "h-psro")

_GAME_HELP = ("OpenSpiel game string, e.g. 'kuhn_poker(players=3)'; a built-in team game "
              "(heterogeneous, matching_bits); or an .npz n-player payoff tensor ('payoffs')")


DESCRIPTION = """\
Exact team-maxmin equilibrium with correlation (TMECor): the team (every player but the
adversary) coordinates ex ante on a distribution over joint pure plans. Prints the team value
(the team's expected total utility = minus the adversary's) and the certified gap (team best
response minus adversary best response), computed by column generation (one master LP per
iteration).

examples:
  gametheory tmecor "kuhn_poker(players=3)" --adversary 2
  gametheory tmecor heterogeneous --adversary 2 --json --history bounds.csv"""


def add_parser(subparsers) -> None:
    """Register ``tmecor`` on an ``argparse`` subparsers object."""
    p = add_subcommand(subparsers, "tmecor", help="exact TMECor value of a two-team zero-sum game",
                       description=DESCRIPTION)
    p.add_argument("game", help=_GAME_HELP)
    p.add_argument("--adversary", type=integer(0, example=2), required=True, metavar="P",
                   help="the adversary's player index; everybody else is the team")
    p.add_argument("--tol", type=number(0.0, example=1e-10), default=1e-10,
                   help="stop at this gap")
    p.add_argument("--max-iterations", type=integer(1, example=500), default=500, metavar="N",
                   help="most column-generation iterations (master LPs)")
    p.add_argument("--history", metavar="FILE.csv",
                   help="write the bounds after every master LP as CSV (iteration, lower, "
                        "upper, gap) [default: not written]")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_progress_option(p)
    p.set_defaults(func=_cmd_tmecor)


def _cmd_tmecor(args) -> int:
    from ..teams.loading import team_game
    from ..teams.tmecor import solve_tmecor

    if not args.tol >= 0:
        raise option_error(f"--tol {args.tol}", "must be >= 0", "e.g. --tol 1e-10")
    history = check_output_path(args.history, "--history", (".csv",))
    start = time.perf_counter()
    game = team_game(args.game, args.adversary)
    sol = solve_tmecor(game, tol=args.tol, max_iterations=args.max_iterations,
                       progress=progress_enabled(args))
    seconds = time.perf_counter() - start
    if history:
        with writing("--history", history), open(history, "w", newline="") as f:
            rows = csv.writer(f)
            rows.writerow(("iteration", "lower", "upper", "gap"))
            for i, (lo, up) in enumerate(zip(sol.lower_history, sol.upper_history), 1):
                rows.writerow((i, *(format_value(float(v)) for v in (lo, up, up - lo))))
    out = {
        "game": args.game, "team": list(game.team), "adversary": game.adversary,
        "value": sol.value, "gap": sol.gap, "lower": sol.lower, "upper": sol.upper,
        "iterations": sol.iterations, "support": int(len(sol.team.weights)),
        "seconds": seconds,
    }
    if args.json:
        print(dumps(out))
        return 0
    print(f"game        {args.game}: team {list(game.team)} vs adversary {game.adversary}")
    print(f"value       {fmt(sol.value, '.12g')}  (team's expected total utility = "
          "-adversary's)")
    print(f"gap         {fmt(sol.gap, '.3e')}  (team best response {fmt(sol.upper, '.12g')} - "
          f"adversary best response {fmt(sol.lower, '.12g')})")
    print(f"iterations  {sol.iterations} master LPs, {len(sol.team.weights)} joint plans in "
          f"support, {seconds:.2f} s")
    return 0


def add_team_psro_arguments(parser) -> None:
    """Add the team-only options of ``psro --variant team|h-psro``: ``--adversary P`` (default
    the last player) and ``--shared`` (Team-PSRO with one policy for all teammates)."""
    parser.add_argument("--adversary", type=integer(0, example=2), default=None, metavar="P",
                        help="team variants: the adversary's player index [default: the last "
                             "player]")
    parser.add_argument("--shared", action="store_true",
                        help="team variant: teammates share one policy")


def run_team_psro_command(args) -> int:
    """Run ``psro GAME --variant team|h-psro`` from parsed ``args``.

    Reads ``args.game``, ``args.variant``, ``args.iterations`` and, when present,
    ``args.adversary`` (default: the last player), ``args.shared``, ``args.seed``,
    ``args.tol``, ``args.checkpoint``, ``args.resume``, ``args.progress`` (default: a bar when
    stderr is a terminal, :func:`~gametheory.commands.options.progress_enabled`), ``args.json``.
    Prints one JSON object (key ``exploitability``: the TMECor gap per iteration) with
    ``--json``, else a table. Returns the exit status.
    """
    from ..teams.loading import team_game
    from ..teams.psro import team_psro

    variant = args.variant
    if variant not in TEAM_PSRO_VARIANTS:
        raise ValueError(f"unknown team variant {variant!r}; choose one of "
                         f"{list(TEAM_PSRO_VARIANTS)}.")
    adversary = getattr(args, "adversary", None)
    if adversary is None:
        adversary = _num_players(args.game) - 1
    game = team_game(args.game, adversary)
    seed, tol = getattr(args, "seed", None), getattr(args, "tol", None)
    result = team_psro(
        game, variant=variant, iterations=args.iterations,
        shared=bool(getattr(args, "shared", False)), seed=0 if seed is None else seed,
        tol=1e-9 if tol is None else tol, checkpoint=getattr(args, "checkpoint", None),
        resume=bool(getattr(args, "resume", False)),
        progress=progress_enabled(args))
    out = {"game": args.game, "team": list(game.team), "adversary": game.adversary,
           **result.to_json()}
    if getattr(args, "json", False):
        print(dumps(out))
        return 0
    print(f"{variant}{' (shared)' if result.shared else ''} on {args.game}: team "
          f"{list(game.team)} vs adversary {game.adversary}")
    print(f"{'iter':>5} {'TMECor gap':>12} {'lower':>12} {'upper':>12} {'seconds':>9}")
    for i, (g, lo, up, s) in enumerate(zip(result.gap, result.lower, result.upper,
                                           result.seconds)):
        print(f"{i:>5} {fmt(g, '>12.4e')} {fmt(lo, '>12.6f')} {fmt(up, '>12.6f')} {s:>9.3f}")
    status = ("converged" if result.converged else "stalled" if result.stalled
              else "iteration limit")
    print(f"{status}; gap = upper - lower (team vs adversary NashConv, not halved)")
    return 0


def _num_players(spec: str) -> int:
    from ..teams.loading import TEAM_GAMES

    if spec in TEAM_GAMES:
        return TEAM_GAMES[spec]().num_players
    if spec.endswith(".npz"):
        from ..games.files import load_game_file

        return int(load_game_file(spec).payoffs.shape[0])
    from ..teams.extensive_form import _load

    return _load(spec).num_players()
