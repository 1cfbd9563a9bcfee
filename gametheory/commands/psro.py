"""``gametheory psro GAME ...``: run PSRO from the command line.

Registered by :func:`add_parser` on the main parser's sub-commands. Errors raise ``ValueError``
and reach the user as one line (``gametheory.cli.main``). The two-team variants (``team``,
``h-psro``) are delegated to :mod:`gametheory.teams` when it is present.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .tmecor import add_team_psro_arguments

__all__ = ["add_parser", "run_command"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``psro`` sub-command to ``subparsers`` (from ``add_subparsers``)."""
    p = subparsers.add_parser(
        "psro", help="policy-space response oracles with exact meta-games",
        description="PSRO on a two-player zero-sum game (zoo name, .npy/.csv/.npz file or "
                    "OpenSpiel game string). Exploitability is NashConv/2 of the meta-mixture "
                    "in the full game, exact, one value per iteration (entry 0: the initial "
                    "population).")
    p.add_argument("game", help="zoo name, .npy/.csv/.npz file or OpenSpiel game string")
    p.add_argument("--variant", default="psro",
                   help="psro | psro-rn | fusion | team | h-psro (default psro)")
    p.add_argument("--iterations", type=int, default=50,
                   help="population expansions (default 50)")
    p.add_argument("--meta-solver", default="nash",
                   help="nash | uniform | prd | rm | any normal-form solver of `gametheory "
                        "solvers` (e.g. mpo) (default nash)")
    p.add_argument("--meta-set", action="append", metavar="KEY=VALUE",
                   help="meta-solver parameter, repeatable (e.g. iterations=10000, steps=500)")
    p.add_argument("--oracle", default=None,
                   help="exact | gradient (default exact; gradient for --variant fusion)")
    p.add_argument("--init", default=None,
                   help="scratch | inherit | noisy | fusion: start of each gradient best "
                        "response (default scratch; fusion for --variant fusion)")
    p.add_argument("--steps", type=int, default=100, help="gradient oracle: optax steps (100)")
    p.add_argument("--lr", type=float, default=0.1, help="gradient oracle: Adam step (0.1)")
    p.add_argument("--policy", default="tabular",
                   help="gradient oracle: tabular | mlp (information-state tensor MLP)")
    p.add_argument("--top-k", type=int, default=3, help="fusion: members averaged (3)")
    p.add_argument("--sigma", type=float, default=0.1, help="noisy copy: weight noise (0.1)")
    p.add_argument("--symmetric", default="auto",
                   help="auto | yes | no: one shared population in a symmetric matrix game")
    p.add_argument("--initial-strategy", type=int, default=None, metavar="I",
                   help="start both populations from pure strategy I (normal form); "
                        "default: uniform")
    p.add_argument("--tol", type=float, default=1e-10,
                   help="stop at this exploitability (default 1e-10)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (0)")
    p.add_argument("--checkpoint", metavar="DIR", help="save the run here every iteration")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --checkpoint")
    p.add_argument("--policy-out", metavar="FILE.json",
                   help="write the final meta-mixture (OpenSpiel info state -> action -> "
                        "probability for extensive-form games, mixed strategies otherwise)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_team_psro_arguments(p)
    p.set_defaults(func=run_command)
    return p


def _meta_params(pairs) -> dict:
    from ..solvers import parse_value

    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--meta-set expects key=value; got {pair!r}.")
        params[key.strip()] = parse_value(value)
    return params


def _symmetric(text: str):
    table = {"auto": None, "yes": True, "no": False}
    if text not in table:
        raise ValueError(f"--symmetric must be auto, yes or no; got {text!r}.")
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


def run_command(args) -> int:
    """Run ``gametheory psro`` with parsed ``args``; print text or one JSON object."""
    from ..psro.runner import TEAM_VARIANTS, VARIANTS

    if args.variant in TEAM_VARIANTS:
        return _team_variant(args)
    if args.variant not in VARIANTS:
        raise ValueError(f"unknown variant {args.variant!r}; choose one of "
                         f"{', '.join(VARIANTS)}.")
    if args.resume and not args.checkpoint:
        raise ValueError("--resume continues a saved run: give its --checkpoint DIR.")
    import jax

    jax.config.update("jax_enable_x64", True)
    from ..psro import as_psro_game, run_psro

    game = as_psro_game(args.game)
    meta, oracle, init = _parts(args)
    result = run_psro(
        game, args.iterations, variant=args.variant, meta_solver=meta, oracle=oracle,
        init=init, symmetric=_symmetric(args.symmetric), initial=args.initial_strategy,
        tol=args.tol, seed=args.seed, checkpoint=args.checkpoint, resume=args.resume,
        progress=not args.no_progress)
    if args.policy_out:
        if game.kind == "extensive_form":
            policy = result.policy_dict()
        else:
            policy = [m.tolist() for m in result.mixture()]
        Path(args.policy_out).write_text(json.dumps(policy, indent=1))
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
        print(json.dumps(out))
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
        print(f"  {t:>5}  {expl[t]:.6e}  population {state.sizes[t]}")
    return 0
