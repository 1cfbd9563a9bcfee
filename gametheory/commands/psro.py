"""``gametheory psro GAME ...``: run PSRO from the command line.

Registered by :func:`add_parser` on the main parser's sub-commands. Errors raise ``ValueError``
and reach the user as one line (``gametheory.cli.main``). The two-team variants (``team``,
``h-psro``) are delegated to :mod:`gametheory.teams` when it is present.
"""

from __future__ import annotations

import argparse

from .options import (
    add_progress_option,
    add_subcommand,
    choice,
    integer,
    number,
    option_error,
    progress_enabled,
)
from .output import check_output_folder, check_output_path, dumps, fmt, writing
from .tmecor import add_team_psro_arguments

__all__ = ["add_parser", "run_command", "VARIANT_NAMES", "ORACLE_NAMES", "INIT_NAMES"]

#: The ``--variant``, ``--oracle`` and ``--init`` choices (the registries of
#: :mod:`gametheory.psro`, listed here so that ``--help`` does not import JAX; a test keeps
#: them equal).
VARIANT_NAMES = ("psro", "psro-rn", "fusion", "team", "h-psro")
ORACLE_NAMES = ("exact", "gradient")
INIT_NAMES = ("scratch", "inherit", "noisy", "fusion")

DESCRIPTION = """\
PSRO on a two-player zero-sum game (zoo name, .npy/.csv/.npz file or OpenSpiel game string);
--variant team / h-psro run the two-team variants on team games. Exploitability is NashConv/2
of the meta-mixture in the full game, exact, one value per iteration (entry 0: the initial
population).

examples:
  gametheory psro kuhn_poker --iterations 20 --policy-out kuhn.json
  gametheory psro blotto:4:3 --variant fusion --steps 200 --json
  gametheory psro spinning_top:10_3_blotto --checkpoint runs/blotto   # Ctrl-C, then --resume

seeds: --seed drives the gradient oracle and the noisy / fusion starts; a random game's payoffs
come from its own seed= (random_zero_sum:20x20:seed=3)."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``psro`` sub-command to ``subparsers`` (from ``add_subparsers``)."""
    p = add_subcommand(subparsers, "psro",
                       help="policy-space response oracles with exact meta-games",
                       description=DESCRIPTION)
    p.add_argument("game", help="zoo name, .npy/.csv/.npz file or OpenSpiel game string")
    p.add_argument("--variant", default="psro", choices=VARIANT_NAMES,
                   type=choice("variant", VARIANT_NAMES),
                   help="PSRO, PSRO-rN, Fusion-PSRO, Team-PSRO or H-PSRO")
    p.add_argument("--iterations", type=integer(0, example=50), default=50,
                   help="population expansions")
    p.add_argument("--meta-solver", default="nash", metavar="NAME",
                   help="nash | uniform | prd | rm | any normal-form solver of `gametheory "
                        "solvers` (e.g. mpo)")
    p.add_argument("--meta-set", action="append", metavar="KEY=VALUE",
                   help="meta-solver parameter, repeatable (e.g. iterations=10000, steps=500) "
                        "[default: the meta-solver's defaults]")
    p.add_argument("--oracle", default=None, choices=ORACLE_NAMES,
                   type=choice("oracle", ORACLE_NAMES),
                   help="best-response oracle [default: exact; gradient for --variant fusion]")
    p.add_argument("--init", default=None, choices=INIT_NAMES,
                   type=choice("initialisation", INIT_NAMES),
                   help="start of each gradient best response [default: scratch; fusion for "
                        "--variant fusion]")
    p.add_argument("--steps", type=integer(1, example=100), default=100,
                   help="gradient oracle: optax steps")
    p.add_argument("--lr", type=number(0.0, strict=True, example=0.1), default=0.1,
                   help="gradient oracle: Adam step")
    p.add_argument("--policy", default="tabular", choices=("tabular", "mlp"),
                   type=choice("policy", ("tabular", "mlp")),
                   help="gradient oracle: tabular, or mlp (information-state tensor MLP)")
    p.add_argument("--top-k", type=integer(1, example=3), default=3,
                   help="fusion: members averaged")
    p.add_argument("--sigma", type=number(0.0, example=0.1), default=0.1,
                   help="noisy copy: weight noise")
    p.add_argument("--symmetric", default="auto", choices=("auto", "yes", "no"),
                   type=choice("--symmetric value", ("auto", "yes", "no")),
                   help="one shared population in a symmetric matrix game; auto: when the "
                        "matrix is square with A = -A^T")
    p.add_argument("--initial-strategy", type=integer(0, example=0), default=None, metavar="I",
                   help="start both populations from pure strategy I (normal form) "
                        "[default: uniform]")
    p.add_argument("--tol", type=number(0.0, example=1e-10), default=1e-10,
                   help="stop at this exploitability")
    p.add_argument("--seed", type=integer(0, example=1), default=0,
                   help="seed of the gradient oracle and of the noisy / fusion starts (not the "
                        "game: a random game's payoffs come from its own seed=)")
    p.add_argument("--checkpoint", metavar="DIR",
                   help="save the run here after every iteration [default: not saved]")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in --checkpoint")
    p.add_argument("--policy-out", metavar="FILE.json",
                   help="write the final meta-mixture (OpenSpiel info state -> action -> "
                        "probability for extensive-form games, mixed strategies otherwise) "
                        "[default: not written]")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_progress_option(p)
    add_team_psro_arguments(p)
    p.set_defaults(func=run_command)
    return p


