"""``gametheory persuade FILE.json [--json] [--online T]``: the optimal signaling scheme.

FILE holds ``{"prior": [...], "sender_utility": [[...] per state], "receiver_utility": [[...]
per state]}`` with optional ``"states"`` and ``"actions"`` names. ``--online T`` also runs the
unknown-prior learner (:func:`~gametheory.persuasion.learn_prior_online`) for ``T`` rounds with
states drawn from the file's prior and writes a regret plot. Bad files raise ``ValueError``,
which the main CLI prints as one line with exit status 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    """Register the ``persuade`` subcommand on an ``argparse`` subparsers object."""
    p = subparsers.add_parser("persuade", help="optimal signaling scheme of a persuasion problem",
                              description=__doc__.splitlines()[0])
    p.add_argument("file", help="JSON file with prior, sender_utility, receiver_utility")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--online", type=int, default=None, metavar="T",
                   help="also run the online learner (unknown prior) for T rounds")
    p.add_argument("--seed", type=int, default=0, help="seed of the online state draws (0)")
    p.add_argument("--delta", type=float, default=0.05,
                   help="confidence level of the online learner (0.05)")
    p.add_argument("--plot", default=None, metavar="FILE.png",
                   help="regret plot of --online (default reports/persuasion/<file>_online.png)")
    p.set_defaults(func=run)


def _online(problem, args) -> dict:
    from ..persuasion.online import learn_prior_online
    from ..persuasion.plots import plot_regret

    if args.online < 1:
        raise ValueError(f"--online needs a number of rounds >= 1; got {args.online}.")
    res = learn_prior_online(problem, args.online, seed=args.seed, delta=args.delta)
    t = args.online
    plot = Path(args.plot or f"reports/persuasion/{Path(args.file).stem}_online.png")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot.parent.mkdir(parents=True, exist_ok=True)
    rounds = np.arange(1, t + 1)
    fig = plot_regret({"robust LP on empirical prior": (rounds, res.regret)},
                      title=f"online persuasion, unknown prior ({Path(args.file).name})")
    fig.tight_layout()
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
        out["online"] = _online(problem, args)
    if args.json:
        print(json.dumps(out))
        return 0
    width = max(len(s) for s in problem.states + problem.actions) + 2
    print(f"sender value  {sol.value:.6g}   (no information {sol.no_information:.6g}, "
          f"full disclosure {sol.full_disclosure:.6g}); receiver value {sol.receiver_value:.6g}")
    print("scheme pi(recommended action | state):")
    print(" " * width + "".join(f"{a:>{width}}" for a in problem.actions))
    for name, row in zip(problem.states, sol.scheme):
        print(f"{name:<{width}}" + "".join(f"{x:>{width}.4f}" for x in row))
    print("induced posteriors:")
    for post in out["posteriors"]:
        belief = ", ".join(f"{s}={b:.4f}" for s, b in zip(problem.states, post["belief"]))
        print(f"  P = {post['probability']:.4f}  belief ({belief})  -> {post['recommended']}")
    if args.online is not None:
        o = out["online"]
        print(f"online, {o['rounds']} rounds: regret {o['regret']:.4g} (average "
              f"{o['average_regret']:.3g}, / sqrt(T log T) = {o['regret_over_sqrt_t_log_t']:.3g}), "
              f"always persuasive: {o['always_persuasive']}; plot {o['plot']}")
    return 0
