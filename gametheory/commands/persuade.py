"""``gametheory persuade FILE.json [--json] [--online T]``: the optimal signaling scheme.

FILE holds ``{"prior": [...], "sender_utility": [[...] per state], "receiver_utility": [[...]
per state]}`` with optional ``"states"`` and ``"actions"`` names (:data:`DESCRIPTION` shows the
shapes). ``--online T`` also runs the unknown-prior learner
(:func:`~gametheory.persuasion.learn_prior_online`) for ``T`` rounds with states drawn from the
file's prior and writes a regret plot. Bad files raise ``ValueError``, which the main CLI prints
as one line with exit status 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .options import (
    add_progress_option,
    add_subcommand,
    integer,
    number,
    option_error,
    progress_enabled,
)
from .output import PLOT_SUFFIXES, check_output_path, dumps, fmt, writing

__all__ = ["add_parser", "run", "DESCRIPTION"]

DESCRIPTION = """\
The sender's optimal signaling scheme for a Bayesian persuasion problem (Kamenica and Gentzkow
2011): the sender sees the state, commits to pi(recommended action | state), and the receiver
follows recommendations it has no reason to disobey. Prints the sender's value, the scheme and
the posteriors it induces.

FILE.json holds one object, S states and A actions:
  "prior"             [S] probabilities of the states, summing to 1
  "sender_utility"    [S][A] the sender's utility of action a in state s (one row per state)
  "receiver_utility"  [S][A] the receiver's utility, same shape
  "states", "actions" optional names: [S] and [A] strings (default s0, s1, ... and a0, a1, ...)
example (the prosecutor and the judge):
  {"prior": [0.7, 0.3], "states": ["innocent", "guilty"],
   "actions": ["acquit", "convict"],
   "sender_utility": [[0, 1], [0, 1]], "receiver_utility": [[1, 0], [0, 1]]}

--online T also runs the learner that does not know the prior (states drawn from it) and plots
its regret."""


def add_parser(subparsers) -> None:
    """Register the ``persuade`` subcommand on an ``argparse`` subparsers object."""
    p = add_subcommand(subparsers, "persuade",
                       help="optimal signaling scheme of a persuasion problem",
                       description=DESCRIPTION)
    p.add_argument("file", metavar="FILE.json",
                   help="JSON object with prior, sender_utility, receiver_utility (above)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--online", type=integer(1, example=5000), default=None, metavar="T",
                   help="also run the online learner (unknown prior) for T rounds "
                        "[default: not run]")
    p.add_argument("--seed", type=integer(0, example=1), default=0,
                   help="seed of the online learner's state draws (the file has no randomness)")
    p.add_argument("--delta", type=number(0.0, strict=True, maximum=1.0, example=0.05),
                   default=0.05, help="confidence level of the online learner, in (0, 1)")
    p.add_argument("--plot", default=None, metavar="FILE.png",
                   help="regret plot of --online [default: "
                        "reports/persuasion/<file>_online.png]")
    add_progress_option(p)
    p.set_defaults(func=run)


def _plot_path(args) -> Path | None:
    """``--plot`` checked before any work; the default folder is created."""
    if args.online is None:
        if args.plot is not None:
            raise option_error(f"--plot {args.plot!r}", "draws the regret of --online",
                               "add --online T (e.g. --online 5000) or drop --plot")
        return None
    if args.plot is None:
        default = Path("reports/persuasion") / f"{Path(args.file).stem}_online.png"
        try:
            default.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise option_error(f"--plot (default {str(default)!r})",
                               f"cannot create its folder ({err.strerror or err})",
                               "give --plot FILE.png in a folder you can write to") from None
        return check_output_path(str(default), "--plot", PLOT_SUFFIXES)
    return check_output_path(args.plot, "--plot", PLOT_SUFFIXES)


def _online(problem, args, plot: Path) -> dict:
    from ..persuasion.online import learn_prior_online
    from ..persuasion.plots import plot_regret

    if args.online < 1:
        raise option_error(f"--online {args.online}", "needs a number of rounds >= 1",
                           "e.g. --online 5000")
    res = learn_prior_online(problem, args.online, seed=args.seed, delta=args.delta,
                             progress=progress_enabled(args))
    t = args.online
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = np.arange(1, t + 1)
    fig = plot_regret({"robust LP on empirical prior": (rounds, res.regret)},
                      title=f"online persuasion, unknown prior ({Path(args.file).name})")
    fig.tight_layout()
    with writing("--plot", plot):
        fig.savefig(plot, dpi=120)
    plt.close(fig)
    return {
        "rounds": t,
        "regret": float(res.regret[-1]),
        "average_regret": float(res.regret[-1] / t),
        "regret_over_sqrt_t_log_t": float(res.regret[-1] / np.sqrt(t * max(np.log(t), 1.0))),
        "always_persuasive": bool(res.persuasive.all()),
        "final_scheme": res.scheme.tolist(),
        "lp_solves": res.solves,
        "plot": str(plot),
    }


def run(args) -> int:
    """Handler of ``gametheory persuade``."""
    from ..persuasion.lp import optimal_scheme
    from ..persuasion.problem import load_problem

    plot = _plot_path(args)
    problem = load_problem(args.file)
    sol = optimal_scheme(problem)
    out = {
        "states": list(problem.states),
        "actions": list(problem.actions),
        "value": sol.value,
        "receiver_value": sol.receiver_value,
        "no_information": sol.no_information,
        "full_disclosure": sol.full_disclosure,
        "scheme": sol.scheme.tolist(),
        "posteriors": [{"probability": float(p), "belief": mu.tolist(),
                        "recommended": problem.actions[a]}
                       for p, mu, a in zip(sol.posterior_probs, sol.posteriors, sol.recommended)],
    }
    if args.online is not None:
        out["online"] = _online(problem, args, plot)
    if args.json:
        print(dumps(out))
        return 0
    # Columns wide enough for the names and for "0.0000" (6 characters), two spaces apart.
    width = max(len(s) for s in problem.states + problem.actions + ("0.0000",)) + 2
    print(f"sender value  {fmt(sol.value, '.6g')}   (no information "
          f"{fmt(sol.no_information, '.6g')}, full disclosure {fmt(sol.full_disclosure, '.6g')}); "
          f"receiver value {fmt(sol.receiver_value, '.6g')}")
    print("scheme pi(recommended action | state):")
    print(" " * width + "".join(f"{a:>{width}}" for a in problem.actions))
    for name, row in zip(problem.states, sol.scheme):
        print(f"{name:<{width}}" + "".join(fmt(x, f">{width}.4f") for x in row))
    print("induced posteriors:")
    for post in out["posteriors"]:
        belief = ", ".join(f"{s}={fmt(b, '.4f')}" for s, b in zip(problem.states, post["belief"]))
        print(f"  P = {fmt(post['probability'], '.4f')}  belief ({belief})  -> "
              f"{post['recommended']}")
    if args.online is not None:
        o = out["online"]
        persuasive = "yes" if o["always_persuasive"] else "no"
        print(f"online, {o['rounds']} rounds: regret {fmt(o['regret'], '.4g')} (average "
              f"{fmt(o['average_regret'], '.3g')}, / sqrt(T log T) = "
              f"{fmt(o['regret_over_sqrt_t_log_t'], '.3g')}), always persuasive: {persuasive}; "
              f"plot {o['plot']}")
    return 0
