"""Command line: ``gametheory games | solvers | solve GAME --solver NAME ...``.

Errors (unknown names, unreadable files, bad values) print one line to stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .games import files as game_files
from .games import zoo

__all__ = ["main", "load_game", "build_parser"]


class CliError(ValueError):
    """A user error reported as one line."""


def _is_file_game(spec: str) -> bool:
    return Path(spec).suffix in game_files.SUFFIXES


def _zoo_head(spec: str) -> bool:
    head = spec.split(":")[0]
    return any(head == name.split(":")[0] for name, _ in zoo.describe())


def load_game(spec: str):
    """Resolve GAME: a ``.npy``/``.csv``/``.npz`` file, a zoo name, or an OpenSpiel game string.

    Returns ``(game, kind)`` with kind ``"normal_form"`` or ``"extensive_form"``.
    """
    if _is_file_game(spec):
        return game_files.load_game_file(spec), "normal_form"
    if _zoo_head(spec):
        return zoo.make(spec), "normal_form"
    try:
        from . import efg
    except ImportError as err:  # OpenSpiel not installed
        raise CliError(
            f"unknown game {spec!r}: not in the zoo (`gametheory games`), and OpenSpiel games "
            f"need the 'openspiel' extra ({err})."
        ) from err
    import pyspiel

    if spec.split("(")[0].strip() not in pyspiel.registered_names():
        raise CliError(
            f"unknown game {spec!r}: neither a zoo game (`gametheory games`), a .npy/.csv/.npz "
            "file, nor an OpenSpiel game name."
        )
    try:
        return efg.sequence_form_game(spec), "extensive_form"
    except ValueError as err:
        raise CliError(
            f"unknown or unsupported game {spec!r}: {err} (zoo games: `gametheory games`)."
        ) from err


def _registry(kind: str) -> dict:
    if kind == "normal_form":
        from .solvers import NORMAL_FORM_SOLVERS

        return NORMAL_FORM_SOLVERS
    from .efg import EFG_SOLVERS

    return EFG_SOLVERS


def _parse_sets(pairs: list[str]) -> dict:
    from .solvers import parse_value

    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--set expects key=value; got {pair!r}.")
        params[key.strip()] = parse_value(value)
    return params


def _solver_rows(registry: dict) -> list[str]:
    from .solvers import solver_parameters

    rows = []
    for name, factory in sorted(registry.items()):
        params = ", ".join(f"{k}={v!r}" for k, v in solver_parameters(factory).items())
        summary = (factory.__doc__ or "").strip().splitlines()[0] if factory.__doc__ else ""
        rows.append(f"  {name:<16} {params or '(no parameters)'}\n  {'':<16} {summary}")
    return rows


def _cmd_games(args) -> int:
    print("Normal-form games (name or pattern):")
    for name, text in zoo.describe():
        print(f"  {name:<32} {text}")
    print("  FILE.npy | FILE.csv              2-player zero-sum matrix (row player's payoffs)")
    print("  FILE.npz                         n-player payoff tensor under the key 'payoffs'")
    print("Extensive-form games: any two-player zero-sum OpenSpiel game string, e.g.")
    print("  kuhn_poker, leduc_poker, liars_dice(numdice=1,dice_sides=4)")
    return 0


def _cmd_solvers(args) -> int:
    from .solvers import NORMAL_FORM_SOLVERS

    print("Normal-form solvers (set parameters with --set key=value):")
    print("\n".join(_solver_rows(NORMAL_FORM_SOLVERS)))
    try:
        from .efg import EFG_SOLVERS
    except ImportError:
        print("Extensive-form solvers: install the 'openspiel' extra.")
        return 0
    print("Extensive-form solvers:")
    print("\n".join(_solver_rows(EFG_SOLVERS)))
    return 0


def _to_list(x):
    import numpy as np

    return np.asarray(x, dtype=float).tolist()


def _cmd_solve(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from . import driver
    from .solvers import make_solver

    game, kind = load_game(args.game)
    params = _parse_sets(args.set or [])
    try:
        solver = make_solver(args.solver, registry=_registry(kind), **params)
    except TypeError as err:
        raise CliError(f"bad parameter for solver {args.solver!r}: {err}") from err
    initial = None
    if args.seed is not None:
        if kind != "normal_form":
            raise CliError("--seed draws a random initial policy for normal-form games only.")
        initial = driver.random_initial_policies(jax.random.PRNGKey(args.seed), game)
    if args.steps < 1:
        raise CliError(f"--steps must be >= 1; got {args.steps}.")
    start = time.perf_counter()
    result = driver.solve(game, solver, args.steps, record_every=args.record_every,
                          initial=initial, progress=args.progress)
    jax.block_until_ready(result.exploitability_last)
    seconds = time.perf_counter() - start
    expl_last = float(result.exploitability_last[-1])
    expl_avg = float(result.exploitability_avg[-1])
    if kind == "extensive_form":
        from .efg import plans_to_policy_dict

        policies = plans_to_policy_dict(game, result.last)
    else:
        policies = [_to_list(p) for p in result.last]
    if args.policy_out:
        Path(args.policy_out).write_text(json.dumps(policies, indent=1))
    out = {
        "game": args.game,
        "kind": kind,
        "solver": args.solver,
        "params": params,
        "steps": args.steps,
        "exploitability_last": expl_last,
        "exploitability_avg": expl_avg,
        "policies": policies,
        "seconds": seconds,
    }
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"game      {args.game} ({kind.replace('_', '-')})")
    print(f"solver    {args.solver} {params or ''}")
    print(f"steps     {args.steps} in {seconds:.3f} s (incl. compilation)")
    print(f"exploitability (NashConv/2 for 2p zero-sum)  last: {expl_last:.3e}  "
          f"average: {expl_avg:.3e}")
    if kind == "normal_form":
        for i, p in enumerate(policies):
            print(f"player {i}  " + " ".join(f"{v:.4f}" for v in p))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gametheory",
        description="Last-iterate Nash equilibrium solvers for normal- and extensive-form games.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("games", help="list the game zoo").set_defaults(func=_cmd_games)
    sub.add_parser("solvers", help="list solvers with parameters").set_defaults(func=_cmd_solvers)
    solve = sub.add_parser("solve", help="run a solver on a game")
    solve.add_argument("game", help="zoo name, .npy/.csv/.npz file or OpenSpiel game string")
    solve.add_argument("--solver", required=True, help="solver name (see `gametheory solvers`)")
    solve.add_argument("--steps", type=int, default=1000, help="number of updates (1000)")
    solve.add_argument("--record-every", type=int, default=None,
                       help="record spacing (default steps/100)")
    solve.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="solver parameter, repeatable")
    solve.add_argument("--seed", type=int, default=None,
                       help="random (Dirichlet) initial policy; default uniform")
    solve.add_argument("--json", action="store_true", help="print one JSON object")
    solve.add_argument("--policy-out", metavar="FILE.json",
                       help="write the last-iterate policies as JSON")
    solve.add_argument("--progress", action="store_true", help="show a progress bar")
    solve.set_defaults(func=_cmd_solve)
    from .teams.cli import add_parser as add_tmecor_parser
    add_tmecor_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as err:
        print(f"gametheory: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
