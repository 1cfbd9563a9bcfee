"""``gametheory solve GAME --solver NAME``: run one solver and report, reproducibly.

Everything a run depends on is checked before any work (steps, output paths, solver name and
parameters), and the JSON output holds everything needed to repeat it: the effective solver
parameters (defaults filled in), the start (uniform or random with its seed), the game's own
seed (``random_zero_sum:20x20:seed=3``: its payoffs), the package version and the recorded curve
from iteration 0. Ctrl-C keeps what was recorded: the report (or JSON) is printed, ``--plot``
and ``--policy-out`` are written, ``--history`` already holds the curve, and the one line on
stderr says so and how to rerun.
"""

from __future__ import annotations

import json
import re
import threading
import time

import numpy as np

from . import Interrupted, stop_requested
from .loading import game_kind, load_game
from .options import (
    add_progress_option,
    add_subcommand,
    choice,
    integer,
    option_error,
    progress_enabled,
)
from .output import (
    PLOT_SUFFIXES,
    HistoryWriter,
    check_output_path,
    clean_json,
    fmt,
    format_value,
    plot_history,
    writing,
)
from .start import START_CHOICES, choose_start, game_seed

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
            raise option_error(f"--set {pair}", "expects key=value",
                               "e.g. --set lr=0.5 (`gametheory solvers` lists each solver's "
                               "parameters)")
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


def _known_solvers() -> dict:
    """``{solver name: family}`` over every registry (``normal_form``, ``extensive_form``)."""
    out = {}
    for kind, registry in _registries().items():
        for name in registry:
            out.setdefault(name, []).append(kind)
    return out


def _check_args(args) -> dict:
    """Everything that can be checked before loading the game; returns the output paths."""
    known = _known_solvers()
    if args.solver not in known:
        from ..solvers.params import did_you_mean

        raise option_error(f"--solver {args.solver}", "unknown solver",
                           f"choose one of {', '.join(sorted(known))} (`gametheory solvers`)."
                           + did_you_mean(args.solver, known))
    if args.initial == "uniform" and args.seed is not None:
        raise option_error(f"--seed {args.seed}",
                           "--initial uniform starts at the uniform profile and draws nothing",
                           "drop --seed, or use --initial random to start from the profile it "
                           "draws")
    return {
        "policy_out": check_output_path(args.policy_out, "--policy-out", (".json",)),
        "history": check_output_path(args.history, "--history", (".csv",)),
        "plot": check_output_path(args.plot, "--plot", PLOT_SUFFIXES),
    }


def _check_family(name: str, kind: str, registry: dict) -> None:
    """A solver of the other family: say which family it is and where it applies."""
    if name in registry:
        return
    where = {"normal_form": "a normal-form solver: use it on a zoo game or a payoff file "
                            "(e.g. rps, my_matrix.csv)",
             "extensive_form": "an extensive-form solver: use it on an OpenSpiel game "
                               "(e.g. kuhn_poker, leduc_poker)"}
    families = _known_solvers().get(name, [])
    problem = where[families[0]] if families else "unknown solver"
    here = kind.replace("_", "-")
    raise option_error(f"--solver {name}", problem,
                       f"for {here} games choose one of "
                       f"{', '.join(sorted(registry)) or 'none (install the openspiel extra)'}")


def _pretty_json(obj) -> str:
    """Indented JSON with every list of numbers on one line (a newline right after ``[`` never
    occurs inside a JSON string, so only real lists are joined)."""
    text = json.dumps(clean_json(obj), indent=1)
    return re.sub(r"\[\n\s+([^\[\]{}]*?)\n\s*\]",
                  lambda m: "[" + re.sub(r",\n\s+", ", ", m.group(1)) + "]", text)


