"""PSRO benchmark: our exact PSRO against OpenSpiel's ``psro_v2``, and the initialisations of
approximate best responses under one gradient budget.

    python benchmarks/psro_bench.py [--quick] [--out reports/psro]

1. Exact PSRO (exact best responses, LP meta-Nash, exact sequence-form meta-game) against
   OpenSpiel ``psro_v2`` (C++ exact best-response oracle, its ``nash`` meta-solver, its
   Monte-Carlo meta-game with ``sims_per_entry`` episodes per entry) on Kuhn and Leduc poker:
   exploitability (NashConv / 2) of the meta-mixture per iteration and wall time. OpenSpiel's
   mixtures are evaluated exactly with our sequence-form code (checked against OpenSpiel's own
   ``PolicyAggregator`` + ``exploitability`` on Kuhn). Targets: Leduc < 0.01; >= 20x less wall
   time than OpenSpiel to the exploitability OpenSpiel reaches at 50 iterations.
2. Gradient oracle (tabular logits, fixed number of Adam steps per best response) started from
   scratch, inherit, noisy copy and Fusion-PSRO's Nash policy fusion, on a spinning top and on
   Leduc: which initialisation ends lowest, reported as measured.
3. The two-team comparison, H-PSRO against Team-PSRO (``benchmarks/team_psro_bench.py``).

OpenSpiel's ``nash`` meta-solver needs ``cvxpy`` and ``ecos`` (``make bench-psro`` installs them).
Plots and a JSON of every trace go to ``--out``. Wall times on a shared machine vary; the
ratios are what the targets are about.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

from gametheory.psro import as_psro_game, gradient, run_psro  # noqa: E402

FLOOR = 1e-12  # plotted in place of exploitability 0 on log axes


# --------------------------------------------------------------------------------------------
# 1. Exact PSRO against OpenSpiel psro_v2
# --------------------------------------------------------------------------------------------


def ours_exact(name: str, iterations: int) -> dict:
    """Our exact PSRO; the setup (sequence-form build) is timed apart from the run, whose
    seconds include JAX compilation (about a second on Kuhn)."""
    start = time.perf_counter()
    space = as_psro_game(name)
    setup = time.perf_counter() - start
    result = run_psro(space, iterations, tol=1e-12, progress=True)
    return {"exploitability": result.exploitability.tolist(),
            "seconds": result.seconds.tolist(), "setup": setup, "stop": result.state.stop}


def _openspiel_plans(space, os_policy, player, key_to_state):
    """Realization plan of ``player`` under an OpenSpiel policy (queried at one state per
    infoset), via ``gametheory.efg.policy_dict_to_plans``."""
    from gametheory.efg import policy_dict_to_plans

    table = {}
    for key in space.game.info.infosets[player]:
        probs = os_policy.action_probabilities(key_to_state[key], player)
        table[key] = {int(a): float(p) for a, p in probs.items()}
    tables = [{}, {}]
    tables[player] = table
    return np.asarray(policy_dict_to_plans(space.game, tables)[player], np.float64)


def openspiel_psro(name: str, iterations: int, sims: int, seed: int = 0,
                   check_with_openspiel: bool = False) -> dict:
    """OpenSpiel psro_v2 as in its ``psro_v2_example.py`` with the exact BR oracle and the
    ``nash`` meta-solver. Seconds count its constructor (the initial meta-game) and its
    ``iteration()`` calls; the exact evaluation of each mixture is not timed."""
    import pyspiel
    from open_spiel.python import policy as os_policy_lib
    from open_spiel.python.algorithms.psro_v2 import best_response_oracle, psro_v2

    space = as_psro_game(name)
    game = pyspiel.load_game(name)
    np.random.seed(seed)  # noqa: NPY002 - psro_v2 samples from the global NumPy state
    random.seed(seed)
    quiet = contextlib.redirect_stdout(io.StringIO())  # psro_v2 prints every call
    start = time.perf_counter()
    with quiet:
        uniform = os_policy_lib.TabularPolicy(game)
        oracle = best_response_oracle.BestResponseOracle(game=game, policy=uniform)
    setup = time.perf_counter() - start
    key_to_state = {}
    for state in oracle.all_states.values():
        player = state.current_player()
        key_to_state.setdefault(state.information_state_string(player), state)

    clock = 0.0
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        solver = psro_v2.PSROSolver(
            game, oracle, initial_policies=[uniform.__copy__() for _ in range(2)],
            training_strategy_selector="probabilistic", rectifier="",
            sims_per_entry=sims, number_policies_selected=1, meta_strategy_method="nash",
            sample_from_marginals=True, symmetric_game=False)
    clock += time.perf_counter() - t
    plans = [[], []]
    expl, seconds = [], []
    from tqdm.auto import tqdm

    for it in tqdm(range(iterations + 1), desc=f"openspiel psro_v2 {name}", unit="it"):
        if it > 0:
            t = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                solver.iteration()
            clock += time.perf_counter() - t
        policies = solver.get_policies()
        sigma = solver.get_meta_strategies()
        for p in (0, 1):
            for pol in policies[p][len(plans[p]):]:
                plans[p].append(_openspiel_plans(space, pol, p, key_to_state))
        x = np.asarray(sigma[0]) @ np.asarray(plans[0])
        y = np.asarray(sigma[1]) @ np.asarray(plans[1])
        expl.append(space.exploitability(x, y))
        seconds.append(clock)
    out = {"exploitability": expl, "seconds": seconds, "setup": setup, "sims_per_entry": sims}
    if check_with_openspiel:
        from open_spiel.python.algorithms import exploitability, policy_aggregator

        with contextlib.redirect_stdout(io.StringIO()):
            aggregated = policy_aggregator.PolicyAggregator(game).aggregate(
                [0, 1], solver.get_policies(), solver.get_meta_strategies())
        out["openspiel_own_last"] = float(exploitability.exploitability(game, aggregated))
    return out


def time_to(trace: dict, level: float) -> float | None:
    """Seconds at the first iteration whose exploitability is ``<= level``."""
    for e, s in zip(trace["exploitability"], trace["seconds"]):
        if e <= level:
            return s
    return None


# --------------------------------------------------------------------------------------------
# 2. Initialisations of approximate best responses under one gradient budget
# --------------------------------------------------------------------------------------------

INITS = ("scratch", "inherit", "noisy", "fusion")


def gradient_inits(name: str, iterations: int, steps: int, lr: float) -> dict:
    """Every initialisation with one oracle (same budget). A one-iteration warm-up run compiles
    the training program first, so no initialisation's wall time carries the compilation."""
    space = as_psro_game(name)
    oracle = gradient(steps=steps, lr=lr)
    run_psro(space, 1, oracle=oracle, tol=0.0)  # warm-up: compilation only
    out = {}
    for init in INITS:
        result = run_psro(space, iterations, oracle=oracle, init=init, tol=0.0, seed=0,
                          initial=None, progress=True)
        out[init] = {"exploitability": result.exploitability.tolist(),
                     "seconds": result.seconds.tolist(),
                     "oracle_gap": list(result.state.oracle_gap)}
    return out