def _meta_params(pairs) -> dict:
    from ..solvers import parse_value

    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise option_error(f"--meta-set {pair}", "expects key=value",
                               "e.g. --meta-set iterations=10000")
        params[key.strip()] = parse_value(value)
    return params


def _symmetric(text: str):
    table = {"auto": None, "yes": True, "no": False}
    if text not in table:
        raise option_error(f"--symmetric {text}", "unknown value", "choose auto, yes or no")
    return table[text]


def _team_variant(args) -> int:
    """The two-team variants run on :mod:`gametheory.teams` (Team-PSRO, H-PSRO)."""
    from .tmecor import run_team_psro_command

    return run_team_psro_command(args)


def _parts(args):
    from ..psro import make_initializer, make_meta_solver, make_oracle

    meta = make_meta_solver(args.meta_solver, **_meta_params(args.meta_set))
    oracle_name = args.oracle or ("gradient" if args.variant == "fusion" else "exact")
    if oracle_name == "gradient":
        oracle = make_oracle("gradient", steps=args.steps, lr=args.lr, policy=args.policy)
    else:
        oracle = make_oracle(oracle_name)
    init_name = args.init or ("fusion" if args.variant == "fusion" else "scratch")
    init_params = {"fusion": {"top_k": args.top_k}, "noisy": {"sigma": args.sigma}}
    init = make_initializer(init_name, **init_params.get(init_name, {}))
    return meta, oracle, init


def _check_outputs(args) -> dict:
    """Output paths, checked before any work (one line naming the option otherwise)."""
    if args.resume and not args.checkpoint:
        raise option_error("--resume", "continues a saved run",
                           "give its --checkpoint DIR")
    return {"policy_out": check_output_path(args.policy_out, "--policy-out", (".json",)),
            "checkpoint": check_output_folder(args.checkpoint, "--checkpoint",
                                              must_exist=args.resume)}


def _interrupt_line(args) -> str:
    if args.checkpoint:
        return (f"interrupted; {args.checkpoint!r} holds every finished iteration: add --resume "
                "to the same command to continue.")
    return "interrupted; nothing kept (add --checkpoint DIR to keep finished iterations)."


def run_command(args) -> int:
    """Run ``gametheory psro`` with parsed ``args``; print text or one JSON object."""
    from ..psro.runner import TEAM_VARIANTS, VARIANTS

    args.on_interrupt = lambda: _interrupt_line(args)
    if args.variant not in VARIANTS:
        raise option_error(f"--variant {args.variant}", "unknown variant",
                           f"choose one of {', '.join(VARIANTS)}")
    paths = _check_outputs(args)
    if args.variant in TEAM_VARIANTS:
        if paths["policy_out"]:
            raise option_error("--policy-out", "the team variants write no policy file",
                               "drop it (--json prints the bounds of every iteration)")
        return _team_variant(args)
    import jax

    jax.config.update("jax_enable_x64", True)
    from ..psro import as_psro_game, run_psro

    game = as_psro_game(args.game)
    meta, oracle, init = _parts(args)
    result = run_psro(
        game, args.iterations, variant=args.variant, meta_solver=meta, oracle=oracle,
        init=init, symmetric=_symmetric(args.symmetric), initial=args.initial_strategy,
        tol=args.tol, seed=args.seed, checkpoint=args.checkpoint, resume=args.resume,
        progress=progress_enabled(args))
    if paths["policy_out"]:
        if game.kind == "extensive_form":
            policy = result.policy_dict()
        else:
            policy = [m.tolist() for m in result.mixture()]
        with writing("--policy-out", paths["policy_out"]):
            paths["policy_out"].write_text(dumps(policy, indent=1))
    state = result.state
    out = {
        "game": args.game,
        "kind": game.kind,
        "variant": args.variant,
        "meta_solver": meta.name,
        "oracle": oracle.name,
        "init": init.name if oracle.trains else None,
        "symmetric": result.symmetric,
        "iterations": state.iteration,
        "stop": state.stop or "iterations",
        "exploitability": [float(v) for v in state.exploitability],
        "seconds": [float(v) for v in state.seconds],
        "population_sizes": state.sizes,
        "oracle_gap": [float(v) for v in state.oracle_gap],
        "meta_strategies": [s.tolist() for s in state.meta_strategies],
    }
    if args.json:
        print(dumps(out))
        return 0
    expl = state.exploitability
    parts = f"meta-solver {meta.name}, oracle {oracle.name}"
    if oracle.trains:
        parts += f", init {init.name}"
    print(f"game      {args.game} ({game.kind.replace('_', '-')}"
          f"{', symmetric: one population' if result.symmetric else ''})")
    print(f"variant   {args.variant} ({parts})")
    print(f"iterations {state.iteration} in {state.seconds[-1]:.2f} s, stop: {out['stop']}")
    print("exploitability (NashConv/2) per iteration:")
    step = max(1, len(expl) // 10)
    for t in sorted(set(range(0, len(expl), step)) | {len(expl) - 1}):
        print(f"  {t:>5}  {fmt(expl[t], '.6e')}  population {state.sizes[t]}")
    return 0