class _Run:
    """What a run has produced so far (kept on the host, so an interrupt can report it)."""

    def __init__(self, args, paths: dict):
        self.args = args
        self.paths = paths
        self.header: dict = {}
        self.history = {"step": [], "exploitability_last": [], "exploitability_avg": []}
        self.state = None
        self.started = time.perf_counter()
        self.csv = None  # a HistoryWriter with --history
        self.game = self.kind = self.solver = self.start = None
        self.start_text = ""
        self.kept: list[str] = []  # what an interrupted run printed or wrote
        self.finishing = False  # finish() started (in the command's thread or the CLI's)
        self.finished = threading.Event()

    def record(self, step, last, avg):
        """Keep one record, and append it to the ``--history`` file at once (a long run can be
        watched with ``tail -f``; an interrupted run keeps its curve)."""
        row = (int(step), float(last), float(avg))
        for key, value in zip(self.history, row):
            self.history[key].append(value)
        if self.csv is not None:
            with writing("--history", self.paths["history"]):
                self.csv.write(row)

    def policies(self, state=None):
        """The last-iterate policies of ``state`` (the start profile before the first update)."""
        import jax

        if state is None:
            profile = jax.device_get(self.start)
        else:
            profile = jax.device_get(self.solver.policy(self.game, state))
        if self.kind == "extensive_form":
            from ..efg import plans_to_policy_dict

            return plans_to_policy_dict(self.game, profile)
        return [np.asarray(p, dtype=float).tolist() for p in profile]

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
        text = _pretty_json(out) if self.args.pretty else json.dumps(clean_json(out))
        print(text, flush=True)

    def finish(self, state, interrupted: bool) -> None:
        """Write ``--policy-out`` and ``--plot``, print the report or the JSON; on an interrupt
        record in :attr:`kept` what was kept."""
        self.finishing = True
        try:
            self._finish(state, interrupted)
        finally:
            self.finished.set()

    def _finish(self, state, interrupted: bool) -> None:
        args = self.args
        wanted = args.json or self.paths["policy_out"] or self.kind == "normal_form"
        out = self.output(self.policies(state) if wanted else None, interrupted)
        paths = self.paths
        if self.csv is not None:
            self.kept.append(f"the curve in {str(paths['history'])!r}")
        if paths["policy_out"]:
            with writing("--policy-out", paths["policy_out"]):
                paths["policy_out"].write_text(json.dumps(clean_json(out["policies"]), indent=1))
            self.kept.append(f"the policies in {str(paths['policy_out'])!r}")
        if paths["plot"] and self.history["step"]:
            kind_text = "zero-sum" if self.header["zero_sum"] else "general-sum"
            title = f"{args.game} ({kind_text}): {args.solver}"
            if interrupted:
                title += f" (interrupted at {out['steps_done']})"
            with writing("--plot", paths["plot"]):
                plot_history(paths["plot"], self.history, title,
                             exploitability_label(self.game, self.kind, short=True))
            self.kept.append(f"the plot {str(paths['plot'])!r}")
        if args.json:
            self.print_json(out)
            self.kept.append("the JSON on stdout")
        else:
            self.print_text(out, interrupted)
            self.kept.append("the report on stdout")

    def print_text(self, out: dict, interrupted: bool) -> None:
        args, game, kind = self.args, self.game, self.kind
        effective = self.header["params"]
        shown = " ".join(f"{k}={format_value(v)}" for k, v in effective.items())
        seed_text = ""
        if self.header["game_seed"] is not None:
            seed_text = f"; payoffs drawn with the game's seed={self.header['game_seed']}"
        print(f"game      {args.game} ({kind.replace('_', '-')}, {game.num_players} players, "
              f"{'zero-sum' if self.header['zero_sum'] else 'general-sum'}{seed_text})")
        print(f"solver    {args.solver} {shown}".rstrip())
        print(f"start     {self.start_text}")
        if interrupted:
            print(f"steps     {out['steps_done']} of {args.steps} (interrupted by Ctrl-C) in "
                  f"{out['seconds']:.3f} s")
        else:
            print(f"steps     {args.steps} in {out['seconds']:.3f} s (incl. compilation)")
        label = self.header["exploitability"]
        print(f"{label}  last: {fmt(out['exploitability_last'], '.3e')}  "
              f"average: {fmt(out['exploitability_avg'], '.3e')}")
        if kind == "normal_form":
            for i, p in enumerate(out["policies"]):
                print(f"player {i}  " + " ".join(fmt(v, ".4f") for v in p))
        if interrupted and len(self.history["step"]) <= 1:
            print("          (the start profile: no update finished before Ctrl-C)")

    def on_interrupt(self) -> str:
        """Called by the CLI when the run did not stop in time: print and write what is on the
        host, and return the one line for stderr."""
        if self.finishing:  # the command is already printing and writing: let it end
            self.finished.wait(10.0)
        elif self.header:
            try:
                self.finish(self.state, interrupted=True)
            except Exception:  # never hide the interrupt behind a second error
                pass
        return self.interrupt_line()

    def interrupt_line(self) -> str:
        args = self.args
        if not self.header:
            return (f"interrupted while loading {args.game!r}, before any step; rerun the same "
                    "command to start again.")
        h = self.history
        kept = ", ".join(self.kept) or "nothing"
        done = h["step"][-1] if h["step"] else 0
        if len(h["step"]) <= 1:
            e0 = fmt(h["exploitability_last"][0], ".3e") if h["step"] else "n/a"
            return (f"interrupted at iteration 0 of {args.steps} steps, before the first update "
                    f"finished; kept the record at iteration 0 (exploitability {e0}, the start): "
                    f"{kept}; rerun the same command to start again.")
        return (f"interrupted after {done} of {args.steps} steps; last-iterate exploitability "
                f"{fmt(h['exploitability_last'][-1], '.3e')}; kept {len(h['step'])} records "
                f"(iterations 0 to {done}): {kept}; rerun with --steps {done} to stop there.")


