"""``gametheory solve GAME --solver NAME``: run one solver and report, reproducibly.

Everything a run depends on is checked before any work (steps, output paths, solver name and
parameters), and the JSON output holds everything needed to repeat it: the effective solver
parameters (defaults filled in), the start (uniform or random with its seed), the package
version and the recorded curve from iteration 0.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time

import numpy as np

from . import Interrupted, stop_requested
from .loading import game_kind, load_game
from .output import PLOT_SUFFIXES, HistoryWriter, check_output_path, plot_history
from .start import START_CHOICES, choose_start

__all__ = ["add_parser", "exploitability_label"]


def _registries() -> dict:
    from ..solvers import NORMAL_FORM_SOLVERS

    out = {"normal_form": NORMAL_FORM_SOLVERS}
    try:
        from ..efg import EFG_SOLVERS
    except ImportError:
        return out
    out["extensive_form"] = EFG_SOLVERS
    return out


def _parse_sets(pairs: list[str]) -> dict:
    from ..solvers import parse_value

    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value; got {pair!r}.")
        params[key.strip()] = parse_value(value)
    return params


def _is_zero_sum(game, kind: str) -> bool:
    from ..lp import zero_sum_matrix

    if kind == "extensive_form":
        return True
    try:
        zero_sum_matrix(game)
    except ValueError:
        return False
    return True


def exploitability_label(game, kind: str, short: bool = False) -> str:
    """What "exploitability" means for this game, for text output (and, ``short``, axes):
    NashConv/2 as OpenSpiel for two-player zero-sum games, NashConv/n otherwise."""
    n = game.num_players
    if _is_zero_sum(game, kind):
        return "exploitability (NashConv/2" + (")" if short else ", as OpenSpiel)")
    if short:
        return f"exploitability (NashConv/{n})"
    return f"exploitability (NashConv/{n}, {n}-player general-sum; 0 only at a Nash equilibrium)"


def _check_args(args) -> dict:
    """Everything that can be checked before loading the game; returns the output paths."""
    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1; got {args.steps}.")
    if args.record_every is not None and args.record_every < 1:
        raise ValueError(f"--record-every must be >= 1; got {args.record_every}.")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be >= 0; got {args.seed}.")
    known = {name for registry in _registries().values() for name in registry}
    if args.solver not in known:
        from ..solvers.params import did_you_mean

        raise ValueError(f"unknown solver {args.solver!r}; choose one of "
                         f"{', '.join(sorted(known))} (`gametheory solvers`)."
                         + did_you_mean(args.solver, known))
    return {
        "policy_out": check_output_path(args.policy_out, "--policy-out", (".json",)),
        "history": check_output_path(args.history, "--history", (".csv",)),
        "plot": check_output_path(args.plot, "--plot", PLOT_SUFFIXES),
    }


def _pretty_json(obj) -> str:
    """Indented JSON with every list of numbers on one line (a newline right after ``[`` never
    occurs inside a JSON string, so only real lists are joined)."""
    text = json.dumps(obj, indent=1)
    return re.sub(r"\[\n\s+([^\[\]{}]*?)\n\s*\]",
                  lambda m: "[" + re.sub(r",\n\s+", ", ", m.group(1)) + "]", text)


class _Run:
    """What a run has produced so far (kept on the host, so an interrupt can report it)."""

    def __init__(self, args):
        self.args = args
        self.header: dict = {}
        self.history = {"step": [], "exploitability_last": [], "exploitability_avg": []}
        self.state = None
        self.started = time.perf_counter()
        self.csv = None  # a HistoryWriter with --history

    def record(self, step, last, avg):
        """Keep one record, and append it to the ``--history`` file at once (a long run can be
        watched with ``tail -f``; an interrupted run keeps its curve)."""
        row = (int(step), float(last), float(avg))
        for key, value in zip(self.history, row):
            self.history[key].append(value)
        if self.csv is not None:
            self.csv.write(row)

    def output(self, policies, interrupted: bool) -> dict:
        h = self.history
        return {
            **self.header,
            "steps_done": h["step"][-1] if h["step"] else 0,
            "interrupted": interrupted,
            "exploitability_last": h["exploitability_last"][-1] if h["step"] else None,
            "exploitability_avg": h["exploitability_avg"][-1] if h["step"] else None,
            "seconds": time.perf_counter() - self.started,
            "policies": policies,
            "history": h,
        }

    def print_json(self, out: dict) -> None:
        print(_pretty_json(out) if self.args.pretty else json.dumps(out), flush=True)

    def on_interrupt(self) -> str:
        """Called by the CLI when the run did not stop in time: print what is on the host."""
        if self.args.json and self.header:
            self.print_json(self.output(None, interrupted=True))
        return self.interrupt_line()

    def interrupt_line(self) -> str:
        if not self.header:
            return f"interrupted while loading {self.args.game!r}."
        done = self.history["step"][-1] if self.history["step"] else 0
        if len(self.history["step"]) <= 1:
            return f"interrupted before the first record of {self.args.steps} steps."
        return (f"interrupted after {done} of {self.args.steps} steps; last-iterate "
                f"exploitability {self.history['exploitability_last'][-1]:.3e}.")


def _policies(game, kind, solver, state):
    import jax

    policies = jax.device_get(solver.policy(game, state))
    if kind == "extensive_form":
        from ..efg import plans_to_policy_dict

        return plans_to_policy_dict(game, policies)
    return [np.asarray(p, dtype=float).tolist() for p in policies]


def _solve(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from .. import __version__, driver
    from ..solvers import make_solver
    from ..solvers.params import effective_parameters

    paths = _check_args(args)
    params = _parse_sets(args.set or [])
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    # The solver and its parameters are checked before the game is built (an OpenSpiel tree
    # walk can take a minute).
    kind = game_kind(args.game)
    registry = _registries().get(kind, {})
    if args.solver not in registry:
        raise ValueError(
            f"unknown solver {args.solver!r} for {kind.replace('_', '-')} games; choose one "
            f"of {', '.join(sorted(registry)) or 'none (install the openspiel extra)'} "
            "(`gametheory solvers`)."
        )
    try:
        solver = make_solver(args.solver, registry=registry, **params)
    except TypeError as err:
        raise ValueError(f"bad parameter for solver {args.solver!r}: {err}") from err
    effective = effective_parameters(registry[args.solver], params)
    run = _Run(args)
    args.on_interrupt = run.on_interrupt
    game, kind = load_game(args.game, progress=progress)
    choice = args.initial or ("random" if args.seed is not None else "auto")
    seed = 0 if args.seed is None else args.seed
    initial, used_seed, start_text = choose_start(game, choice, seed)
    label = exploitability_label(game, kind)
    run.header = {
        "game": args.game,
        "kind": kind,
        "zero_sum": _is_zero_sum(game, kind),
        "num_players": game.num_players,
        "solver": args.solver,
        "params": effective,
        "initial": "uniform" if initial is None else "random",
        "seed": used_seed,
        "steps": args.steps,
        "record_every": min(args.record_every or max(args.steps // 100, 1), args.steps),
        "exploitability": label,
        "version": __version__,
    }
    start = initial if initial is not None else game.uniform_policies()
    e0 = float(jax.jit(lambda g, p: g.exploitability(p))(game, start))
    if paths["history"]:
        run.csv = HistoryWriter(paths["history"])
    run.record(0, e0, e0)

    def callback(step, last, avg, state):
        run.record(step, last, avg)
        run.state = state
        if stop_requested(args):
            raise Interrupted(run.interrupt_line())

    try:
        result = driver.solve(game, solver, args.steps, record_every=args.record_every,
                              initial=initial, progress=progress, callback=callback)
    except Interrupted:
        if args.json:
            run.print_json(run.output(_policies(game, kind, solver, run.state), True))
        raise
    finally:
        if run.csv is not None:
            run.csv.close()
    seconds = time.perf_counter() - run.started
    out = run.output(_policies(game, kind, solver, result.state), interrupted=False)
    if paths["policy_out"]:
        paths["policy_out"].write_text(json.dumps(out["policies"], indent=1))
    if paths["plot"]:
        kind_text = "zero-sum" if run.header["zero_sum"] else "general-sum"
        plot_history(paths["plot"], run.history, f"{args.game} ({kind_text}): {args.solver}",
                     exploitability_label(game, kind, short=True))
    if args.json:
        run.print_json(out)
        return 0
    shown = " ".join(f"{k}={v}" for k, v in effective.items())
    print(f"game      {args.game} ({kind.replace('_', '-')}, {game.num_players} players, "
          f"{'zero-sum' if run.header['zero_sum'] else 'general-sum'})")
    print(f"solver    {args.solver} {shown}".rstrip())
    print(f"start     {start_text}")
    print(f"steps     {args.steps} in {seconds:.3f} s (incl. compilation)")
    print(f"{label}  last: {out['exploitability_last']:.3e}  "
          f"average: {out['exploitability_avg']:.3e}")
    if kind == "normal_form":
        for i, p in enumerate(out["policies"]):
            print(f"player {i}  " + " ".join(f"{v:.4f}" for v in p))
    return 0


def add_parser(subparsers) -> None:
    """Register ``solve``."""
    solve = subparsers.add_parser(
        "solve", help="run a solver on a game",
        description="Run a solver on a game and report last- and average-iterate "
                    "exploitability. Ctrl-C stops the run and reports what it has.")
    solve.add_argument("game", help="zoo name, .csv/.npy/.npz file or OpenSpiel game string "
                                    "(`gametheory games`)")
    solve.add_argument("--solver", required=True, help="solver name (`gametheory solvers`)")
    solve.add_argument("--steps", type=int, default=1000, help="number of updates (1000)")
    solve.add_argument("--record-every", type=int, default=None,
                       help="record spacing (default steps/100); records start at iteration 0")
    solve.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="solver parameter, repeatable; switches take true/false, yes/no "
                            "or 1/0")
    solve.add_argument("--initial", choices=START_CHOICES, default=None,
                       help="start profile: auto (default: random when the uniform profile is "
                            "already an equilibrium, else uniform), uniform, or random")
    solve.add_argument("--seed", type=int, default=None,
                       help="seed of a random start (default 0; giving it implies "
                            "--initial random)")
    solve.add_argument("--json", action="store_true", help="print one JSON object")
    solve.add_argument("--pretty", action="store_true", help="indent the JSON")
    solve.add_argument("--policy-out", metavar="FILE.json",
                       help="write the last-iterate policies as JSON")
    solve.add_argument("--history", metavar="FILE.csv",
                       help="write the recorded curve (step, last, average) as CSV")
    solve.add_argument("--plot", metavar="FILE.png",
                       help="plot last- and average-iterate exploitability")
    solve.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bars (default: on when stderr is a terminal)")
    solve.set_defaults(func=_solve)