# --------------------------------------------------------------------------------------------
# 3. Two-team comparison: H-PSRO against Team-PSRO
# --------------------------------------------------------------------------------------------


def team_comparison(quick: bool) -> dict:
    """H-PSRO against Team-PSRO (shared and not) on two-team games: ``team_psro_bench.run``,
    which writes its own plots (``reports/psro/team_*.png``) and returns every number."""
    import team_psro_bench  # beside this script

    return team_psro_bench.run(quick)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _plot(panels: dict, path: Path, xkey: str, xlabel: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, (panel, curves) in zip(axes[0], panels.items()):
        for label, trace in curves.items():
            y = np.maximum(np.asarray(trace["exploitability"]), FLOOR)
            x = (np.arange(len(y)) if xkey == "iteration"
                 else np.maximum(np.asarray(trace["seconds"]), 1e-3))
            ax.plot(x, y, label=label, lw=1.6)
        ax.set_yscale("log")
        if xkey == "seconds":
            ax.set_xscale("log")
        ax.set_title(panel)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"exploitability (NashConv/2; {FLOOR:g} = exact 0)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: few iterations and simulations")
    parser.add_argument("--out", default="reports/psro", help="plots and JSON (reports/psro)")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    q = args.quick
    plan = {
        "kuhn_poker": dict(ours=10 if q else 30, os=5 if q else 30, sims=100 if q else 1000),
        "leduc_poker": dict(ours=40 if q else 300, os=3 if q else 50, sims=100 if q else 1000),
    }
    results = {"quick": q, "exact": {}, "gradient": {}}

    print("== 1. exact PSRO vs OpenSpiel psro_v2 (exact BR oracle, nash meta-solver) ==")
    for name, cfg in plan.items():
        ours = ours_exact(name, cfg["ours"])
        theirs = openspiel_psro(name, cfg["os"], cfg["sims"],
                                check_with_openspiel=name == "kuhn_poker")
        results["exact"][name] = {"ours": ours, "openspiel": theirs}

    print()
    print(f"{'game':<12} {'run':<22} {'it':>4} {'exploitability':>15} {'seconds':>9}")
    for name, runs in results["exact"].items():
        for label, trace in (("ours exact", runs["ours"]),
                             (f"openspiel sims={runs['openspiel']['sims_per_entry']}",
                              runs["openspiel"])):
            e, s = trace["exploitability"], trace["seconds"]
            marks = sorted({min(k, len(e) - 1) for k in (0, 5, 10, 20, 50, 100, 200, 300)})
            for k in marks:
                print(f"{name:<12} {label:<22} {k:>4} {e[k]:>15.6e} {s[k]:>9.2f}")
        own = runs["openspiel"].get("openspiel_own_last")
        if own is not None:
            print(f"{name:<12} openspiel's own PolicyAggregator exploitability at its last "
                  f"iteration: {own:.6e} (ours evaluates it as "
                  f"{runs['openspiel']['exploitability'][-1]:.6e})")

    print()
    print("targets" + (" (quick run: too few iterations for the targets, which apply to the "
                       "full run)" if q else ""))
    summary = {}
    for name, runs in results["exact"].items():
        ours, theirs = runs["ours"], runs["openspiel"]
        k = len(theirs["exploitability"]) - 1
        level = theirs["exploitability"][-1]
        t_them = theirs["seconds"][-1]
        t_us = time_to(ours, level)
        ratio = None if t_us is None else t_them / max(t_us, 1e-9)
        summary[name] = {"openspiel_iterations": k, "openspiel_level": level,
                         "openspiel_seconds": t_them, "ours_seconds_to_level": t_us,
                         "speedup": ratio, "ours_final": ours["exploitability"][-1],
                         "ours_iterations": len(ours["exploitability"]) - 1}
        ratio_text = "not reached" if ratio is None else f"{ratio:.1f}x (target >= 20x)"
        print(f"  {name}: OpenSpiel reaches {level:.4e} at iteration {k} in {t_them:.2f} s; "
              f"ours reaches it in {t_us if t_us is not None else float('nan'):.2f} s: "
              f"{ratio_text}")
        print(f"  {name}: ours after {summary[name]['ours_iterations']} iterations: "
              f"{ours['exploitability'][-1]:.4e} in {ours['seconds'][-1]:.2f} s"
              + (" (target Leduc < 0.01)" if name == "leduc_poker" else ""))
    results["summary"] = summary

    print()
    print("== 2. gradient oracle: initialisations under one budget ==")
    grad_plan = {
        "spinning_top:10_3_blotto": dict(iterations=15 if q else 60, steps=10, lr=0.1),
        "leduc_poker": dict(iterations=5 if q else 40, steps=20, lr=0.1),
    }
    for name, cfg in grad_plan.items():
        runs = gradient_inits(name, cfg["iterations"], cfg["steps"], cfg["lr"])
        results["gradient"][name] = {"budget": cfg, "runs": runs}
        finals = {init: r["exploitability"][-1] for init, r in runs.items()}
        means = {init: float(np.mean(r["exploitability"][1:])) for init, r in runs.items()}
        order = sorted(finals, key=finals.get)
        print(f"{name} ({cfg['iterations']} iterations, {cfg['steps']} Adam steps of lr "
              f"{cfg['lr']} per best response):")
        for init in INITS:
            print(f"  {init:<8} final {finals[init]:.4e}  mean over iterations "
                  f"{means[init]:.4e}  time {runs[init]['seconds'][-1]:.2f} s")
        print(f"  lowest final exploitability: {order[0]}; "
              f"lowest mean: {min(means, key=means.get)}")
        results["gradient"][name]["winner_final"] = order[0]
        results["gradient"][name]["winner_mean"] = min(means, key=means.get)

    print()
    print("== 3. two-team comparison (H-PSRO vs Team-PSRO) ==")
    results["teams"] = team_comparison(q)

    exact_panels = {
        name: {"ours (exact meta-game)": runs["ours"],
               f"OpenSpiel psro_v2 (MC, {runs['openspiel']['sims_per_entry']} sims/entry)":
                   runs["openspiel"]}
        for name, runs in results["exact"].items()
    }
    _plot(exact_panels, out_dir / "exact_per_iteration.png", "iteration", "PSRO iteration",
          "Exact PSRO vs OpenSpiel psro_v2 (exact BR, Nash meta-solver)")
    _plot(exact_panels, out_dir / "exact_per_second.png", "seconds", "wall time (s)",
          "Exact PSRO vs OpenSpiel psro_v2 (exact BR, Nash meta-solver)")
    grad_panels = {f"{name} ({g['budget']['steps']} steps/BR)": g["runs"]
                   for name, g in results["gradient"].items()}
    _plot(grad_panels, out_dir / "gradient_inits_per_iteration.png", "iteration",
          "PSRO iteration", "Gradient best responses: initialisations under one budget")
    _plot(grad_panels, out_dir / "gradient_inits_per_second.png", "seconds", "wall time (s)",
          "Gradient best responses: initialisations under one budget")
    (out_dir / "psro_bench.json").write_text(json.dumps(results, indent=1))
    print(f"\nplots and psro_bench.json written to {out_dir}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