def _start_text(reason: str, args, used_seed, game_seed_value) -> str:
    """The start line, with what each seed did: ``--seed`` draws the initial profile (and,
    without ``--initial``, asks for a random start), the game's own ``seed=``
    (``random_zero_sum:20x20:seed=3``) drew its payoffs."""
    text = reason
    if used_seed is not None and args.seed is not None and args.initial is None:
        text = text.replace(f"(seed {used_seed})",
                            f"(seed {used_seed}; --seed implies --initial random)", 1)
    if args.seed is not None and used_seed is None:
        text += (f"; --seed {args.seed} unused: it seeds a random start, which --initial random "
                 "asks for")
    if game_seed_value is not None and used_seed is not None:
        text += (f"; --seed {used_seed} drew only this start, the game's payoffs come from its "
                 f"own seed={game_seed_value}")
    return text


def _solve(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from .. import __version__, driver
    from ..solvers import make_solver
    from ..solvers.params import effective_parameters

    paths = _check_args(args)
    params = _parse_sets(args.set or [])
    progress = progress_enabled(args)
    # The solver and its parameters are checked before the game is built (an OpenSpiel tree
    # walk can take a minute).
    kind = game_kind(args.game)
    registry = _registries().get(kind, {})
    _check_family(args.solver, kind, registry)
    try:
        solver = make_solver(args.solver, registry=registry, **params)
    except TypeError as err:
        raise ValueError(f"--set: bad parameter for solver {args.solver!r}: {err}") from err
    except ValueError as err:
        raise _set_error(err, args.set or [], params, registry[args.solver]) from None
    effective = effective_parameters(registry[args.solver], params)
    run = _Run(args, paths)
    args.on_interrupt = run.on_interrupt
    game, kind = load_game(args.game, progress=progress)
    if args.initial is not None:
        choice_ = args.initial
    else:  # --seed N alone asks for the random start it seeds (said in --help and the README)
        choice_ = "random" if args.seed is not None else "auto"
    seed = 0 if args.seed is None else args.seed
    initial, used_seed, reason = choose_start(game, choice_, seed)
    run.game, run.kind, run.solver = game, kind, solver
    run.start = initial if initial is not None else game.uniform_policies()
    run.start_text = _start_text(reason, args, used_seed, game_seed(game))
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
        "game_seed": game_seed(game),
        "steps": args.steps,
        "record_every": min(args.record_every or max(args.steps // 100, 1), args.steps),
        "exploitability": label,
        "version": __version__,
    }
    e0 = float(jax.jit(lambda g, p: g.exploitability(p))(game, run.start))
    if paths["history"]:
        with writing("--history", paths["history"]):
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
        run.finish(run.state, interrupted=True)
        raise Interrupted(run.interrupt_line()) from None
    finally:
        if run.csv is not None:
            run.csv.close()
    run.finish(result.state, interrupted=False)
    return 0


def _set_error(err: ValueError, pairs: list[str], params: dict, factory) -> ValueError:
    """A solver's parameter error as the command line says it: the ``--set`` pair that caused
    it, the solver's message and the parameter's default (``gametheory solvers``)."""
    from ..solvers.params import solver_parameters

    defaults = solver_parameters(factory)
    for key in params:
        if re.search(rf"\b{re.escape(key)}\b", str(err)):
            pair = next((p for p in pairs if p.partition("=")[0].strip() == key), key)
            fix = (f" The default is {key}={format_value(defaults[key])}."
                   if key in defaults else "")
            return ValueError(f"--set {pair}: {err}{fix}")
    return ValueError(f"--set: {err}")


DESCRIPTION = """\
Run a solver on a game and report last- and average-iterate exploitability.

examples:
  gametheory solve rps --solver mwu --steps 5000
  gametheory solve random_zero_sum:20x20:seed=3 --solver comal --seed 1
  gametheory solve leduc_poker --solver mpo --json --policy-out leduc.json

seeds: a random game's own seed (random_zero_sum:20x20:seed=3) draws its payoffs; --seed
draws the random initial profile and nothing else.
Ctrl-C stops the run (exit status 130): the report or JSON of what was recorded is printed,
--plot and --policy-out are written, --history already holds the curve."""


def add_parser(subparsers) -> None:
    """Register ``solve``."""
    solve = add_subcommand(subparsers, "solve", help="run a solver on a game",
                           description=DESCRIPTION)
    solve.add_argument("game", help="zoo name, .csv/.npy/.npz file or OpenSpiel game string "
                                    "(`gametheory games`)")
    solve.add_argument("--solver", required=True, metavar="NAME",
                       help="solver name (`gametheory solvers`)")
    solve.add_argument("--steps", type=integer(1, example=1000), default=1000,
                       help="number of updates")
    solve.add_argument("--record-every", type=integer(1, example=100), default=None,
                       metavar="N", help="record spacing; records start at iteration 0 "
                                         "[default: steps/100]")
    solve.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="solver parameter, repeatable; switches take true/false, yes/no "
                            "or 1/0 [default: the solver's defaults, `gametheory solvers`]")
    solve.add_argument("--initial", choices=START_CHOICES, default=None,
                       type=choice("start", START_CHOICES),
                       help="start profile: auto = random when the uniform profile is already "
                            "an equilibrium (rps, shapley), else uniform [default: auto; random "
                            "when --seed is given]")
    solve.add_argument("--seed", type=integer(0, example=1), default=None, metavar="N",
                       help="seed of the random initial profile only (a random game's payoffs "
                            "come from its own seed=, e.g. random_zero_sum:20x20:seed=3); giving "
                            "--seed implies --initial random [default: 0]")
    solve.add_argument("--json", action="store_true", help="print one JSON object")
    solve.add_argument("--pretty", action="store_true", help="indent the JSON")
    solve.add_argument("--policy-out", metavar="FILE.json",
                       help="write the last-iterate policies as JSON [default: not written]")
    solve.add_argument("--history", metavar="FILE.csv",
                       help="write the recorded curve (step, last, average) as CSV, row by row "
                            "[default: not written]")
    solve.add_argument("--plot", metavar="FILE.png",
                       help="plot last- and average-iterate exploitability (.png, .pdf, .svg, "
                            ".jpg) [default: not drawn]")
    add_progress_option(solve)
    solve.set_defaults(func=_solve)
